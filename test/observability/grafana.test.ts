/**
 * monitoring/grafana-dashboard.json against a real daemon's /metrics: every metric a panel queries exists,
 * with the type the query assumes (`_bucket` of a histogram, `rate()` of a counter).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { parsePrometheus } from '../helpers/prometheus.js';

const DASHBOARD = fileURLToPath(new URL('../../monitoring/grafana-dashboard.json', import.meta.url));

let harness: TestDaemon;
beforeAll(async () => {
  harness = await startDaemon();
});
afterAll(async () => harness.stop());

it('queries only metrics that /metrics serves, each as the type it is', async () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
  const { types } = parsePrometheus(await (await fetch(`${harness.daemon.url}/metrics`)).text());
  const queried = new Set<string>();
  for (const panel of dashboard.panels) {
    expect(panel.targets.length, panel.title).toBeGreaterThan(0);
    for (const { expr } of panel.targets) {
      for (const [name] of expr.matchAll(/\b(lambda|process)_[a-z_]+\b/g)) {
        queried.add(name);
        const histogram = /_bucket$/.test(name);
        const family = histogram ? name.replace(/_bucket$/, '') : name;
        expect(types.get(family), `${panel.title}: ${name}`).toBeDefined();
        if (histogram) expect(types.get(family), name).toBe('histogram');
        if (new RegExp(`rate\\(${name}\\[`).test(expr) && !histogram) expect(types.get(family), name).toBe('counter');
      }
    }
  }
  // The panels cover what the README promises: invocations, errors, throttles, duration, concurrency, cold starts, async.
  for (const name of ['lambda_invocations_total', 'lambda_errors_total', 'lambda_throttles_total', 'lambda_duration_seconds_bucket', 'lambda_concurrent_executions', 'lambda_cold_starts_total', 'lambda_async_event_age_seconds_bucket', 'lambda_async_events_dropped_total']) {
    expect(queried.has(name), name).toBe(true);
  }
});
