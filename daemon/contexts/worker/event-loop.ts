/**
 * What the worker's event loop is doing, as Lambda's runtime sees it: "empty" means nothing the function
 * started is still pending. The worker's own message ports are always there, so they are the baseline.
 */
import { setImmediate as turn } from 'node:timers/promises';

type ResourceCounts = Map<string, number>;

function countResources(): ResourceCounts {
  const counts: ResourceCounts = new Map();
  for (const name of process.getActiveResourcesInfo()) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

let baseline: ResourceCounts = new Map();
let baselineTotal = 0;

/** Records the worker's own resources; called once the worker is running tasks, before user code loads. */
export function captureBaseline(): void {
  baseline = countResources();
  baselineTotal = process.getActiveResourcesInfo().length;
}

/** True when nothing but the worker's own plumbing keeps the event loop alive. */
export function isEventLoopEmpty(): boolean {
  for (const [name, count] of countResources()) {
    if (count > (baseline.get(name) ?? 0)) return false;
  }
  return true;
}

/**
 * True when something the function started is pending, which a thaw must let run. Most invocations left nothing
 * behind: no more resources than the worker's own, counted without sorting.
 */
export function needsThaw(): boolean {
  return process.getActiveResourcesInfo().length > baselineTotal && !isEventLoopEmpty();
}

/**
 * Lets timers that fell due while the context was frozen run before the handler. Overdue timers need two
 * turns of the loop after a thaw (measured; one is not enough).
 */
export async function thaw(): Promise<void> {
  await turn();
  await turn();
}

/** Polls are at most this far apart at first… */
const POLL_CEILING_MS = 10;
/** …then at most a tenth of the time waited so far (so an answer is late by ≤ 10 %), up to this. */
const POLL_MAX_MS = 1_000;

/** A wait for the event loop to empty, and its end when the answer no longer matters. */
export interface EmptyLoopWait {
  readonly done: Promise<void>;
  /**
   * Stops polling and drops the pending check. Needed, not just tidy: between quick invocations the thread may
   * never reach the check, and a check left pending keeps its invocation's event and result alive.
   */
  stop(): void;
}

/**
 * Resolves `done` once the event loop is empty. Polls with unref'd timers, which do not count as pending work,
 * backing off so that a function waiting on a long timer costs almost nothing: a thousand contexts awaiting I/O
 * must not keep the cores busy asking.
 */
export function whenEventLoopEmpty(): EmptyLoopWait {
  let pending: { immediate: NodeJS.Immediate } | { timeout: NodeJS.Timeout } | null = null;
  let stopped = false;
  const done = new Promise<void>((resolve) => {
    const started = performance.now();
    let delay = 0;
    const check = (): void => {
      pending = null;
      if (stopped) return;
      if (isEventLoopEmpty()) {
        resolve();
        return;
      }
      const ceiling = Math.min(POLL_MAX_MS, Math.max(POLL_CEILING_MS, (performance.now() - started) / 10));
      delay = Math.min(ceiling, Math.max(1, delay * 2));
      pending = { timeout: setTimeout(check, delay).unref() };
    };
    pending = { immediate: setImmediate(check).unref() };
  });
  return {
    done,
    stop: () => {
      stopped = true;
      if (pending !== null) {
        if ('immediate' in pending) clearImmediate(pending.immediate);
        else clearTimeout(pending.timeout);
      }
      pending = null;
    },
  };
}
