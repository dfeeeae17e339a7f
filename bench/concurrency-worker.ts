/** One thread of the concurrency benchmark: `cycles` acquire+release pairs (or bare Atomics pairs), timed. */
import { parentPort, workerData } from 'node:worker_threads';
import { ConcurrencyCounters, UNRESERVED } from '../daemon/concurrency/index.js';

const { buffer, cycles, bare } = workerData as { buffer: SharedArrayBuffer; cycles: number; bare: boolean };
parentPort!.postMessage(bare ? bareLoop(new Int32Array(buffer), cycles) : countersLoop(new ConcurrencyCounters({ buffer }), cycles));

function countersLoop(counters: ConcurrencyCounters, cycles: number): number {
  const started = performance.now();
  for (let i = 0; i < cycles; i++) {
    const lease = counters.acquire(UNRESERVED);
    if (lease >= 0) counters.release(lease);
  }
  return performance.now() - started;
}

function bareLoop(cells: Int32Array, cycles: number): number {
  const started = performance.now();
  for (let i = 0; i < cycles; i++) {
    Atomics.add(cells, 0, 1);
    Atomics.sub(cells, 0, 1);
  }
  return performance.now() - started;
}
