/**
 * May this invocation run now? The account's concurrency (spec limits.md) split as Lambda splits it: a
 * function with reserved concurrency draws only from its reservation, every other function from the
 * unreserved rest, which reservations may never bring below its minimum. The counts live in lock-free
 * shared counters; this class keeps which function has which reserved slot.
 */
import { invalidParameter, LambdaError, validationError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { ConcurrencyCounters, throttleReason, UNRESERVED } from './counters.js';

export class ConcurrencyScheduler {
  readonly #counters: ConcurrencyCounters;
  readonly #accountLimit: number;
  /** Reserved slot per function name; a function without a reservation has none. */
  readonly #slots = new Map<string, number>();
  readonly #freeSlots: number[] = [];
  #reservedTotal = 0;

  constructor(accountLimit: number, reservations: ReadonlyMap<string, number> = new Map()) {
    if (!Number.isSafeInteger(accountLimit) || accountLimit < 1) throw new RangeError(`accountLimit must be a positive integer, got ${accountLimit}`);
    this.#accountLimit = accountLimit;
    this.#counters = new ConcurrencyCounters({ maxReservedFunctions: LIMITS.reservedFunctionsMax });
    for (let slot = LIMITS.reservedFunctionsMax - 1; slot >= 0; slot -= 1) this.#freeSlots.push(slot);
    this.#counters.setUnreservedLimit(accountLimit);
    for (const [name, reserved] of reservations) this.setReservation(name, reserved);
  }

  get accountLimit(): number {
    return this.#accountLimit;
  }

  /** The counters, for other threads to acquire and release on. */
  get counters(): ConcurrencyCounters {
    return this.#counters;
  }

  /** What functions without a reservation share: GetAccountSettings' UnreservedConcurrentExecutions. */
  get unreserved(): number {
    return this.#accountLimit - this.#reservedTotal;
  }

  reservation(functionName: string): number | null {
    const slot = this.#slots.get(functionName);
    return slot === undefined ? null : this.#counters.limit(slot);
  }

  /** Throws the AWS error if `functionName` may not reserve `reserved`; changes nothing. */
  checkReservation(functionName: string, reserved: number): void {
    if (!Number.isSafeInteger(reserved) || reserved < 0) {
      throw validationError(reserved, 'reservedConcurrentExecutions', 'Member must have value greater than or equal to 0');
    }
    const unreservedAfter = this.unreserved + (this.reservation(functionName) ?? 0) - reserved;
    // An account whose whole limit is below the minimum keeps all of it unreserved.
    if (unreservedAfter < Math.min(LIMITS.unreservedConcurrencyMin, this.#accountLimit)) {
      throw invalidParameter(`Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${LIMITS.unreservedConcurrencyMin}].`);
    }
    if (!this.#slots.has(functionName) && this.#freeSlots.length === 0) {
      throw invalidParameter(`lambdad keeps reserved concurrency for at most ${LIMITS.reservedFunctionsMax} functions.`);
    }
  }

  /**
   * Gives `functionName` its own pool of `reserved` (null: back to the unreserved pool). Invocations already
   * running finish on the pool they were admitted from.
   */
  setReservation(functionName: string, reserved: number | null): void {
    let slot = this.#slots.get(functionName);
    if (slot !== undefined) {
      this.#reservedTotal -= this.#counters.limit(slot);
      if (reserved === null) {
        this.#slots.delete(functionName);
        // A slot is reused only once every lease on it is back; until then its limit of 0 admits nothing.
        this.#counters.setSlotLimit(slot, 0);
        this.#recycle(slot);
      }
    }
    if (reserved !== null) {
      if (slot === undefined) {
        slot = this.#freeSlots.pop();
        if (slot === undefined) throw new LambdaError('ServiceException', 'No reserved-concurrency slot is free.');
        this.#slots.set(functionName, slot);
      }
      this.#counters.setSlotLimit(slot, reserved);
      this.#reservedTotal += reserved;
    }
    this.#counters.setUnreservedLimit(this.unreserved);
  }

  /**
   * Admits one invocation of `functionName` or throws TooManyRequestsException. The number returned is the
   * lease: give it to `release` exactly once, in a `finally`.
   */
  acquire(functionName: string): number {
    const lease = this.#counters.acquire(this.#slots.get(functionName) ?? UNRESERVED);
    if (lease < 0) throw new LambdaError('TooManyRequestsException', 'Rate Exceeded.', { Reason: throttleReason(lease) });
    return lease;
  }

  release(lease: number): void {
    this.#counters.release(lease);
  }

  /** Every reservation, by function name. */
  reservations(): Map<string, number> {
    return new Map([...this.#slots].map(([name, slot]) => [name, this.#counters.limit(slot)]));
  }

  /** Invocations running now: of one function's reservation, or (no name) of the unreserved pool. */
  inFlight(functionName?: string): number {
    return this.#counters.inFlight(functionName === undefined ? UNRESERVED : this.#slots.get(functionName) ?? UNRESERVED);
  }

  #recycle(slot: number): void {
    if (this.#counters.inFlight(slot) === 0) {
      this.#freeSlots.push(slot);
      return;
    }
    // Rare (a reservation removed while its invocations run): look again shortly, without holding the daemon open.
    setTimeout(() => this.#recycle(slot), 100).unref();
  }
}
