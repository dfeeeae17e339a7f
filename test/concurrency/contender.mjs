// A thread that hammers shared concurrency counters: acquire, check the pool never exceeds its limit and
// never goes negative, release. Reports its counts to the test.
import { parentPort, workerData } from 'node:worker_threads';

const { countersUrl, buffer, pool, cycles } = workerData;
const { ConcurrencyCounters } = await import(countersUrl);
const counters = new ConcurrencyCounters({ buffer });
let admitted = 0;
let throttled = 0;
let violations = 0;
for (let i = 0; i < cycles; i++) {
  const lease = counters.acquire(pool);
  if (lease < 0) {
    throttled += 1;
    continue;
  }
  admitted += 1;
  const inFlight = counters.inFlight(pool);
  if (inFlight > counters.limit(pool) || inFlight < 1) violations += 1;
  counters.release(lease);
}
parentPort.postMessage({ admitted, throttled, violations });
