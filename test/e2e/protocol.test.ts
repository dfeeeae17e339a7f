/**
 * The WebSocket protocol end to end, over both codecs: every operation through the SDK against a real
 * daemon, many requests in flight on one connection, typed errors, pushed log events, and frames the
 * daemon cannot read.
 */
import { zipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import { Packr } from 'msgpackr';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdadClient, LambdadError, type LogEvent } from '../../dist/clients/node/index.js';
import { FIXTURES, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { signedHeaders } from '../helpers/sigv4.js';

const decoder = new TextDecoder();
const text = (bytes: Uint8Array | undefined): string => decoder.decode(bytes);

let harness: TestDaemon;
beforeAll(async () => {
  harness = await startDaemon({ auth: 'sigv4' });
});
afterAll(async () => harness.stop());

describe.each(['msgpack', 'protobuf'] as const)('over %s', (codec) => {
  let client: LambdadClient;
  const name = (base: string): string => `${base}-${codec}`;

  beforeAll(async () => {
    client = await LambdadClient.connect({ url: harness.daemon.url, codec, credentials: harness.credentials() });
  });
  afterAll(() => client.close());

  it('runs every operation of the service', async () => {
    const fn = name('ops');
    const zip = zipSync({ 'index.js': readFileSync(`${FIXTURES}/behaviours/counter.js`) });
    const created = await client.createFunction({ FunctionName: fn, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zip }, Environment: { Variables: { STAGE: 'one' } } });
    expect(created).toMatchObject({ FunctionName: fn, State: 'Pending', Version: '$LATEST', Description: '', Timeout: 3, MemorySize: 128, Environment: { Variables: { STAGE: 'one' } } });
    expect(await client.getFunctionConfiguration({ FunctionName: fn })).toMatchObject({ State: 'Active', CodeSha256: created.CodeSha256 });
    expect((await client.listFunctions()).Functions.map((f) => f.FunctionName)).toContain(fn);

    const updated = await client.updateFunctionConfiguration({ FunctionName: fn, Description: 'second', RevisionId: created.RevisionId });
    expect(updated.Description).toBe('second');
    const recoded = await client.updateFunctionCode({ FunctionName: fn, Directory: `${FIXTURES}/behaviours`, Publish: false });
    expect(recoded.CodeSha256).not.toBe(created.CodeSha256);
    await client.updateFunctionConfiguration({ FunctionName: fn, Handler: 'counter.handler' });
    const v1 = await client.publishVersion({ FunctionName: fn });
    expect(v1.Version).toBe('1');
    await client.updateFunctionConfiguration({ FunctionName: fn, Description: 'third' });
    expect((await client.publishVersion({ FunctionName: fn, Description: 'v2' })).Version).toBe('2');
    expect((await client.listVersionsByFunction({ FunctionName: fn })).Versions.map((v) => v.Version)).toEqual(['$LATEST', '1', '2']);

    const alias = await client.createAlias({ FunctionName: fn, Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } } });
    expect(alias).toMatchObject({ Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } } });
    expect(await client.getAlias({ FunctionName: fn, Name: 'live' })).toEqual(alias);
    const moved = await client.updateAlias({ FunctionName: fn, Name: 'live', FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: {} } });
    expect(moved.FunctionVersion).toBe('2');
    expect((await client.listAliases({ FunctionName: fn })).Aliases.map((a) => a.Name)).toEqual(['live']);

    const invoked = await client.invoke(fn, { any: 'event' }, { qualifier: 'live', logType: 'Tail', clientContext: { custom: { a: 1 } } });
    expect(invoked).toMatchObject({ StatusCode: 200, ExecutedVersion: '2' });
    expect(JSON.parse(text(invoked.Payload))).toEqual({ count: 1 });
    expect(Buffer.from(invoked.LogResult!, 'base64').toString()).toMatch(new RegExp(`REPORT RequestId: ${invoked.RequestId}\\t`));
    const dry = await client.invoke(fn, {}, { invocationType: 'DryRun' });
    expect(dry.StatusCode).toBe(204);

    const logs = await client.getLogEvents({ FunctionName: fn });
    expect(logs.Events.some((event) => event.Message.startsWith(`START RequestId: ${invoked.RequestId} Version: 2`))).toBe(true);

    expect(await client.putFunctionConcurrency({ FunctionName: fn, ReservedConcurrentExecutions: 5 })).toEqual({ ReservedConcurrentExecutions: 5 });
    expect(await client.getFunctionConcurrency({ FunctionName: fn })).toEqual({ ReservedConcurrentExecutions: 5 });
    expect((await client.getAccountSettings()).AccountLimit).toMatchObject({ ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 995 });
    const details = await client.getFunction({ FunctionName: fn, Qualifier: '1' });
    expect(details).toMatchObject({ Configuration: { Version: '1' }, Code: { RepositoryType: 'S3' }, Concurrency: { ReservedConcurrentExecutions: 5 } });
    const provisioned = await client.putProvisionedConcurrencyConfig({ FunctionName: fn, Qualifier: '1', ProvisionedConcurrentExecutions: 1 });
    expect(provisioned.RequestedProvisionedConcurrentExecutions).toBe(1);
    expect((await client.listProvisionedConcurrencyConfigs({ FunctionName: fn })).ProvisionedConcurrencyConfigs).toHaveLength(1);
    expect((await client.getProvisionedConcurrencyConfig({ FunctionName: fn, Qualifier: '1' })).RequestedProvisionedConcurrentExecutions).toBe(1);
    await client.deleteProvisionedConcurrencyConfig({ FunctionName: fn, Qualifier: '1' });
    await client.deleteFunctionConcurrency({ FunctionName: fn });
    expect(await client.getFunctionConcurrency({ FunctionName: fn })).toEqual({});

    await client.deleteAlias({ FunctionName: fn, Name: 'live' });
    await client.deleteFunction({ FunctionName: fn });
    await expect(client.getFunctionConfiguration({ FunctionName: fn })).rejects.toMatchObject({ code: 'ResourceNotFoundException', status: 404 });
  });

  it('queues Event invokes whose records reach a queue, and manages configs and queues', async () => {
    const fn = name('async');
    const queue = await client.createQueue({ QueueName: name('outcomes') });
    await client.createFunction({ FunctionName: fn, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'counter.handler', Code: { Directory: `${FIXTURES}/behaviours` } });
    await client.putFunctionEventInvokeConfig({ FunctionName: fn, MaximumRetryAttempts: 1, DestinationConfig: { OnSuccess: { Destination: queue.QueueArn } } });
    expect(await client.updateFunctionEventInvokeConfig({ FunctionName: fn, MaximumEventAgeInSeconds: 600 })).toMatchObject({ MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 600 });
    expect((await client.getFunctionEventInvokeConfig({ FunctionName: fn })).DestinationConfig.OnSuccess?.Destination).toBe(queue.QueueArn);
    expect((await client.listFunctionEventInvokeConfigs({ FunctionName: fn })).FunctionEventInvokeConfigs).toHaveLength(1);

    const queued = await client.invoke(fn, { via: codec }, { invocationType: 'Event' });
    expect(queued.StatusCode).toBe(202);
    let messages: Awaited<ReturnType<LambdadClient['receiveMessage']>>['Messages'] = [];
    const deadline = Date.now() + 15_000;
    while (messages.length === 0 && Date.now() < deadline) {
      messages = (await client.receiveMessage({ QueueName: queue.QueueArn, MaxNumberOfMessages: 10 })).Messages ?? [];
      if (messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(JSON.parse(messages[0]!.Body)).toMatchObject({ requestContext: { requestId: queued.RequestId, condition: 'Success' }, requestPayload: { via: codec } });
    await client.deleteMessage({ QueueName: queue.QueueName, ReceiptHandle: messages[0]!.ReceiptHandle });
    expect((await client.sendMessage({ QueueName: queue.QueueName, MessageBody: 'hello' })).MessageId).toEqual(expect.any(String));
    expect((await client.listQueues()).Queues.map((q) => q.QueueName)).toContain(queue.QueueName);
    await client.deleteFunctionEventInvokeConfig({ FunctionName: fn });
    await client.deleteQueue({ QueueName: queue.QueueName });
    await expect(client.receiveMessage({ QueueName: queue.QueueName })).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
  });

  it('answers 256 invocations in flight on one connection, each with its own result', async () => {
    const fn = name('echo');
    // 256 cold starts at once on a 2-core machine: the time limit is for the machine, not the function.
    await client.createFunction({ FunctionName: fn, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'esm/nested/deep.handlers.main', Code: { Directory: `${FIXTURES}/behaviours` }, Timeout: 120 });
    const results = await Promise.all(Array.from({ length: 256 }, (_, i) => client.invoke(fn, { i })));
    results.forEach((result, i) => expect(JSON.parse(text(result.Payload))).toEqual({ esm: true, echo: { i } }));
    expect(new Set(results.map((result) => result.RequestId)).size).toBe(256);
  });

  it('takes a member the caller left undefined as absent', async () => {
    const fn = name('undefined-member');
    await client.createFunction({ FunctionName: fn, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'counter.handler', Code: { Directory: `${FIXTURES}/behaviours` }, Description: undefined });
    expect(await client.getFunctionConfiguration({ FunctionName: fn, Qualifier: undefined })).toMatchObject({ FunctionName: fn, Version: '$LATEST' });
  });

  it('gives function errors as results and API errors as typed LambdadErrors', async () => {
    const fn = name('thrower');
    await client.createFunction({ FunctionName: fn, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'failures.thrower', Code: { Directory: `${FIXTURES}/behaviours` } });
    const failed = await client.invoke(fn);
    expect(failed.FunctionError).toBe('Unhandled');
    expect(JSON.parse(text(failed.Payload)).errorType).toBe('TypeError');
    const error = await client.createFunction({ FunctionName: 'bad name!', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'a.b', Code: { Directory: FIXTURES } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LambdadError);
    expect(error).toMatchObject({ code: 'ValidationException', status: 400 });
    await expect(client.invoke(fn, '{not json')).rejects.toMatchObject({ code: 'InvalidRequestContentException' });
  });

  it('pushes log events to a tail subscription until it stops', async () => {
    const fn = name('tailed');
    await client.createFunction({ FunctionName: fn, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'logs.handler', Code: { Directory: `${FIXTURES}/behaviours` } });
    const events: LogEvent[] = [];
    const tail = await client.tailLogs(fn, (event) => events.push(event));
    expect(tail.logGroupName).toBe(`/aws/lambda/${fn}`);
    const { RequestId } = await client.invoke(fn, { name: 'tail' });
    await expect.poll(() => events.some((event) => event.Message.startsWith(`REPORT RequestId: ${RequestId}`))).toBe(true);
    expect(events.map((event) => event.Message)).toContainEqual(expect.stringContaining("INFO\thello { from: 'tail' }"));
    await tail.stop();
    const seen = events.length;
    await client.invoke(fn, { name: 'after' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events.length).toBe(seen);
  });
});

describe('frames the daemon cannot read', () => {
  const packr = new Packr({ useRecords: false });
  async function raw(protocol = 'lambdad.v1.msgpack'): Promise<WebSocket> {
    const url = `${harness.daemon.url.replace('http', 'ws')}/ws`;
    const ws = new WebSocket(url, protocol, { headers: await signedHeaders(url, harness.credentials()) });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  }
  const nextMessage = (ws: WebSocket): Promise<any> => new Promise((resolve) => ws.once('message', (data: Buffer) => resolve(packr.unpack(data))));
  const closed = (ws: WebSocket): Promise<number> => new Promise((resolve) => ws.once('close', (code) => resolve(code)));

  it('answers an unknown operation and a wrong type with typed errors, and keeps the connection', async () => {
    const ws = await raw();
    ws.send(packr.pack({ id: 7, Frobnicate: {} }));
    expect((await nextMessage(ws)).response).toMatchObject({ id: 7, Error: { Code: 'UnknownOperationException', Message: 'Unknown operation: Frobnicate', Status: 400 } });
    ws.send(packr.pack({ id: 8, GetAlias: { FunctionName: 42, Name: 'x' } }));
    expect((await nextMessage(ws)).response).toMatchObject({ id: 8, Error: { Code: 'SerializationException', Status: 400 } });
    ws.send(packr.pack({ id: 9, GetAlias: { FunctionName: 'nope', Name: 'x', Extra: 'ignored' } }));
    expect((await nextMessage(ws)).response).toMatchObject({ id: 9, Error: { Code: 'ResourceNotFoundException' } });
    ws.close();
  });

  it('refuses bytes that are not bytes, answers a missing member as AWS does, and reads nil as absent', async () => {
    const ws = await raw();
    const started = Date.now();
    ws.send(packr.pack({ id: 1, Invoke: { FunctionName: 'f', Payload: { length: 300_000_000 } } }));
    expect((await nextMessage(ws)).response).toMatchObject({ id: 1, Error: { Code: 'SerializationException', Message: 'Malformed request: payload must be bytes' } });
    expect(Date.now() - started).toBeLessThan(1_000);
    ws.send(packr.pack({ id: 2, GetFunctionConfiguration: {} }));
    expect((await nextMessage(ws)).response).toMatchObject({
      id: 2,
      Error: { Code: 'ValidationException', Status: 400, Message: "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null" },
    });
    ws.send(packr.pack({ id: 3, GetFunctionConfiguration: { FunctionName: 'nope', Qualifier: null } }));
    expect((await nextMessage(ws)).response).toMatchObject({ id: 3, Error: { Code: 'ResourceNotFoundException' } });
    ws.close();
  });

  it('closes with 1007 on a frame that is not a request at all, and 1003 on a text frame', async () => {
    const garbage = await raw();
    const garbageClosed = closed(garbage);
    garbage.send(Buffer.from([0xc1, 0xff, 0x00]));
    expect(await garbageClosed).toBe(1007);
    const textual = await raw();
    const textClosed = closed(textual);
    textual.send('{"id":1}');
    expect(await textClosed).toBe(1003);
  });
});
