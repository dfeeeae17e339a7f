/**
 * Concurrency and routing end to end, through the AWS API with the AWS SDK where a user would use it:
 * reserved concurrency and its throttles, the account limit, the unreserved minimum, leases given back on
 * every way an invocation ends, and weighted aliases.
 */
import {
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  InvokeCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, FIXTURES, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';

const behaviours = `${FIXTURES}/behaviours`;

/** An SDK client that does not retry: a throttle must reach the test. */
const clientFor = (harness: TestDaemon): LambdaClient =>
  new LambdaClient({ endpoint: harness.daemon.url, region: 'us-east-1', credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' }, maxAttempts: 1 });

function create(harness: TestDaemon, name: string, handler: string, extra: Record<string, unknown> = {}) {
  return harness.daemon.service.createFunction({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: handler, Code: { Directory: behaviours }, ...extra });
}

type Outcome = { ok: true; version: string | undefined; functionError: string | undefined } | { ok: false; name: string; status: number | undefined; reason: string | undefined };

async function invoke(lambda: LambdaClient, name: string, payload: unknown = {}, qualifier?: string): Promise<Outcome> {
  try {
    const result = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: new TextEncoder().encode(JSON.stringify(payload)), ...(qualifier === undefined ? {} : { Qualifier: qualifier }) }));
    return { ok: true, version: result.ExecutedVersion, functionError: result.FunctionError };
  } catch (error: any) {
    return { ok: false, name: error.name, status: error.$metadata?.httpStatusCode, reason: error.Reason };
  }
}

describe('reserved concurrency', () => {
  let harness: TestDaemon;
  let lambda: LambdaClient;
  beforeAll(async () => {
    harness = await startDaemon();
    lambda = clientFor(harness);
  });
  afterAll(async () => {
    lambda.destroy();
    await harness.stop();
  });

  it('with 2 reserved, 5 concurrent 1-second invocations: 2 run, exactly 3 are throttled with the reserved Reason', async () => {
    create(harness, 'reserved-two', 'slow.handler', { Timeout: 5 });
    expect(await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'reserved-two', ReservedConcurrentExecutions: 2 }))).toMatchObject({ ReservedConcurrentExecutions: 2 });
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => invoke(lambda, 'reserved-two', { ms: 1000 })));
    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(2);
    const throttled = outcomes.filter((outcome) => !outcome.ok);
    expect(throttled).toHaveLength(3);
    for (const outcome of throttled) {
      expect(outcome).toEqual({ ok: false, name: 'TooManyRequestsException', status: 429, reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
    }
    // Once they finish, the reservation is free again.
    expect(await invoke(lambda, 'reserved-two', { ms: 0 })).toMatchObject({ ok: true });
  });

  it('answers a throttle over HTTP with 429, the AWS body and Retry-After', async () => {
    create(harness, 'reserved-zero', 'slow.handler');
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'reserved-zero', ReservedConcurrentExecutions: 0 }));
    const response = await fetch(`${harness.daemon.url}/2015-03-31/functions/reserved-zero/invocations`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(429);
    expect(response.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toEqual({ Type: 'User', message: 'Rate Exceeded.', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
  });

  it('keeps at least 100 unreserved, shows the pools in GetAccountSettings and GetFunction, and forgets a deleted reservation', async () => {
    create(harness, 'big-a', 'slow.handler');
    create(harness, 'big-b', 'slow.handler');
    const before = await lambda.send(new GetAccountSettingsCommand({}));
    expect(before.AccountLimit).toEqual({ TotalCodeSize: 80_530_636_800, CodeSizeUnzipped: 262_144_000, CodeSizeZipped: 52_428_800, ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 998 });
    expect(before.AccountUsage?.FunctionCount).toBeGreaterThanOrEqual(4);

    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'big-a', ReservedConcurrentExecutions: 898 }));
    expect((await lambda.send(new GetAccountSettingsCommand({}))).AccountLimit?.UnreservedConcurrentExecutions).toBe(100);
    const refused = await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'big-b', ReservedConcurrentExecutions: 1 })).catch((error) => error);
    expect(refused.name).toBe('InvalidParameterValueException');
    expect(refused.$metadata.httpStatusCode).toBe(400);
    expect(refused.message).toBe("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].");
    const negative = await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'big-b', ReservedConcurrentExecutions: -1 })).catch((error) => error);
    expect(negative.$metadata.httpStatusCode).toBe(400);
    const missing = await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'no-such-function', ReservedConcurrentExecutions: 1 })).catch((error) => error);
    expect(missing.name).toBe('ResourceNotFoundException');

    expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'big-a' }))).Concurrency).toEqual({ ReservedConcurrentExecutions: 898 });
    expect((await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'big-a' }))).ReservedConcurrentExecutions).toBe(898);
    const deleted = await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'big-a' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect((await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'big-a' }))).ReservedConcurrentExecutions).toBeUndefined();
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'big-a' }))).Concurrency).toBeUndefined();
    expect((await lambda.send(new GetAccountSettingsCommand({}))).AccountLimit?.UnreservedConcurrentExecutions).toBe(998);
  });

  it('gives the lease back however the invocation ends: error, timeout, out of memory, a crashed worker', async () => {
    const endings = [
      ['ends-thrown', 'failures.thrower', 'TypeError'],
      ['ends-timeout', 'failures.busyLoop', 'Sandbox.Timedout'],
      ['ends-oom', 'failures.heapHog', 'Runtime.OutOfMemory'],
      ['ends-exit', 'failures.exiter', 'Runtime.ExitError'],
    ] as const;
    for (const [name, handler] of endings) {
      create(harness, name, handler, { Timeout: 1 });
      await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 1 }));
      // With one reserved, the second call is admitted only if the first gave its lease back.
      for (let attempt = 0; attempt < 2; attempt++) expect(await invoke(lambda, name), `${name} call ${attempt + 1}`).toMatchObject({ ok: true, functionError: 'Unhandled' });
    }
  });

  it('keeps reservations across a restart', async () => {
    create(harness, 'kept', 'slow.handler');
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'kept', ReservedConcurrentExecutions: 3 }));
    lambda.destroy();
    harness = await harness.restart();
    lambda = clientFor(harness);
    expect((await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'kept' }))).ReservedConcurrentExecutions).toBe(3);
    expect((await invoke(lambda, 'reserved-zero')) as { reason?: string }).toMatchObject({ ok: false, reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
  });
});

describe('the account limit', () => {
  it('with an account limit of 20, the 21st concurrent invocation is throttled as ConcurrentInvocationLimitExceeded', async () => {
    const harness = await startDaemon({ 'account-concurrency': '20' });
    const lambda = clientFor(harness);
    try {
      create(harness, 'crowd', 'slow.handler', { Timeout: 10 });
      const outcomes = await Promise.all(Array.from({ length: 21 }, () => invoke(lambda, 'crowd', { ms: 1500 })));
      expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(20);
      expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([{ ok: false, name: 'TooManyRequestsException', status: 429, reason: 'ConcurrentInvocationLimitExceeded' }]);
      expect((await lambda.send(new GetAccountSettingsCommand({}))).AccountLimit).toMatchObject({ ConcurrentExecutions: 20, UnreservedConcurrentExecutions: 20 });
    } finally {
      lambda.destroy();
      await harness.stop();
    }
  });
});

describe('execution contexts follow the account limit', () => {
  it('with a limit of 3, a fourth function ends the context idle the longest instead of adding a thread', async () => {
    const harness = await startDaemon({ 'account-concurrency': '3' });
    try {
      const service = harness.daemon.service;
      const coldStart = async (name: string): Promise<boolean> => /\tInit Duration: /.test((await service.invoke({ functionName: name, payload: event({}) })).log);
      for (const name of ['first', 'second', 'third', 'fourth']) create(harness, name, 'counter.handler');
      for (const name of ['first', 'second', 'third']) expect(await coldStart(name)).toBe(true);
      expect(await coldStart('second')).toBe(false);
      expect(await coldStart('fourth')).toBe(true);
      // `first` was idle the longest: its context made room for `fourth`; the others are still warm.
      expect(await coldStart('third')).toBe(false);
      expect(await coldStart('fourth')).toBe(false);
      expect(await coldStart('first')).toBe(true);
    } finally {
      await harness.stop();
    }
  });
});

describe('weighted aliases', () => {
  let harness: TestDaemon;
  beforeAll(async () => {
    // Routing is the subject, not isolation: in a runner, a 128 MB function's CPU share (7% of a vCPU, as on
    // Lambda) would spread its 10,000 calls over minutes.
    harness = await startDaemon({ isolation: 'thread' });
  });
  afterAll(async () => harness.stop());

  it('an alias at 98/2 runs version 2 between 199 and 201 times in 10,000 invocations; after UpdateAlias the next call runs version 2', async () => {
    const service = harness.daemon.service;
    create(harness, 'canary', 'counter.handler');
    service.publishVersion('canary');
    service.updateFunctionConfiguration('canary', { Description: 'second' });
    service.publishVersion('canary');
    service.createAlias('canary', { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.02 } } });

    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const { executedVersion } = await service.invoke({ functionName: 'canary', qualifier: 'live', payload: event({}) });
      counts.set(executedVersion!, (counts.get(executedVersion!) ?? 0) + 1);
    }
    expect(counts.get('2')).toBeGreaterThanOrEqual(199);
    expect(counts.get('2')).toBeLessThanOrEqual(201);
    expect((counts.get('1') ?? 0) + (counts.get('2') ?? 0)).toBe(10_000);

    service.updateAlias('canary', 'live', { FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: {} } });
    const next = await service.invoke({ functionName: 'canary', qualifier: 'live', payload: event({}) });
    expect(next.executedVersion).toBe('2');
    expect(next.log).toMatch(/^START RequestId: \S+ Version: 2\n/);
  }, 60_000);
});
