/**
 * `npm run bench` (concurrency part): the cost of admitting an invocation. acquire+release on the shared
 * counters, on one thread and on two threads contending for the same pool, against bare Atomics.add/sub
 * pairs on a ConcurrencyCounters buffer in the same run. Fixed parameters, 5 rounds, medians; a table on stdout
 * and bench/results/concurrency-<time>.json.
 */
import { Worker } from 'node:worker_threads';
import { ConcurrencyCounters } from '../daemon/concurrency/index.js';
import { writeReport } from './report.js';
import { median } from './stats.js';

const ROUNDS = 5;
const CYCLES = 5_000_000;
const WORKER = new URL('./concurrency-worker.js', import.meta.url);

/** ns per acquire+release pair, with `threads` threads each doing CYCLES pairs at once. */
async function contended(threads: number, bare: boolean): Promise<number> {
  const counters = new ConcurrencyCounters({ maxReservedFunctions: 1 });
  counters.setUnreservedLimit(1_000_000);
  const buffer = counters.buffer;
  const times = await Promise.all(
    Array.from({ length: threads }, () => {
      const worker = new Worker(WORKER, { workerData: { buffer, cycles: CYCLES, bare } });
      return new Promise<number>((resolve, reject) => {
        worker.once('message', (ms: number) => void worker.terminate().then(() => resolve(ms)));
        worker.once('error', reject);
      });
    }),
  );
  // Each thread's own time per pair: what one admission costs it while the others contend.
  return (Math.max(...times) * 1e6) / CYCLES;
}

async function main(): Promise<void> {
  const rounds: Record<string, number[]> = {};
  const record = (key: string, value: number): void => {
    (rounds[key] ??= []).push(Math.round(value * 10) / 10);
  };
  for (let round = 0; round < ROUNDS; round++) {
    const measured = {
      bare1: await contended(1, true),
      counters1: await contended(1, false),
      bare2: await contended(2, true),
      counters2: await contended(2, false),
    };
    record('bareOneThreadNs', measured.bare1);
    record('countersOneThreadNs', measured.counters1);
    record('bareTwoThreadsNs', measured.bare2);
    record('countersTwoThreadsNs', measured.counters2);
    record('oneThreadRatio', measured.counters1 / measured.bare1);
    record('twoThreadsRatio', measured.counters2 / measured.bare2);
    process.stdout.write(`round ${round + 1}/${ROUNDS}: ${Object.entries(measured).map(([name, ns]) => `${name} ${ns.toFixed(1)} ns`).join(', ')}\n`);
  }
  writeReport('concurrency', { ROUNDS, CYCLES }, rounds);
  const at = (key: string): string => median(rounds[key]!).toFixed(1);
  process.stdout.write(
    [
      `\nns per acquire+release pair, median of ${ROUNDS} rounds of ${CYCLES.toLocaleString('en')} pairs per thread`,
      '| threads | floor: Atomics.add+sub | acquire+release | ratio |',
      '|---|---|---|---|',
      `| 1 | ${at('bareOneThreadNs')} | ${at('countersOneThreadNs')} | ${at('oneThreadRatio')} |`,
      `| 2, same counter | ${at('bareTwoThreadsNs')} | ${at('countersTwoThreadsNs')} | ${at('twoThreadsRatio')} |`,
    ].join('\n') + '\n',
  );
}

await main();
