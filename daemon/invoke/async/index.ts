/**
 * Asynchronous invocation (spec async-and-events.md §1): an accepted event is kept durably until its outcome
 * has been delivered. A dispatcher runs due events through the normal invoke path (the `attempt` the service
 * gives it); function errors are retried MaximumRetryAttempts times after 1× and 2× the retry delay,
 * throttles go back to the queue with a backoff from 1 s to 5 min, and an event older than
 * MaximumEventAgeInSeconds expires. Outcomes go to the configured destinations as invocation records.
 * Each event keeps its request id across attempts.
 */
import type { Clock, Ids } from '../../clock.js';
import { LambdaError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import type { DaemonLog } from '../../observability/daemon-log.js';
import type { MetricsRecorder } from '../../observability/metrics.js';
import { EventState, EventStore, type EventRecord } from './event-store.js';
import { EventInvokeConfigs, type Destinations } from './configs.js';

export { EventInvokeConfigs, type FunctionEventInvokeConfig, type EventInvokeConfigInput } from './configs.js';

/** How one attempt ended, as the dispatcher needs to know it. */
export type AttemptOutcome =
  | { readonly kind: 'success'; readonly executedVersion: string; readonly payload: Uint8Array }
  | { readonly kind: 'function-error'; readonly executedVersion: string; readonly payload: Uint8Array }
  | { readonly kind: 'throttled' }
  /** The function or its qualifier no longer exists: the event is dropped. */
  | { readonly kind: 'gone'; readonly reason: string }
  /** The daemon is stopping: the event stays taken and runs again after the restart. */
  | { readonly kind: 'stopping' };

export type Attempt = (event: EventRecord) => Promise<AttemptOutcome>;

/** Why an event ended where it did (the record's `condition`). */
type Condition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded';

export interface AsyncOptions {
  readonly dataDir: string;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly region: string;
  readonly accountId: string;
  /** The first retry after a function error waits this long, the second twice as long. */
  readonly retryDelayMs: number;
  readonly log: DaemonLog;
  readonly metrics: MetricsRecorder;
}

const THROTTLE_BACKOFF_MIN_MS = 1_000;
const THROTTLE_BACKOFF_MAX_MS = 5 * 60_000;
/** Attempts the dispatcher runs at once; the account's concurrency still decides what actually runs. */
const DISPATCH_MAX_IN_FLIGHT = 64;
const DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 2;

export class AsyncInvocations {
  readonly configs: EventInvokeConfigs;
  readonly #store: EventStore;
  readonly #options: AsyncOptions;
  #attempt: Attempt | null = null;
  #destinations: Destinations | null = null;
  readonly #running = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | null = null;
  #pumping = false;
  #stopped = false;

  constructor(options: AsyncOptions) {
    this.#options = options;
    this.#store = new EventStore(options.dataDir);
    this.configs = new EventInvokeConfigs(this.#store, options);
  }

  /**
   * Starts dispatching: events a previous daemon left running go back to the queue first (delivery is at
   * least once). `attempt` runs one attempt; `destinations` delivers records and dead letters.
   */
  start(attempt: Attempt, destinations: Destinations): void {
    this.#attempt = attempt;
    this.#destinations = destinations;
    const recovered = this.#store.recover(this.#options.clock.now());
    if (recovered > 0) this.#options.log('async-recovered', { events: recovered });
    this.#wake(0);
  }

  /** Keeps the event durably (committed before this returns) and returns its request id. */
  enqueue(functionName: string, qualifier: string | null, payload: Uint8Array): string {
    if (this.#stopped) throw new LambdaError('ServiceException', 'lambdad is stopping: the event was not accepted');
    const id = this.#options.ids.uuid();
    const now = this.#options.clock.now();
    this.#store.insert({ id, functionName, qualifier, payload, state: EventState.Queued, attempts: 0, throttles: 0, enqueuedAt: now, dueAt: now });
    this.#options.metrics.asyncReceived(functionName, qualifier ?? '$LATEST');
    this.#wake(0);
    return id;
  }

  /** Stops taking events (and accepting new ones). */
  pause(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
  }

  /** Pauses, and resolves once the attempts still running have recorded their outcome. */
  async stop(): Promise<void> {
    this.pause();
    await Promise.allSettled([...this.#running]);
  }

  close(): void {
    this.#store.close();
  }

  #wake(delayMs: number): void {
    if (this.#stopped || this.#attempt === null) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#pump();
    }, Math.max(0, delayMs));
    this.#timer.unref();
  }

  #pump(): void {
    if (this.#pumping || this.#stopped) return;
    this.#pumping = true;
    try {
      const room = DISPATCH_MAX_IN_FLIGHT - this.#running.size;
      const now = this.#options.clock.now();
      for (const event of room > 0 ? this.#store.take(now, room) : []) {
        const running: Promise<void> = this.#process(event).catch((error: Error) => this.#options.log('async-failed', { requestId: event.id, error: error.message }));
        this.#running.add(running);
        void running.finally(() => {
          this.#running.delete(running);
          this.#wake(0);
        });
      }
      if (this.#running.size < DISPATCH_MAX_IN_FLIGHT) {
        const next = this.#store.nextDueAt();
        if (next !== null) this.#wake(next - this.#options.clock.now());
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #process(event: EventRecord): Promise<void> {
    const config = this.configs.effective(event.functionName, event.qualifier);
    const maxAgeMs = (config?.maximumEventAgeInSeconds ?? LIMITS.asyncEventMaxAgeSeconds) * 1000;
    const maxRetries = config?.maximumRetryAttempts ?? DEFAULT_MAXIMUM_RETRY_ATTEMPTS;
    const now = this.#options.clock.now();
    if (now - event.enqueuedAt >= maxAgeMs) {
      this.#fail(event, 'EventAgeExceeded', event.attempts, null, config?.onFailure ?? null);
      return;
    }
    this.#options.metrics.asyncAttempted(event.functionName, event.qualifier ?? '$LATEST', now - event.enqueuedAt);
    const outcome = await this.#attempt!(event);
    const after = this.#options.clock.now();
    switch (outcome.kind) {
      case 'success':
        this.#store.finish(event.id, () => this.#destinations!.deliver(event, config?.onSuccess ?? null, this.#record(event, 'Success', event.attempts + 1, outcome)));
        return;
      case 'function-error': {
        const attempts = event.attempts + 1;
        if (attempts <= maxRetries) {
          this.#store.requeue(event.id, attempts, 0, after + this.#options.retryDelayMs * attempts);
          return;
        }
        this.#fail(event, 'RetriesExhausted', attempts, outcome, config?.onFailure ?? null);
        return;
      }
      case 'throttled': {
        const throttles = event.throttles + 1;
        const backoff = Math.min(THROTTLE_BACKOFF_MAX_MS, THROTTLE_BACKOFF_MIN_MS * 2 ** Math.min(throttles - 1, 20));
        // Never later than the moment the event expires, so it expires on time.
        this.#store.requeue(event.id, event.attempts, throttles, Math.min(after + backoff, event.enqueuedAt + maxAgeMs));
        return;
      }
      case 'gone':
        this.#options.log('async-dropped', { requestId: event.id, function: event.functionName, reason: outcome.reason });
        this.#store.finish(event.id);
        return;
      case 'stopping':
        return;
    }
  }

  /** The on-failure destination gets the record, the function's dead-letter queue the event itself. */
  #fail(event: EventRecord, condition: Condition, invokeCount: number, outcome: Extract<AttemptOutcome, { kind: 'function-error' }> | null, destination: string | null): void {
    const destinations = this.#destinations!;
    this.#options.metrics.asyncDropped(event.functionName, event.qualifier ?? '$LATEST', condition);
    this.#store.finish(event.id, () => {
      destinations.deliver(event, destination, this.#record(event, condition, invokeCount, outcome));
      destinations.deadLetter(event, outcome === null ? null : errorMessageOf(outcome.payload));
    });
  }

  /** The invocation record of spec async-and-events.md §1. */
  #record(event: EventRecord, condition: Condition, invokeCount: number, outcome: Extract<AttemptOutcome, { kind: 'success' | 'function-error' }> | null): string {
    const { region, accountId } = this.#options;
    return JSON.stringify({
      version: '1.0',
      timestamp: new Date(this.#options.clock.now()).toISOString(),
      requestContext: {
        requestId: event.id,
        functionArn: `arn:aws:lambda:${region}:${accountId}:function:${event.functionName}:${event.qualifier ?? '$LATEST'}`,
        condition,
        approximateInvokeCount: invokeCount,
      },
      requestPayload: parsedOrText(event.payload),
      ...(outcome === null
        ? {}
        : {
            responseContext: { statusCode: 200, executedVersion: outcome.executedVersion, ...(outcome.kind === 'function-error' ? { functionError: 'Unhandled' } : {}) },
            responsePayload: parsedOrText(outcome.payload),
          }),
    });
  }
}

const decoder = new TextDecoder();

function parsedOrText(bytes: Uint8Array): unknown {
  const text = decoder.decode(bytes);
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorMessageOf(payload: Uint8Array): string {
  const parsed = parsedOrText(payload) as { errorMessage?: unknown } | null;
  return typeof parsed?.errorMessage === 'string' ? parsed.errorMessage : '';
}
