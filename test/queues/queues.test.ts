/**
 * Durable message queues: queue lifecycle, ARNs, send/receive order, visibility timeouts on a fake clock,
 * deletion by receipt handle, validation, and what survives a close or a SIGKILL.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { randomIds } from '../../dist/daemon/clock.js';
import { LambdaError } from '../../dist/daemon/errors.js';
import { LIMITS } from '../../dist/daemon/limits.js';
import { Queues } from '../../dist/daemon/queues/index.js';

const QUEUE_MESSAGE_MAX_BYTES = LIMITS.queueMessageMaxBytes;
import { runUntilFirstLineThenKill } from '../helpers/killed-child.js';

const QUEUES_MODULE = fileURLToPath(new URL('../../dist/daemon/queues/index.js', import.meta.url));
const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const ARN_PREFIX = `arn:aws:sqs:${REGION}:${ACCOUNT}:`;
/** 2018-12-06T07:03:10.353Z */
const START_MS = 1_544_079_790_353;

const directories: string[] = [];
const open: Queues[] = [];

afterEach(() => {
  for (const queues of open.splice(0)) {
    try {
      queues.close();
    } catch {
      // Already closed by the test.
    }
  }
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function temporaryDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'lambdad-queues-'));
  directories.push(directory);
  return directory;
}

interface TestQueues {
  readonly queues: Queues;
  readonly dataDir: string;
  readonly clock: { now(): number; advance(ms: number): void };
}

function openQueues(dataDir = temporaryDirectory(), clock = fakeClock()): TestQueues {
  const queues = Queues.open({ dataDir, region: REGION, accountId: ACCOUNT, clock, ids: randomIds });
  open.push(queues);
  return { queues, dataDir, clock };
}

function fakeClock() {
  let t = START_MS;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

function errorOf(work: () => unknown): LambdaError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(LambdaError);
    return error as LambdaError;
  }
  throw new Error('expected a LambdaError');
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('queues', () => {
  it('creates, lists, gets and deletes queues', () => {
    const { queues, clock } = openQueues();
    const created = queues.createQueue('beta', 60);
    expect(created).toEqual({
      QueueName: 'beta',
      QueueArn: `${ARN_PREFIX}beta`,
      CreatedTimestamp: Math.floor(START_MS / 1000),
      VisibilityTimeout: 60,
      ApproximateNumberOfMessages: 0,
      ApproximateNumberOfMessagesNotVisible: 0,
    });
    clock.advance(5_000);
    expect(queues.createQueue('alpha').VisibilityTimeout).toBe(30);
    // The same name again is the same queue, with its first timestamp.
    expect(queues.createQueue('beta')).toEqual(created);
    expect(queues.createQueue('beta', 60)).toEqual(created);
    expect(errorOf(() => queues.createQueue('beta', 61)).code).toBe('ResourceConflictException');

    expect(queues.listQueues().map((queue) => queue.QueueName)).toEqual(['alpha', 'beta']);
    expect(queues.getQueue('beta')).toEqual(created);
    expect(queues.getQueue(`${ARN_PREFIX}alpha`).QueueName).toBe('alpha');

    queues.sendMessage('beta', 'goes with its queue');
    queues.deleteQueue('beta');
    expect(queues.listQueues().map((queue) => queue.QueueName)).toEqual(['alpha']);
    const missing = errorOf(() => queues.getQueue('beta'));
    expect(missing.code).toBe('ResourceNotFoundException');
    expect(missing.message).toBe('Queue not found: beta');
    expect(errorOf(() => queues.deleteQueue('beta')).code).toBe('ResourceNotFoundException');
    expect(errorOf(() => queues.sendMessage('beta', 'x')).code).toBe('ResourceNotFoundException');
    expect(errorOf(() => queues.receiveMessages('beta')).code).toBe('ResourceNotFoundException');

    // A queue made again under the old name starts empty.
    expect(queues.createQueue('beta').ApproximateNumberOfMessages).toBe(0);
    expect(queues.receiveMessages('beta')).toEqual([]);
  });

  it('resolves names and ARNs of this region and account only', () => {
    const { queues } = openQueues();
    expect(queues.resolve('dlq')).toBe('dlq');
    expect(queues.resolve(`${ARN_PREFIX}dlq`)).toBe('dlq');
    for (const foreign of [
      `arn:aws:sqs:eu-west-1:${ACCOUNT}:dlq`,
      `arn:aws:sqs:${REGION}:210987654321:dlq`,
      `arn:aws-cn:sqs:${REGION}:${ACCOUNT}:dlq`,
      `arn:aws:sns:${REGION}:${ACCOUNT}:dlq`,
      `${ARN_PREFIX}`,
      `${ARN_PREFIX}bad/name`,
      'arn:nonsense',
    ]) {
      expect(errorOf(() => queues.resolve(foreign)).code, foreign).toBe('InvalidParameterValueException');
    }
    expect(errorOf(() => queues.resolve('bad name')).code).toBe('ValidationException');
  });

  it('hands out messages oldest first, with their md5, attributes and timestamps', () => {
    const { queues, clock } = openQueues();
    queues.createQueue('work');
    const sent = ['one', 'two', 'three'].map((body) => {
      clock.advance(1);
      return queues.sendMessage('work', body);
    });
    expect(sent[0]!.MD5OfMessageBody).toBe(md5('one'));
    expect(sent[0]!.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(queues.sendMessage(`${ARN_PREFIX}work`, '{"n":4}', { kind: { DataType: 'String', StringValue: 'json' }, n: { DataType: 'Number', StringValue: '4' } }).MD5OfMessageBody).toBe(md5('{"n":4}'));
    expect(queues.getQueue('work').ApproximateNumberOfMessages).toBe(4);

    clock.advance(10);
    const first = queues.receiveMessages('work');
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      MessageId: sent[0]!.MessageId,
      Body: 'one',
      MD5OfBody: md5('one'),
      Attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(START_MS + 1), ApproximateFirstReceiveTimestamp: String(START_MS + 13) },
    });
    expect(first[0]!.MessageAttributes).toBeUndefined();

    const rest = queues.receiveMessages('work', 10);
    expect(rest.map((message) => message.Body)).toEqual(['two', 'three', '{"n":4}']);
    expect(rest[2]!.MessageAttributes).toEqual({ kind: { DataType: 'String', StringValue: 'json' }, n: { DataType: 'Number', StringValue: '4' } });
    expect(new Set([...first, ...rest].map((message) => message.ReceiptHandle)).size).toBe(4);
    expect(queues.receiveMessages('work', 10)).toEqual([]);
    expect(queues.getQueue('work')).toMatchObject({ ApproximateNumberOfMessages: 0, ApproximateNumberOfMessagesNotVisible: 4 });
  });

  it('brings a received message back after its visibility timeout, with a new receipt handle', () => {
    const { queues, clock } = openQueues();
    queues.createQueue('slow', 30);
    queues.sendMessage('slow', 'retry me');
    const [first] = queues.receiveMessages('slow');
    expect(first!.Attributes.ApproximateReceiveCount).toBe('1');

    clock.advance(29_999);
    expect(queues.receiveMessages('slow')).toEqual([]);
    expect(queues.getQueue('slow')).toMatchObject({ ApproximateNumberOfMessages: 0, ApproximateNumberOfMessagesNotVisible: 1 });

    clock.advance(1);
    expect(queues.getQueue('slow')).toMatchObject({ ApproximateNumberOfMessages: 1, ApproximateNumberOfMessagesNotVisible: 0 });
    const [second] = queues.receiveMessages('slow');
    expect(second).toMatchObject({ MessageId: first!.MessageId, Body: 'retry me' });
    expect(second!.Attributes.ApproximateReceiveCount).toBe('2');
    expect(second!.Attributes.ApproximateFirstReceiveTimestamp).toBe(String(START_MS));
    expect(second!.ReceiptHandle).not.toBe(first!.ReceiptHandle);

    const stale = errorOf(() => queues.deleteMessage('slow', first!.ReceiptHandle));
    expect(stale.code).toBe('InvalidParameterValueException');
    expect(stale.message).toBe(`The receipt handle is not valid: ${first!.ReceiptHandle}`);
    queues.deleteMessage('slow', second!.ReceiptHandle);
    clock.advance(60_000);
    expect(queues.receiveMessages('slow')).toEqual([]);
    expect(queues.getQueue('slow')).toMatchObject({ ApproximateNumberOfMessages: 0, ApproximateNumberOfMessagesNotVisible: 0 });
  });

  it('takes a visibility timeout per receive', () => {
    const { queues, clock } = openQueues();
    queues.createQueue('q', 600);
    queues.sendMessage('q', 'a');
    queues.receiveMessages('q', 1, 5);
    clock.advance(5_000);
    expect(queues.receiveMessages('q', 1, 0)[0]!.Attributes.ApproximateReceiveCount).toBe('2');
    // A zero timeout leaves the message visible at once.
    expect(queues.receiveMessages('q')[0]!.Attributes.ApproximateReceiveCount).toBe('3');
    expect(queues.receiveMessages('q')).toEqual([]);
  });

  it('deletes a message only with a handle of its own queue', () => {
    const { queues } = openQueues();
    queues.createQueue('a');
    queues.createQueue('b');
    queues.sendMessage('a', 'x');
    const [message] = queues.receiveMessages('a');
    expect(errorOf(() => queues.deleteMessage('b', message!.ReceiptHandle)).code).toBe('InvalidParameterValueException');
    expect(errorOf(() => queues.deleteMessage('a', 'nonsense')).code).toBe('InvalidParameterValueException');
    queues.deleteMessage('a', message!.ReceiptHandle);
    expect(errorOf(() => queues.deleteMessage('a', message!.ReceiptHandle)).code).toBe('InvalidParameterValueException');
  });

  it('rejects bad names, sizes and counts', () => {
    const { queues } = openQueues();
    for (const name of ['', 'a'.repeat(81), 'has space', 'dot.fifo', 'slash/name']) {
      const error = errorOf(() => queues.createQueue(name));
      expect(error.code, name).toBe('ValidationException');
      expect(error.message).toContain('[A-Za-z0-9_-]{1,80}');
    }
    expect(queues.createQueue('a'.repeat(80)).QueueName).toHaveLength(80);
    for (const seconds of [-1, 43_201, 1.5]) {
      expect(errorOf(() => queues.createQueue('q', seconds)).code).toBe('ValidationException');
    }
    queues.createQueue('q', 43_200);

    expect(errorOf(() => queues.sendMessage('q', '')).code).toBe('ValidationException');
    queues.sendMessage('q', 'x'.repeat(QUEUE_MESSAGE_MAX_BYTES));
    const tooBig = errorOf(() => queues.sendMessage('q', 'x'.repeat(QUEUE_MESSAGE_MAX_BYTES + 1)));
    expect(tooBig.code).toBe('InvalidParameterValueException');
    expect(tooBig.message).toContain(String(QUEUE_MESSAGE_MAX_BYTES));
    // Bytes, not characters: 'é' is two bytes in UTF-8.
    expect(errorOf(() => queues.sendMessage('q', 'é'.repeat(QUEUE_MESSAGE_MAX_BYTES / 2 + 1))).code).toBe('InvalidParameterValueException');
    // Attributes count toward the limit.
    const nearlyFull = 'x'.repeat(QUEUE_MESSAGE_MAX_BYTES - 5);
    expect(errorOf(() => queues.sendMessage('q', nearlyFull, { k: { DataType: 'String', StringValue: 'v' } })).code).toBe('InvalidParameterValueException');
    expect(errorOf(() => queues.sendMessage('q', 'x', { n: { DataType: 'Number', StringValue: 'four' } })).code).toBe('InvalidParameterValueException');
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, { DataType: 'String' as const, StringValue: 'v' }]));
    expect(errorOf(() => queues.sendMessage('q', 'x', eleven)).code).toBe('InvalidParameterValueException');

    for (const count of [0, 11, 2.5]) {
      expect(errorOf(() => queues.receiveMessages('q', count)).code).toBe('ValidationException');
    }
    expect(errorOf(() => queues.receiveMessages('q', 1, 43_201)).code).toBe('ValidationException');
    expect(queues.getQueue('q').ApproximateNumberOfMessages).toBe(1);
  });
});

describe('durability', () => {
  it('keeps queues, messages and receive state across a close', () => {
    const clock = fakeClock();
    const first = openQueues(undefined, clock);
    first.queues.createQueue('keep', 45);
    first.queues.sendMessage('keep', 'a');
    first.queues.sendMessage('keep', 'b', { k: { DataType: 'String', StringValue: 'v' } });
    const [received] = first.queues.receiveMessages('keep');
    first.queues.close();

    const { queues } = openQueues(first.dataDir, clock);
    expect(queues.getQueue('keep')).toMatchObject({ VisibilityTimeout: 45, ApproximateNumberOfMessages: 1, ApproximateNumberOfMessagesNotVisible: 1 });
    expect(queues.receiveMessages('keep')[0]).toMatchObject({ Body: 'b', MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } } });
    clock.advance(45_000);
    const [again] = queues.receiveMessages('keep');
    expect(again).toMatchObject({ MessageId: received!.MessageId, Body: 'a', Attributes: { ApproximateReceiveCount: '2' } });
  });

  it('keeps a message sent right before the process was killed with SIGKILL', async () => {
    const dataDir = temporaryDirectory();
    const script = `
      const { Queues } = await import(${JSON.stringify(QUEUES_MODULE)});
      const clock = { now: () => Date.now() };
      const ids = { uuid: () => crypto.randomUUID(), hex: (n) => Buffer.from(crypto.getRandomValues(new Uint8Array(n))).toString('hex') };
      const queues = Queues.open({ dataDir: process.env.DATA_DIR, region: ${JSON.stringify(REGION)}, accountId: ${JSON.stringify(ACCOUNT)}, clock, ids });
      queues.createQueue('dlq');
      const sent = queues.sendMessage('dlq', 'last words');
      process.stdout.write(JSON.stringify(sent) + '\\n');
      setInterval(() => {}, 1000);
    `;
    const { line, signal } = await runUntilFirstLineThenKill(script, { DATA_DIR: dataDir });
    expect(signal).toBe('SIGKILL');

    const sent = JSON.parse(line) as { MessageId: string };
    const { queues } = openQueues(dataDir, { now: () => Date.now(), advance: () => undefined });
    expect(queues.receiveMessages('dlq')[0]).toMatchObject({ MessageId: sent.MessageId, Body: 'last words', MD5OfBody: md5('last words') });
  });
});
