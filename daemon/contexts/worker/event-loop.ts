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

/** Records the worker's own resources; called once the worker is running tasks, before user code loads. */
export function captureBaseline(): void {
  baseline = countResources();
}

/** True when nothing but the worker's own plumbing keeps the event loop alive. */
export function isEventLoopEmpty(): boolean {
  for (const [name, count] of countResources()) {
    if (count > (baseline.get(name) ?? 0)) return false;
  }
  return true;
}

/**
 * Lets timers that fell due while the context was frozen run before the handler. Overdue timers need two
 * turns of the loop after a thaw (measured; one is not enough). Skipped when nothing is pending.
 */
export async function thaw(): Promise<void> {
  if (isEventLoopEmpty()) return;
  await turn();
  await turn();
}

const POLL_CEILING_MS = 10;

/**
 * Resolves once the event loop is empty; stops polling (never resolving) once `abandoned()` says the answer
 * no longer matters. Polls with unref'd timers, which do not count as pending work, backing off to a few
 * milliseconds so a function waiting on a long timer costs almost nothing.
 */
export function whenEventLoopEmpty(abandoned: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    let delay = 0;
    const check = (): void => {
      if (abandoned()) return;
      if (isEventLoopEmpty()) {
        resolve();
        return;
      }
      delay = Math.min(POLL_CEILING_MS, Math.max(1, delay * 2));
      setTimeout(check, delay).unref();
    };
    setImmediate(check).unref();
  });
}
