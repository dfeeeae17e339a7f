/** The concurrency domain's entry: the scheduler, and the shared counters for other threads to attach to. */
export { ConcurrencyCounters, throttleReason, UNRESERVED, type ThrottleReason } from './counters.js';
export { ConcurrencyScheduler } from './scheduler.js';
