/**
 * `npm run bench` (metrics part): what recording one invocation's metrics costs the main thread —
 * admission's running count up and down, then `Metrics.invoked` (invocations, duration, memory; a cold start's
 * init too) — against a bare prom-client counter `inc()` in the same run. 5 rounds of 1,000,000, medians.
 */
import { Counter, Registry } from 'prom-client';
import { Metrics } from '../daemon/observability/metrics.js';
import { writeReport } from './report.js';

const ROUNDS = 5;
const RECORDINGS = 1_000_000;
const FUNCTIONS = 20;

function nsPerOp(work: (i: number) => void): number {
  const started = performance.now();
  for (let i = 0; i < RECORDINGS; i++) work(i);
  return ((performance.now() - started) * 1e6) / RECORDINGS;
}

const view = { accountLimit: () => 1000, contextLimit: () => 1000, unreservedInFlight: () => 0, reservations: () => new Map<string, number>(), environments: () => ({ idle: 0, busy: 0, spare: 0 }), provisioned: () => [] };
const metrics = new Metrics(view);
const floor = new Counter({ name: 'bench_floor_total', help: 'floor', registers: [new Registry()] });
const labels = Array.from({ length: FUNCTIONS }, (_, n) => ({ functionName: `fn-${n}`, resource: '$LATEST', executedVersion: '$LATEST' }));

const rounds: Record<string, number[]> = {};
const record = (key: string, value: number): void => void (rounds[key] ??= []).push(Math.round(value * 10) / 10);
for (let round = 0; round < ROUNDS; round++) {
  const floorNs = nsPerOp(() => floor.inc());
  const invocation = (i: number, initDurationMs?: number): void => {
    const label = labels[i % FUNCTIONS]!;
    metrics.running(label.functionName, 1);
    metrics.running(label.functionName, -1);
    metrics.invoked(label, { durationMs: 1.5, maxMemoryUsedBytes: 64 * 1048576, ...(initDurationMs === undefined ? {} : { initDurationMs }) });
  };
  const invokedNs = nsPerOp((i) => invocation(i));
  const coldNs = nsPerOp((i) => invocation(i, 20));
  record('floorIncNs', floorNs);
  record('invokedNs', invokedNs);
  record('coldStartInvokedNs', coldNs);
  record('invokedToFloorRatio', invokedNs / floorNs);
  process.stdout.write(`round ${round + 1}/${ROUNDS}: counter inc ${floorNs.toFixed(1)} ns, invocation ${invokedNs.toFixed(1)} ns, cold start ${coldNs.toFixed(1)} ns\n`);
}
writeReport('metrics', { ROUNDS, RECORDINGS, FUNCTIONS }, rounds);
