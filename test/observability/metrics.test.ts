/**
 * `GET /metrics` scraped from a real daemon after successes, errors, throttles, cold starts and Event
 * invokes, parsed with a Prometheus text-format parser: every series moves as it should.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, FIXTURES, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { parsePrometheus, type Scrape } from '../helpers/prometheus.js';
import { signedHeaders } from '../helpers/sigv4.js';

let harness: TestDaemon;

async function scrape(): Promise<Scrape> {
  const response = await fetch(`${harness.daemon.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await response.text());
}

/** The sum of the samples named `name` (a histogram: its `_count`) whose labels include `labels`; 0 when none. */
function value(scrape: Scrape, name: string, labels: Record<string, string>): number {
  const sampleName = scrape.types.get(name) === 'histogram' ? `${name}_count` : name;
  return scrape.samples
    .filter((sample) => sample.name === sampleName && Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted))
    .reduce((sum, sample) => sum + sample.value, 0);
}

beforeAll(async () => {
  harness = await startDaemon({ 'async-retry-delay-ms': '100' });
  const create = (name: string, handler: string): void =>
    void harness.daemon.service.createFunction({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: handler, Code: { Directory: `${FIXTURES}/behaviours` }, Timeout: 1 });
  create('metered', 'counter.handler');
  create('metered-fails', 'failures.thrower');
  create('metered-slow', 'failures.busyLoop');
  create('metered-throttled', 'counter.handler');
  harness.daemon.service.publishVersion('metered');
  harness.daemon.service.createAlias('metered', { Name: 'live', FunctionVersion: '1' });
});
afterAll(async () => harness.stop());

describe('/metrics', () => {
  it('counts invocations, cold starts, errors by type, throttles by reason, durations and async events', async () => {
    const service = harness.daemon.service;
    const before = await scrape();
    for (let i = 0; i < 3; i++) await service.invoke({ functionName: 'metered', payload: event({}) });
    await service.invoke({ functionName: 'metered', qualifier: 'live', payload: event({}) });
    await service.invoke({ functionName: 'metered-fails', payload: event({}) });
    await service.invoke({ functionName: 'metered-slow', payload: event({}) });
    service.putFunctionConcurrency('metered-throttled', 0);
    await expect(service.invoke({ functionName: 'metered-throttled', payload: event({}) })).rejects.toMatchObject({ code: 'TooManyRequestsException' });
    service.putFunctionEventInvokeConfig('metered-fails', undefined, { MaximumRetryAttempts: 0 });
    service.invoke({ functionName: 'metered-fails', payload: event({}), invocationType: 'Event' });

    // The Event invoke runs once and is dropped (no retries).
    const deadline = Date.now() + 10_000;
    let after = await scrape();
    while (value(after, 'lambda_async_events_dropped_total', { function_name: 'metered-fails' }) === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = await scrape();
    }
    const moved = (name: string, labels: Record<string, string>): number => value(after, name, labels) - value(before, name, labels);

    expect(moved('lambda_invocations_total', { function_name: 'metered', resource: '$LATEST', executed_version: '$LATEST' })).toBe(3);
    expect(moved('lambda_invocations_total', { function_name: 'metered', resource: 'live', executed_version: '1' })).toBe(1);
    expect(moved('lambda_cold_starts_total', { function_name: 'metered', resource: '$LATEST' })).toBe(1);
    expect(moved('lambda_cold_starts_total', { function_name: 'metered', resource: 'live' })).toBe(1);
    expect(moved('lambda_duration_seconds', { function_name: 'metered', resource: '$LATEST' })).toBe(3);
    expect(moved('lambda_init_duration_seconds', { function_name: 'metered', resource: '$LATEST' })).toBe(1);
    expect(value(after, 'lambda_max_memory_used_bytes', { function_name: 'metered', resource: '$LATEST' })).toBeGreaterThan(1024 * 1024);

    expect(moved('lambda_invocations_total', { function_name: 'metered-fails' })).toBe(2);
    expect(moved('lambda_errors_total', { function_name: 'metered-fails', error_type: 'Function' })).toBe(2);
    expect(moved('lambda_errors_total', { function_name: 'metered-slow', error_type: 'Sandbox.Timedout' })).toBe(1);
    expect(moved('lambda_errors_total', { function_name: 'metered' })).toBe(0);

    expect(moved('lambda_throttles_total', { function_name: 'metered-throttled', reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' })).toBe(1);
    expect(moved('lambda_invocations_total', { function_name: 'metered-throttled' })).toBe(0);
    expect(value(after, 'lambda_reserved_concurrency', { function_name: 'metered-throttled' })).toBe(0);
    expect(after.samples.some((sample) => sample.name === 'lambda_reserved_concurrency' && sample.labels.function_name === 'metered-throttled')).toBe(true);
    expect(value(after, 'lambda_concurrency_limit', {})).toBe(1000);
    expect(value(after, 'lambda_unreserved_concurrent_executions', {})).toBe(0);
    expect(value(after, 'lambda_concurrent_executions', { function_name: 'metered' })).toBe(0);

    expect(moved('lambda_async_events_received_total', { function_name: 'metered-fails', resource: '$LATEST' })).toBe(1);
    expect(moved('lambda_async_event_age_seconds', { function_name: 'metered-fails' })).toBe(1);
    expect(moved('lambda_async_events_dropped_total', { function_name: 'metered-fails', reason: 'RetriesExhausted' })).toBe(1);

    // The daemon's own process metrics are there too; no series carries a request id.
    expect(after.types.get('process_resident_memory_bytes')).toBe('gauge');
    for (const sample of after.samples) expect(Object.keys(sample.labels)).not.toContain('request_id');
  });

  it('counts provisioned and spill-over invocations, and execution contexts by state', async () => {
    const service = harness.daemon.service;
    service.createFunction({ FunctionName: 'metered-provisioned', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'provisioned.handler', Code: { Directory: `${FIXTURES}/behaviours` }, Timeout: 5 });
    service.publishVersion('metered-provisioned');
    service.createAlias('metered-provisioned', { Name: 'live', FunctionVersion: '1' });
    service.putProvisionedConcurrencyConfig('metered-provisioned', 'live', 1);
    const ready = Date.now() + 10_000;
    while (service.getProvisionedConcurrencyConfig('metered-provisioned', 'live').Status !== 'READY' && Date.now() < ready) await new Promise((resolve) => setTimeout(resolve, 20));

    const idle = await scrape();
    expect(value(idle, 'lambda_provisioned_concurrency_allocated', { function_name: 'metered-provisioned', resource: 'live' })).toBe(1);
    expect(value(idle, 'lambda_provisioned_concurrent_executions', { function_name: 'metered-provisioned', resource: 'live' })).toBe(0);
    expect(value(idle, 'lambda_execution_environments', { state: 'idle' })).toBeGreaterThanOrEqual(1);
    expect(value(idle, 'lambda_execution_environments', { state: 'busy' })).toBe(0);

    const running = [1, 2].map(() => service.invoke({ functionName: 'metered-provisioned', qualifier: 'live', payload: event({ ms: 300 }) }));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const busy = await scrape();
    expect(value(busy, 'lambda_provisioned_concurrency_utilization_ratio', { function_name: 'metered-provisioned', resource: 'live' })).toBe(1);
    expect(value(busy, 'lambda_execution_environments', { state: 'busy' })).toBe(2);
    expect(value(busy, 'lambda_concurrent_executions', { function_name: 'metered-provisioned' })).toBe(2);
    await Promise.all(running);
    const after = await scrape();
    expect(value(after, 'lambda_provisioned_concurrency_invocations_total', { function_name: 'metered-provisioned', resource: 'live' })).toBe(1);
    expect(value(after, 'lambda_provisioned_concurrency_spillover_invocations_total', { function_name: 'metered-provisioned', resource: 'live' })).toBe(1);
  });

  it('asks for a signature only when told to (or from beyond loopback)', async () => {
    const signedOnly = await startDaemon({ auth: 'sigv4', 'metrics-auth': 'sigv4' });
    try {
      const url = `${signedOnly.daemon.url}/metrics`;
      const unsigned = await fetch(url);
      expect(unsigned.status).toBe(403);
      expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
      const signed = await fetch(url, { headers: await signedHeaders(url, signedOnly.credentials()) });
      expect(signed.status).toBe(200);
      expect(await signed.text()).toContain('# TYPE lambda_invocations_total counter');
    } finally {
      await signedOnly.stop();
    }
    const open = await fetch(`${harness.daemon.url}/metrics`);
    expect(open.status).toBe(200);
  });
});

describe('--metrics off', () => {
  it('records nothing and serves no /metrics; invocations run as before', async () => {
    const quiet = await startDaemon({ metrics: 'off', 'xray-address': 'off' });
    try {
      quiet.daemon.service.createFunction({ FunctionName: 'quiet', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'counter.handler', Code: { Directory: `${FIXTURES}/behaviours` } });
      const result = await quiet.daemon.service.invoke({ functionName: 'quiet', payload: event({}) });
      expect(result.functionError).toBeUndefined();
      const response = await fetch(`${quiet.daemon.url}/metrics`);
      expect(response.status).toBe(400);
      expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    } finally {
      await quiet.stop();
    }
  });
});
