/**
 * The lock-free concurrency counters: threads contending on one pool never see it past its limit or below
 * zero, and every count returns to 0; and the rules around them (reasons, limit changes, leases, attaching).
 * Imports the compiled code: worker threads run JS.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ConcurrencyCounters, throttleReason, UNRESERVED } from '../../dist/daemon/concurrency/index.js';
import { hammer } from './contender.mjs';

const COUNTERS_URL = new URL('../../dist/daemon/concurrency/index.js', import.meta.url).href;
const CONTENDER = new URL('./contender.mjs', import.meta.url);
const CYCLES = 1_000_000;
const WORKERS = 3;

interface Tally {
  admitted: number;
  throttled: number;
  violations: number;
}

/** WORKERS worker threads and this thread each run CYCLES acquire/release pairs on `pool`, all starting at once. */
async function contend(counters: ConcurrencyCounters, pool: number): Promise<Tally[]> {
  const gate = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  const workers = Array.from({ length: WORKERS }, () => new Worker(CONTENDER, { workerData: { contender: { countersUrl: COUNTERS_URL, buffer: counters.buffer, gate, pool, cycles: CYCLES } } }));
  try {
    const results = workers.map((worker) => {
      const messages: unknown[] = [];
      const settled = new Promise<Tally>((resolve, reject) => {
        worker.on('message', (message: unknown) => {
          messages.push(message);
          if (messages.length === 2) resolve(message as Tally);
        });
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`contender exited with ${code} before reporting`)));
      });
      const ready = new Promise<void>((resolve) => worker.once('message', () => resolve()));
      return { ready, settled };
    });
    await Promise.all(results.map((result) => result.ready));
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    const mine = hammer(counters, pool, CYCLES);
    return [mine, ...(await Promise.all(results.map((result) => result.settled)))];
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

function expectSound(tallies: Tally[]): void {
  expect(tallies.map((tally) => tally.violations)).toEqual(Array(WORKERS + 1).fill(0));
  expect(tallies.every((tally) => tally.admitted + tally.throttled === CYCLES)).toBe(true);
  // More threads than the limit: some acquires must have been refused, or the run proves nothing.
  expect(tallies.reduce((sum, tally) => sum + tally.throttled, 0)).toBeGreaterThan(0);
  expect(tallies.every((tally) => tally.admitted > 0)).toBe(true);
}

describe('contention between threads (3 workers + the main thread, 1,000,000 cycles each)', () => {
  it('on the unreserved pool with a limit of 3: never over it, never negative, back to 0', { timeout: 20_000 }, async () => {
    const counters = new ConcurrencyCounters({ maxReservedFunctions: 4 });
    counters.setUnreservedLimit(3);
    expectSound(await contend(counters, UNRESERVED));
    expect(counters.inFlight(UNRESERVED)).toBe(0);
  });

  it('on a reserved slot with a limit of 2, leaving the other pools alone', { timeout: 20_000 }, async () => {
    const counters = new ConcurrencyCounters({ maxReservedFunctions: 4 });
    counters.setUnreservedLimit(10);
    counters.setSlotLimit(2, 2);
    counters.setSlotLimit(3, 10);
    expectSound(await contend(counters, 2));
    expect([UNRESERVED, 0, 1, 2, 3].map((pool) => counters.inFlight(pool))).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('counter rules', () => {
  it('names the reason of a refusal by pool, and refuses to name one for a lease', () => {
    const counters = new ConcurrencyCounters({ maxReservedFunctions: 2 });
    expect(throttleReason(counters.acquire(UNRESERVED))).toBe('ConcurrentInvocationLimitExceeded');
    expect(throttleReason(counters.acquire(1))).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    counters.setSlotLimit(1, 1);
    expect(() => throttleReason(counters.acquire(1))).toThrow(RangeError);
  });

  it('admits nothing at limit 0', () => {
    const counters = new ConcurrencyCounters({ maxReservedFunctions: 1 });
    counters.setUnreservedLimit(0);
    counters.setSlotLimit(0, 0);
    for (let i = 0; i < 3; i++) {
      expect(counters.acquire(UNRESERVED)).toBeLessThan(0);
      expect(counters.acquire(0)).toBeLessThan(0);
    }
    expect([counters.inFlight(UNRESERVED), counters.inFlight(0)]).toEqual([0, 0]);
  });

  it('drains a limit lowered below the in-flight count without admitting or going negative', () => {
    const counters = new ConcurrencyCounters({ maxReservedFunctions: 1 });
    counters.setUnreservedLimit(3);
    const leases = [counters.acquire(UNRESERVED), counters.acquire(UNRESERVED), counters.acquire(UNRESERVED)];
    expect(leases.every((lease) => lease >= 0)).toBe(true);
    counters.setUnreservedLimit(1);
    expect(counters.acquire(UNRESERVED)).toBeLessThan(0);
    counters.release(leases[0]!);
    counters.release(leases[1]!);
    expect(counters.acquire(UNRESERVED)).toBeLessThan(0); // 1 in flight: at the new limit
    counters.release(leases[2]!);
    expect(counters.inFlight(UNRESERVED)).toBe(0);
    expect(counters.acquire(UNRESERVED)).toBeGreaterThanOrEqual(0);
  });

  it('takes a lease back on the counter it came from after the reservation changed', () => {
    const counters = new ConcurrencyCounters({ maxReservedFunctions: 2 });
    counters.setUnreservedLimit(5);
    counters.setSlotLimit(1, 2);
    const reserved = counters.acquire(1);
    // The function's reservation is removed: its slot admits nothing more, its new invocations run unreserved.
    counters.setSlotLimit(1, 0);
    const unreserved = counters.acquire(UNRESERVED);
    counters.release(reserved);
    expect([counters.inFlight(1), counters.inFlight(UNRESERVED)]).toEqual([0, 1]);
    counters.release(unreserved);
    expect(counters.inFlight(UNRESERVED)).toBe(0);
  });

  it('throws on a release that would go below 0, and on a number that is not a lease', () => {
    const counters = new ConcurrencyCounters({ maxReservedFunctions: 1 });
    counters.setSlotLimit(0, 1);
    const lease = counters.acquire(0);
    counters.release(lease);
    expect(() => counters.release(lease)).toThrow(/released more leases than were acquired/);
    expect(counters.inFlight(0)).toBe(0);
    for (const notALease of [-1, 1, 3, 4, 0.5, Number.NaN]) expect(() => counters.release(notALease)).toThrow(RangeError);
  });

  it('shares counts, limits and size with counters attached to the same buffer', () => {
    const counters = new ConcurrencyCounters({ maxReservedFunctions: 3 });
    counters.setUnreservedLimit(5);
    const attached = new ConcurrencyCounters({ buffer: counters.buffer });
    const lease = attached.acquire(UNRESERVED);
    expect(counters.inFlight(UNRESERVED)).toBe(1);
    expect(attached.limit(UNRESERVED)).toBe(5);
    attached.setSlotLimit(2, 1);
    expect(counters.limit(2)).toBe(1);
    expect(() => attached.acquire(3)).toThrow(/no reserved slot 3 \(there are 3\)/);
    counters.release(lease);
    expect(attached.inFlight(UNRESERVED)).toBe(0);
  });

  it('validates its options and limits', () => {
    expect(new ConcurrencyCounters({}).buffer.byteLength).toBe((4096 + 1) * 2 * 4);
    expect(() => new ConcurrencyCounters({ maxReservedFunctions: -1 })).toThrow(/maxReservedFunctions must be a non-negative integer, got -1/);
    expect(() => new ConcurrencyCounters({ maxReservedFunctions: 1.5 })).toThrow(RangeError);
    expect(() => new ConcurrencyCounters({ buffer: new ArrayBuffer(8) as unknown as SharedArrayBuffer })).toThrow(/must be the SharedArrayBuffer/);
    expect(() => new ConcurrencyCounters({ buffer: new SharedArrayBuffer(12) })).toThrow(/12 bytes is not a ConcurrencyCounters buffer/);
    expect(() => new ConcurrencyCounters({ buffer: new SharedArrayBuffer(8), maxReservedFunctions: 0 })).toThrow(/not both/);
    const counters = new ConcurrencyCounters({ maxReservedFunctions: 2 });
    expect(() => counters.acquire(2)).toThrow(RangeError);
    expect(() => counters.setSlotLimit(0, 1.5)).toThrow(/got 1.5/);
    expect(() => counters.setUnreservedLimit(-1)).toThrow(RangeError);
    expect(() => counters.setUnreservedLimit(2 ** 31)).toThrow(RangeError);
  });
});
