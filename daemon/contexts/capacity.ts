/**
 * How many execution contexts this host can hold, and when it is short of room: the default of
 * `--max-contexts` from the memory available at start and the measured cost of one context, the share of that
 * cap above which idle contexts are reaped early, and the throttle a client gets when the host is full.
 */
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { LambdaError } from '../errors.js';

const MIB = 1024 * 1024;

/**
 * Memory one execution context costs, by isolation mode, rounded up from `npm run bench -- context-cost`
 * (bench/results/context-cost-2026-12-03T13-33-50-070Z.json; bench/RESULTS.md): the PSS of the daemon and every
 * process under it with the contexts held busy, less the same before. `thread`: 9.6 MB per context (60 held;
 * the 8.5 MB of the scale benchmark is RSS at 1,000). `process`: 9.8 MB for a context in its version's runner,
 * 20.5 MB for one in a runner of its own — spares and one-context versions are that, so the worst case is
 * taken. A function that keeps more in memory costs more: set `--max-contexts` for it.
 */
export const CONTEXT_COST_BYTES = Object.freeze({ thread: 10 * MIB, process: 24 * MIB });

/** The share of the available memory the default gives to execution contexts; the rest stays the host's. */
const MEMORY_SHARE = 0.5;
/** The default never goes below this many contexts (unless the account's concurrency is lower). */
export const CONTEXTS_FLOOR = 8;
/** Above this share of the cap, contexts serving functions put the host under pressure. */
const PRESSURE_SHARE = 0.5;
/** Under pressure, an idle context above the floor is kept a twentieth of the keep-warm period, at most 30 s. */
const PRESSURE_KEEP_WARM_DIVISOR = 20;
const PRESSURE_IDLE_MAX_MS = 30_000;

/** The throttle's `Reason` when no context can be started or freed: lambdad's own, beside AWS's. */
export const HOST_FULL_REASON = 'HostCapacityExceeded';

export interface HostMemory {
  /** Bytes the host can give without swapping: MemAvailable, within the control group's limit. */
  readonly availableBytes: number;
  readonly isolation: keyof typeof CONTEXT_COST_BYTES;
  /** The account's concurrent executions: more contexts than that would never all be busy. */
  readonly accountConcurrency: number;
}

/** The default cap: half the available memory over the cost of a context, from the floor to the account's concurrency. */
export function contextsForHost(host: HostMemory): number {
  const fitting = Math.floor((host.availableBytes * MEMORY_SHARE) / CONTEXT_COST_BYTES[host.isolation]);
  return Math.min(host.accountConcurrency, Math.max(CONTEXTS_FLOOR, fitting));
}

/**
 * Memory available now: MemAvailable from /proc/meminfo on Linux (free memory plus the page cache the kernel can
 * drop), else the OS's free memory; never more than the limit of the control group the daemon runs in.
 */
export function availableMemoryBytes(): number {
  let available = freemem();
  try {
    const line = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (line !== null) available = Number(line[1]) * 1024;
  } catch {
    // Not Linux: the OS's free memory.
  }
  // Node answers 2^64 without a limit, and 0 or nothing where it cannot tell.
  const limit = process.constrainedMemory?.() ?? 0;
  return limit > 0 ? Math.min(available, limit) : available;
}

/** When the contexts serving functions put the host under pressure, and what they are allowed then. */
export interface Pressure {
  /** Contexts serving functions kept for the whole keep-warm period: above it, idle ones are reaped early. */
  readonly floor: number;
  /** How long an idle context above the floor is kept. */
  readonly idleMs: number;
}

export function pressureOf(maxContexts: number, keepWarmMs: number): Pressure {
  return {
    floor: Math.ceil(maxContexts * PRESSURE_SHARE),
    idleMs: Math.min(PRESSURE_IDLE_MAX_MS, Math.ceil(keepWarmMs / PRESSURE_KEEP_WARM_DIVISOR)),
  };
}

/** Of a host-bound cap, one part in this many is kept from any one function version for the others. */
const KEPT_FOR_OTHERS_DIVISOR = 10;

/**
 * Contexts one function version may hold. Where the host holds fewer contexts than the account may run, a burst
 * of one function could otherwise take every one (and keep them while its answers wait for a slow reader):
 * a tenth is kept for the others. Where the account's concurrency is the bound, one function may use it all,
 * as on AWS.
 */
export function versionMaxOf(maxContexts: number, accountConcurrency: number): number {
  return maxContexts < accountConcurrency ? maxContexts - Math.floor(maxContexts / KEPT_FOR_OTHERS_DIVISOR) : maxContexts;
}

/** The 429 of an invocation that needs a new context when every one the host holds is busy or provisioned. */
export function hostFull(): LambdaError {
  return new LambdaError('TooManyRequestsException', 'Rate Exceeded.', { Reason: HOST_FULL_REASON });
}
