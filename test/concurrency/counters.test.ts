/**
 * The lock-free concurrency counters: threads contending on one pool never take it past its limit or below
 * zero, and every count returns to 0; and the rules around them (reasons, limit changes, attaching).
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ConcurrencyCounters, throttleReason, UNRESERVED } from '../../dist/daemon/concurrency/index.js';

const COUNTERS_URL = new URL('../../dist/daemon/concurrency/counters.js', import.meta.url).href;
const CONTENDER = new URL('./contender.mjs', import.meta.url);
const CYCLES = 1_000_000;

interface Tally {
  admitted: number;
  throttled: number;
  violations: number;
}

function contend(counters: ConcurrencyCounters, pool: number, threads: number): Promise<Tally[]> {
  return Promise.all(
    Array.from({ length: threads }, () => {
      const worker = new Worker(CONTENDER, { workerData: { countersUrl: COUNTERS_URL, buffer: counters.buffer, pool, cycles: CYCLES } });
      return new Promise<Tally>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    }),
  );
}

describe('contention between threads', () => {
  it('3 threads × 1,000,000 cycles on a pool of 2: never over the limit, never negative, back to 0', async () => {
    const counters = new ConcurrencyCounters({ maxReservedFunctions: 4 });
    counters.setUnreservedLimit(2);
    const tallies = await contend(counters, UNRESERVED, 3);
    expect(tallies.map((tally) => tally.violations)).toEqual([0, 0, 0]);
    expect(tallies.reduce((sum, tally) => sum + tally.admitted + tally.throttled, 0)).toBe(3 * CYCLES);
    // Three threads on a limit of two: some acquisitions must have been refused, or the test proves nothing.
    expect(tallies.reduce((sum, tally) => sum + tally.throttled, 0)).toBeGreaterThan(0);
    expect(counters.inFlight(UNRESERVED)).toBe(0);
  });

  it('2 threads × 1,000,000 cycles on a reserved slot of 1, alongside the main thread', async () => {
    const counters = new ConcurrencyCounters({ maxReservedFunctions: 4 });
    counters.setSlotLimit(3, 1);
    const running = contend(counters, 3, 2);
    let mainViolations = 0;
    for (let i = 0; i < 100_000; i++) {
      const lease = counters.acquire(3);
      if (lease < 0) continue;
      if (counters.inFlight(3) !== 1) mainViolations += 1;
      counters.release(lease);
    }
    const tallies = await running;
    expect(mainViolations).toBe(0);
    expect(tallies.map((tally) => tally.violations)).toEqual([0, 0]);
    expect(counters.inFlight(3)).toBe(0);
  });
});

describe('counter rules', () => {
  it('names the reason of a refusal by pool', () => {
    const counters = new ConcurrencyCounters({ maxReservedFunctions: 2 });
    expect(throttleReason(counters.acquire(UNRESERVED))).toBe('ConcurrentInvocationLimitExceeded');
    expect(throttleReason(counters.acquire(1))).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
  });

  it('admits nothing at limit 0; a lowered limit drains without going negative; a lease goes back where it came from', () => {
    const counters = new ConcurrencyCounters({ maxReservedFunctions: 2 });
    counters.setSlotLimit(0, 3);
    const leases = [counters.acquire(0), counters.acquire(0), counters.acquire(0)];
    expect(leases.every((lease) => lease >= 0)).toBe(true);
    counters.setSlotLimit(0, 1);
    expect(counters.acquire(0)).toBeLessThan(0);
    counters.release(leases[0]!);
    counters.release(leases[1]!);
    expect(counters.acquire(0)).toBeLessThan(0); // still 1 in flight: at the new limit
    counters.release(leases[2]!);
    expect(counters.inFlight(0)).toBe(0);
    expect(() => counters.release(leases[2]!)).toThrow(/released more leases than were acquired/);
  });

  it('shares its counts with counters attached to the same buffer', () => {
    const counters = new ConcurrencyCounters({ maxReservedFunctions: 2 });
    counters.setUnreservedLimit(5);
    const attached = new ConcurrencyCounters({ buffer: counters.buffer });
    const lease = attached.acquire(UNRESERVED);
    expect(counters.inFlight(UNRESERVED)).toBe(1);
    expect(attached.limit(UNRESERVED)).toBe(5);
    counters.release(lease);
    expect(attached.inFlight(UNRESERVED)).toBe(0);
  });

  it('refuses a slot it does not have and a limit that is not an integer', () => {
    const counters = new ConcurrencyCounters({ maxReservedFunctions: 2 });
    expect(() => counters.acquire(2)).toThrow(RangeError);
    expect(() => counters.setSlotLimit(0, 1.5)).toThrow(RangeError);
    expect(() => new ConcurrencyCounters({ maxReservedFunctions: -1 })).toThrow(RangeError);
  });
});
