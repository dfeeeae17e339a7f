/**
 * Capacity that fits the host, with a real daemon: at most `--max-contexts` execution contexts serve functions;
 * past it, idle contexts of other functions make room, then invocations are throttled with the
 * `HostCapacityExceeded` reason (over the REST API and the WebSocket protocol, and counted as throttles); after
 * a burst, idle contexts above half the cap are reaped long before the keep-warm period; the default follows
 * the host's memory.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdadClient, LambdadError } from '../../dist/clients/node/index.js';
import { event, FIXTURES, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { parsePrometheus } from '../helpers/prometheus.js';

const behaviours = `${FIXTURES}/behaviours`;
const REASON = 'HostCapacityExceeded';

function create(harness: TestDaemon, name: string): void {
  harness.daemon.service.createFunction({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'slow.handler', Code: { Directory: behaviours }, Timeout: 10 });
}

/** One sample of the daemon's /metrics (summed over the samples whose labels include `labels`). */
async function metric(harness: TestDaemon, name: string, labels: Record<string, string> = {}): Promise<number> {
  const scrape = parsePrometheus(await (await fetch(`${harness.daemon.url}/metrics`)).text());
  return scrape.samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted)).reduce((sum, sample) => sum + sample.value, 0);
}

/** A direct invocation: true if it started a context (its log has an Init Duration). */
async function coldStart(harness: TestDaemon, name: string, ms: number): Promise<boolean> {
  return /\tInit Duration: /.test((await harness.daemon.service.invoke({ functionName: name, payload: event({ ms }) })).log);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('--max-contexts 4 (thread isolation)', () => {
  let harness: TestDaemon;
  let lambda: LambdaClient;
  beforeAll(async () => {
    harness = await startDaemon({ isolation: 'thread', 'max-contexts': '4' });
    // No retries: a throttle must reach the test.
    lambda = new LambdaClient({ endpoint: harness.daemon.url, region: 'us-east-1', credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    lambda.destroy();
    await harness.stop();
  });

  it('runs 4 of 20 concurrent invocations; the other 16 get 429 HostCapacityExceeded, counted as throttles', async () => {
    create(harness, 'crowd');
    expect(await metric(harness, 'lambdad_execution_contexts_limit')).toBe(4);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        lambda.send(new InvokeCommand({ FunctionName: 'crowd', Payload: event({ ms: 3000 }) })).then(
          () => 'ran',
          (error) => `${error.name} ${error.$metadata?.httpStatusCode} ${error.Reason} ${error.message}`,
        ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === 'ran')).toHaveLength(4);
    expect(outcomes.filter((outcome) => outcome !== 'ran')).toEqual(Array(16).fill(`TooManyRequestsException 429 ${REASON} Rate Exceeded.`));
    expect(await metric(harness, 'lambda_throttles_total', { function_name: 'crowd', reason: REASON })).toBe(16);
  });

  it('answers the throttle over HTTP with 429, the AWS body with its Reason, and Retry-After', async () => {
    const running = Array.from({ length: 4 }, () => harness.daemon.service.invoke({ functionName: 'crowd', payload: event({ ms: 2000 }) }));
    await sleep(500);
    const response = await fetch(`${harness.daemon.url}/2015-03-31/functions/crowd/invocations`, { method: 'POST', body: '{"ms":0}' });
    expect(response.status).toBe(429);
    expect(response.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toEqual({ Type: 'User', message: 'Rate Exceeded.', Reason: REASON });
    await Promise.all(running);
  });

  it('keeps an Event invoke that finds the host full, and runs it once a context is free', async () => {
    const throttled = await metric(harness, 'lambda_throttles_total', { function_name: 'crowd', reason: REASON });
    const invoked = await metric(harness, 'lambda_invocations_total', { function_name: 'crowd' });
    const running = Array.from({ length: 4 }, () => harness.daemon.service.invoke({ functionName: 'crowd', payload: event({ ms: 1500 }) }));
    await sleep(300);
    expect((await harness.daemon.service.invoke({ functionName: 'crowd', invocationType: 'Event', payload: event({ ms: 0 }) })).statusCode).toBe(202);
    await Promise.all(running);
    // Throttled attempts go back to the queue with a backoff from 1 s; the event runs once there is room.
    const deadline = Date.now() + 20_000;
    while ((await metric(harness, 'lambda_invocations_total', { function_name: 'crowd' })) < invoked + 5 && Date.now() < deadline) await sleep(200);
    expect(await metric(harness, 'lambda_invocations_total', { function_name: 'crowd' })).toBe(invoked + 5);
    expect(await metric(harness, 'lambda_throttles_total', { function_name: 'crowd', reason: REASON })).toBeGreaterThan(throttled);
  });

  it('ends idle contexts of another function to make room before it throttles', async () => {
    create(harness, 'idle-first');
    create(harness, 'busy-second');
    // Four contexts of the first function, idle once these return.
    await Promise.all(Array.from({ length: 4 }, () => coldStart(harness, 'idle-first', 300)));
    // The second function gets all four places: each of its cold starts ends one of the first's idle contexts.
    const second = Array.from({ length: 4 }, () => coldStart(harness, 'busy-second', 2000));
    await sleep(500);
    // Every context is busy now: the first function has nowhere to run.
    const refused = await harness.daemon.service.invoke({ functionName: 'idle-first', payload: event({ ms: 0 }) }).catch((error) => error);
    expect(refused).toMatchObject({ code: 'TooManyRequestsException', details: { Reason: REASON } });
    expect(await Promise.all(second)).toEqual([true, true, true, true]);
    // Its contexts were ended for the second's: its next call starts one again.
    expect(await coldStart(harness, 'idle-first', 0)).toBe(true);
  });

  it('counts provisioned contexts against the cap: a provisioning that does not fit fails and says why', async () => {
    const service = harness.daemon.service;
    create(harness, 'provisioned-six');
    service.publishVersion('provisioned-six');
    service.putProvisionedConcurrencyConfig('provisioned-six', '1', 6);
    const deadline = Date.now() + 15_000;
    while (service.getProvisionedConcurrencyConfig('provisioned-six', '1').Status === 'IN_PROGRESS' && Date.now() < deadline) await sleep(50);
    expect(service.getProvisionedConcurrencyConfig('provisioned-six', '1')).toMatchObject({
      Status: 'FAILED',
      AllocatedProvisionedConcurrentExecutions: 4,
      StatusReason: 'lambdad holds at most 4 execution contexts on this host (--max-contexts), and none is idle',
    });
    // Provisioned contexts are never ended to make room: another function finds the host full, the version runs.
    const refused = await service.invoke({ functionName: 'crowd', payload: event({ ms: 0 }) }).catch((error) => error);
    expect(refused).toMatchObject({ code: 'TooManyRequestsException', details: { Reason: REASON } });
    expect((await service.invoke({ functionName: 'provisioned-six', qualifier: '1', payload: event({ ms: 0 }) })).statusCode).toBe(200);
  });
});

describe('after a burst (thread isolation, --max-contexts 4, keep-warm 40 s)', () => {
  let harness: TestDaemon;
  beforeAll(async () => {
    harness = await startDaemon({ isolation: 'thread', 'max-contexts': '4', 'keep-warm-seconds': '40', 'spare-workers': '0' });
  });
  afterAll(async () => harness.stop());

  it('reaps the idle contexts above half the cap after a twentieth of the keep-warm period, and keeps the rest warm', async () => {
    create(harness, 'burst');
    const started = Date.now();
    expect(await Promise.all(Array.from({ length: 4 }, () => coldStart(harness, 'burst', 200)))).toEqual([true, true, true, true]);
    expect(await metric(harness, 'lambda_execution_environments', { state: 'idle' })).toBe(4);
    // Under pressure, an idle context above the floor (2) is kept 40 s / 20 = 2 s (reaped within twice that).
    let idle = 4;
    while (idle > 2 && Date.now() - started < 20_000) {
      await sleep(250);
      idle = await metric(harness, 'lambda_execution_environments', { state: 'idle' });
    }
    expect(idle).toBe(2);
    expect(Date.now() - started).toBeLessThan(20_000);
    // At the floor, nothing more goes before the keep-warm period: two of the next four calls are warm.
    await sleep(3000);
    expect(await metric(harness, 'lambda_execution_environments', { state: 'idle' })).toBe(2);
    const cold = await Promise.all(Array.from({ length: 4 }, () => coldStart(harness, 'burst', 200)));
    expect(cold.filter((wasCold) => wasCold)).toHaveLength(2);
  });
});

describe('--max-contexts 3 (process isolation, the default)', () => {
  let harness: TestDaemon;
  let client: LambdadClient;
  beforeAll(async () => {
    harness = await startDaemon({ auth: 'sigv4', 'max-contexts': '3' });
    client = await LambdadClient.connect({ url: harness.daemon.url, credentials: harness.credentials() });
  });
  afterAll(async () => {
    client.close();
    await harness.stop();
  });

  it('runs 3 of 8 concurrent invocations over the WebSocket protocol; the client sees the HostCapacityExceeded reason', async () => {
    create(harness, 'sandboxed-crowd');
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () =>
        client.invoke('sandboxed-crowd', { ms: 3000 }).then(
          () => 'ran',
          (error: LambdadError) => `${error.code} ${error.status} ${error.reason} ${error.message}`,
        ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === 'ran')).toHaveLength(3);
    expect(outcomes.filter((outcome) => outcome !== 'ran')).toEqual(Array(5).fill(`TooManyRequestsException 429 ${REASON} Rate Exceeded.`));
  });
});

describe('the default', () => {
  it('derives the cap from the host memory, within the account concurrency', async () => {
    const harness = await startDaemon({ isolation: 'thread', 'account-concurrency': '50' });
    try {
      expect(harness.daemon.config.maxContexts).toBeNull();
      const limit = await metric(harness, 'lambdad_execution_contexts_limit');
      expect(limit).toBeGreaterThanOrEqual(8);
      expect(limit).toBeLessThanOrEqual(50);
    } finally {
      await harness.stop();
    }
  });
});

describe('--max-contexts 10: a burst of one function leaves room for the others', () => {
  let harness: TestDaemon;
  beforeAll(async () => {
    harness = await startDaemon({ isolation: 'thread', 'max-contexts': '10' });
  });
  afterAll(async () => harness.stop());

  it('gives one function at most 9 of the 10 contexts; another function still starts while it holds them', async () => {
    create(harness, 'greedy');
    create(harness, 'modest');
    const burst = Array.from({ length: 20 }, () =>
      harness.daemon.service.invoke({ functionName: 'greedy', payload: event({ ms: 2000 }) }).then(
        () => 'ran',
        (error) => `${error.code} ${error.details?.Reason}`,
      ),
    );
    await sleep(300);
    expect(await coldStart(harness, 'modest', 0)).toBe(true);
    const outcomes = await Promise.all(burst);
    expect(outcomes.filter((outcome) => outcome === 'ran')).toHaveLength(9);
    expect(outcomes.filter((outcome) => outcome !== 'ran')).toEqual(Array(11).fill(`TooManyRequestsException ${REASON}`));
  });
});
