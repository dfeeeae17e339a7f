/**
 * Lock-free concurrency counters in a SharedArrayBuffer: an in-flight count and a limit per pool, updated with
 * compare-and-swap, so any thread holding the buffer can acquire and release, and no interleaving takes a pool
 * past its limit or below zero. Pool UNRESERVED is the account's unreserved pool; pools 0…maxReservedFunctions-1
 * are reserved slots. Acquire and release allocate nothing: they hand numbers back and forth.
 */
import { types } from 'node:util';

export type ThrottleReason = 'ConcurrentInvocationLimitExceeded' | 'ReservedFunctionConcurrentInvocationLimitExceeded';

/** The pool of functions without reserved concurrency. */
export const UNRESERVED = -1;

// Refusals are negative so that one comparison tells them from a lease, which is a cell index (≥ 0).
const THROTTLED_UNRESERVED = -1;
const THROTTLED_RESERVED = -2;
const DEFAULT_MAX_RESERVED_FUNCTIONS = 4096;
/** Cells are Int32; in-flight never exceeds its limit, so it cannot overflow either. */
const LIMIT_MAX = 0x7fff_ffff;

/** Why an acquire that returned `code` (negative) was refused. */
export function throttleReason(code: number): ThrottleReason {
  if (code === THROTTLED_UNRESERVED) return 'ConcurrentInvocationLimitExceeded';
  if (code === THROTTLED_RESERVED) return 'ReservedFunctionConcurrentInvocationLimitExceeded';
  throw new RangeError(`${code} is not a throttle code from acquire`);
}

export class ConcurrencyCounters {
  /** [in-flight, limit] pairs: the unreserved pool at 0/1, slot s at 2 + 2s / 3 + 2s. */
  readonly #cells: Int32Array;
  readonly #slotCount: number;

  /** `buffer` attaches to the counters another thread made (their `buffer`); it brings its own size. */
  constructor(options: { maxReservedFunctions?: number; buffer?: SharedArrayBuffer } = {}) {
    const { maxReservedFunctions, buffer } = options;
    if (buffer !== undefined) {
      if (maxReservedFunctions !== undefined) throw new TypeError('pass maxReservedFunctions or buffer, not both: a buffer has its size already');
      if (!types.isSharedArrayBuffer(buffer)) throw new TypeError('buffer must be the SharedArrayBuffer of another ConcurrencyCounters');
      const pairs = buffer.byteLength / (2 * Int32Array.BYTES_PER_ELEMENT);
      if (!Number.isSafeInteger(pairs) || pairs < 1) throw new RangeError(`a buffer of ${buffer.byteLength} bytes is not a ConcurrencyCounters buffer`);
      this.#cells = new Int32Array(buffer);
    } else {
      const slots = maxReservedFunctions ?? DEFAULT_MAX_RESERVED_FUNCTIONS;
      if (!Number.isSafeInteger(slots) || slots < 0) throw new RangeError(`maxReservedFunctions must be a non-negative integer, got ${slots}`);
      this.#cells = new Int32Array(new SharedArrayBuffer((slots + 1) * 2 * Int32Array.BYTES_PER_ELEMENT));
    }
    this.#slotCount = this.#cells.length / 2 - 1;
  }

  get buffer(): SharedArrayBuffer {
    return this.#cells.buffer as SharedArrayBuffer;
  }

  setUnreservedLimit(limit: number): void {
    Atomics.store(this.#cells, 1, checkedLimit(limit));
  }

  setSlotLimit(slot: number, limit: number): void {
    Atomics.store(this.#cells, this.#index(slot) + 1, checkedLimit(limit));
  }

  /**
   * Takes one unit of `pool` (UNRESERVED or a slot). Returns the lease — the counter to give to `release` — or
   * a negative code when the pool is at its limit (see `throttleReason`).
   */
  acquire(pool: number): number {
    const index = this.#index(pool);
    const cells = this.#cells;
    for (;;) {
      // Limit and count are read afresh on each try: after a limit is lowered, only the acquires that had read
      // the old one can still get in (one per racing thread); then every acquire throttles until the count drains.
      const current = Atomics.load(cells, index);
      if (current >= Atomics.load(cells, index + 1)) return pool === UNRESERVED ? THROTTLED_UNRESERVED : THROTTLED_RESERVED;
      if (Atomics.compareExchange(cells, index, current, current + 1) === current) return index;
    }
  }

  /** Gives back a lease from `acquire`, to the counter it came from even if that pool's limit changed since. */
  release(lease: number): void {
    const cells = this.#cells;
    if (!Number.isSafeInteger(lease) || lease < 0 || lease >= cells.length || lease % 2 !== 0) throw new RangeError(`${lease} is not a lease`);
    for (;;) {
      // A CAS rather than Atomics.sub, so that a double release is caught before the count goes negative.
      const current = Atomics.load(cells, lease);
      if (current <= 0) throw new RangeError('released more leases than were acquired');
      if (Atomics.compareExchange(cells, lease, current, current - 1) === current) return;
    }
  }

  inFlight(pool: number): number {
    return Atomics.load(this.#cells, this.#index(pool));
  }

  limit(pool: number): number {
    return Atomics.load(this.#cells, this.#index(pool) + 1);
  }

  #index(pool: number): number {
    if (pool === UNRESERVED) return 0;
    if (!Number.isSafeInteger(pool) || pool < 0 || pool >= this.#slotCount) throw new RangeError(`no reserved slot ${pool} (there are ${this.#slotCount})`);
    return 2 + pool * 2;
  }
}

function checkedLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 0 || limit > LIMIT_MAX) throw new RangeError(`a concurrency limit must be an integer from 0 to ${LIMIT_MAX}, got ${limit}`);
  return limit;
}
