// Hammering shared concurrency counters: acquire, check the pool while holding the lease, release. Plain JS
// because it also runs as a worker thread; the test's main thread imports `hammer` and takes part too.
import { parentPort, workerData } from 'node:worker_threads';

/**
 * `cycles` acquire/release pairs on `pool`. A violation is seeing, while holding a lease, an in-flight count
 * above the limit or below 1 (the lease itself is counted).
 */
export function hammer(counters, pool, cycles) {
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
  return { admitted, throttled, violations };
}

// As a worker: attach to the test's counters, say ready, wait at the gate so that every thread starts at once.
if (workerData?.contender) {
  const { countersUrl, buffer, gate, pool, cycles } = workerData.contender;
  const { ConcurrencyCounters } = await import(countersUrl);
  const counters = new ConcurrencyCounters({ buffer });
  parentPort.postMessage('ready');
  Atomics.wait(gate, 0, 0);
  parentPort.postMessage(hammer(counters, pool, cycles));
}
