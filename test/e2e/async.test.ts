/**
 * Asynchronous invocation end to end, through the AWS API (AWS SDK) and lambdad's queues: 202 and a run,
 * retries with the configured gaps and the same request id, destination records, event age, throttled events
 * kept queued, dead-letter queues, a function as a destination.
 */
import {
  DeleteFunctionConcurrencyCommand,
  GetFunctionEventInvokeConfigCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionEventInvokeConfigsCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionConfigurationCommand,
  UpdateFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:';
const RETRY_DELAY_MS = 400;

/** A clock the test can move forward; time otherwise passes as usual. */
const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };

let harness: TestDaemon;
let lambda: LambdaClient;
let work: string;

beforeAll(async () => {
  // Thread isolation: these handlers record each run in a file of the test's, which a sandboxed runner cannot
  // reach. What is under test is the event queue, the same in both modes.
  harness = await startDaemon({ isolation: 'thread', 'async-retry-delay-ms': String(RETRY_DELAY_MS) }, undefined, { clock });
  lambda = new LambdaClient({ endpoint: harness.daemon.url, region: 'us-east-1', credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' }, maxAttempts: 1 });
  work = mkdtempSync(join(tmpdir(), 'lambdad-async-'));
});
afterAll(async () => {
  lambda.destroy();
  await harness.stop();
  rmSync(work, { recursive: true, force: true });
});

function create(name: string, handler = 'journal.handler', extra: Record<string, unknown> = {}): void {
  harness.daemon.service.createFunction({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: handler, Code: { Directory: `${FIXTURES}/behaviours` }, ...extra });
}

async function invokeEvent(name: string, event: unknown): Promise<string> {
  const result = await lambda.send(new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }));
  expect(result.StatusCode).toBe(202);
  expect(result.Payload?.byteLength ?? 0).toBe(0);
  return result.$metadata.requestId!;
}

/** The next message of a queue, waiting for it (bounded). */
async function nextMessage(queue: string, timeoutMs = 15_000): Promise<{ Body: string; MessageAttributes?: Record<string, { StringValue: string }> }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [message] = harness.daemon.service.receiveMessages(queue, 1);
    if (message !== undefined) {
      harness.daemon.service.deleteMessage(queue, message.ReceiptHandle);
      return message;
    }
    if (Date.now() > deadline) throw new Error(`no message on ${queue} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const runsOf = (file: string): string[] => {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

describe('Event invocations', () => {
  it('answers 202 once the event is kept, runs it, and sends the success record to the OnSuccess queue', async () => {
    create('async-ok');
    harness.daemon.service.createQueue('ok-results');
    const config = await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'async-ok', DestinationConfig: { OnSuccess: { Destination: `${QUEUE_ARN}ok-results` } } }));
    expect(config).toMatchObject({ FunctionArn: `${ARN}async-ok:$LATEST`, DestinationConfig: { OnSuccess: { Destination: `${QUEUE_ARN}ok-results` }, OnFailure: {} } });
    expect(typeof config.LastModified).toBe('object'); // the SDK turns epoch seconds into a Date

    const file = join(work, 'ok.log');
    const requestId = await invokeEvent('async-ok', { file, note: 'hello' });
    const record = JSON.parse((await nextMessage('ok-results')).Body);
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: { requestId, functionArn: `${ARN}async-ok:$LATEST`, condition: 'Success', approximateInvokeCount: 1 },
      requestPayload: { file, note: 'hello' },
      responseContext: { statusCode: 200, executedVersion: '$LATEST' },
      responsePayload: { ran: requestId },
    });
    expect(record.responseContext.functionError).toBeUndefined();
    expect(runsOf(file)).toEqual([requestId]);
  });

  it('retries a failing function MaximumRetryAttempts times after 1× and 2× the delay, with one request id, then sends RetriesExhausted', async () => {
    create('async-fails');
    harness.daemon.service.createQueue('failures');
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'async-fails', MaximumRetryAttempts: 2, DestinationConfig: { OnFailure: { Destination: `${QUEUE_ARN}failures` } } }));
    const file = join(work, 'fails.log');
    const requestId = await invokeEvent('async-fails', { file, fail: 'always' });
    const record = JSON.parse((await nextMessage('failures')).Body);
    expect(record).toMatchObject({
      requestContext: { requestId, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'Error', errorMessage: 'failing on purpose: always' },
    });
    expect(runsOf(file)).toEqual([requestId, requestId, requestId]);

    const starts = harness.daemon.service
      .getLogEvents({ logGroupName: '/aws/lambda/async-fails' })
      .filter((event) => event.message.startsWith(`START RequestId: ${requestId} `))
      .map((event) => event.timestamp);
    expect(starts).toHaveLength(3);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(RETRY_DELAY_MS);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(2 * RETRY_DELAY_MS);
  });

  it('keeps events queued under reserved concurrency 0, runs them once it is raised, and expires them at their maximum age', async () => {
    create('async-held');
    harness.daemon.service.createQueue('held-results');
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'async-held', MaximumEventAgeInSeconds: 60, DestinationConfig: { OnSuccess: { Destination: `${QUEUE_ARN}held-results` }, OnFailure: { Destination: `${QUEUE_ARN}held-results` } } }));
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'async-held', ReservedConcurrentExecutions: 0 }));
    const file = join(work, 'held.log');

    const expiring = await invokeEvent('async-held', { file, n: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(runsOf(file)).toEqual([]);
    clock.offsetMs += 61_000;
    const expired = JSON.parse((await nextMessage('held-results')).Body);
    expect(expired).toMatchObject({ requestContext: { requestId: expiring, condition: 'EventAgeExceeded', approximateInvokeCount: 0 }, requestPayload: { file, n: 1 } });
    expect(expired.responseContext).toBeUndefined();

    const waiting = await invokeEvent('async-held', { file, n: 2 });
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(runsOf(file)).toEqual([]);
    await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'async-held' }));
    const ran = JSON.parse((await nextMessage('held-results')).Body);
    expect(ran).toMatchObject({ requestContext: { requestId: waiting, condition: 'Success', approximateInvokeCount: 1 } });
    expect(runsOf(file)).toEqual([waiting]);
  });

  it("sends a failed event to the function's dead-letter queue with its request id and error", async () => {
    create('async-dlq', 'journal.handler', { DeadLetterConfig: { TargetArn: `${QUEUE_ARN}dead-letters` } });
    harness.daemon.service.createQueue('dead-letters');
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'async-dlq', MaximumRetryAttempts: 0 }));
    const file = join(work, 'dlq.log');
    const payload = { file, fail: 'dead' };
    const requestId = await invokeEvent('async-dlq', payload);
    const letter = await nextMessage('dead-letters');
    expect(JSON.parse(letter.Body)).toEqual(payload);
    expect(letter.MessageAttributes).toEqual({
      RequestID: { DataType: 'String', StringValue: requestId },
      ErrorCode: { DataType: 'Number', StringValue: '200' },
      ErrorMessage: { DataType: 'String', StringValue: 'failing on purpose: dead' },
    });
    expect(runsOf(file)).toEqual([requestId]);
    const refused = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'async-dlq', DeadLetterConfig: { TargetArn: 'arn:aws:sns:us-east-1:000000000000:topic' } })).catch((error) => error);
    expect(refused.name).toBe('InvalidParameterValueException');
  });

  it('invokes a destination function with the record as its event', async () => {
    create('async-source');
    create('async-sink', 'journal.handler');
    harness.daemon.service.createQueue('sink-results');
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'async-source', DestinationConfig: { OnSuccess: { Destination: `${ARN}async-sink` } } }));
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'async-sink', DestinationConfig: { OnFailure: { Destination: `${QUEUE_ARN}sink-results` } } }));
    const file = join(work, 'chain.log');
    const requestId = await invokeEvent('async-source', { file });
    // The sink fails (the record has no `file`), so its own failure record carries the source's record.
    const sinkRecord = JSON.parse((await nextMessage('sink-results')).Body);
    expect(sinkRecord.requestPayload).toMatchObject({ requestContext: { requestId, condition: 'Success', functionArn: `${ARN}async-source:$LATEST` } });
  });
});

describe('event-invoke configs', () => {
  it('puts, updates (merging), gets, lists and deletes; refuses bad values and itself as a destination', async () => {
    create('configured');
    harness.daemon.service.publishVersion('configured');
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'configured', Qualifier: '1', MaximumRetryAttempts: 1 }));
    const updated = await lambda.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'configured', Qualifier: '1', MaximumEventAgeInSeconds: 3600 }));
    expect(updated).toMatchObject({ FunctionArn: `${ARN}configured:1`, MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 3600 });
    const replaced = await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'configured', Qualifier: '1', MaximumEventAgeInSeconds: 120 }));
    expect(replaced.MaximumRetryAttempts).toBeUndefined();
    expect((await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'configured', Qualifier: '1' }))).MaximumEventAgeInSeconds).toBe(120);
    const listed = await lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'configured' }));
    expect(listed.FunctionEventInvokeConfigs?.map((c) => c.FunctionArn)).toEqual([`${ARN}configured:1`]);

    const tooMany = await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'configured', MaximumRetryAttempts: 3 })).catch((error) => error);
    expect(tooMany.name).toBe('ValidationException');
    const tooYoung = await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'configured', MaximumEventAgeInSeconds: 59 })).catch((error) => error);
    expect(tooYoung.name).toBe('ValidationException');
    const itself = await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'configured', DestinationConfig: { OnFailure: { Destination: `${ARN}configured` } } })).catch((error) => error);
    expect(itself).toMatchObject({ name: 'InvalidParameterValueException', message: "You can't specify the function as a destination for itself." });
    const missing = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'configured' })).catch((error) => error);
    expect(missing.name).toBe('ResourceNotFoundException');
    expect(missing.message).toBe(`The function ${ARN}configured:$LATEST doesn't have an EventInvokeConfig`);

    const event = await lambda.send(new InvokeCommand({ FunctionName: 'configured', InvocationType: 'Event', Payload: new TextEncoder().encode('{not json') })).catch((error) => error);
    expect(event.name).toBe('InvalidRequestContentException');
    const big = await lambda.send(new InvokeCommand({ FunctionName: 'configured', InvocationType: 'Event', Payload: new Uint8Array(1_048_577).fill(0x20) })).catch((error) => error);
    expect(big).toMatchObject({ name: 'RequestEntityTooLargeException', message: 'Request must be smaller than 1048576 bytes for the InvokeFunction operation' });
  });
});
