/** Messages between the daemon's main thread and an execution context's worker thread. */
import type { Placement } from '../network/policy.js';

/** The network policy a context enforces: the function's placement, and how a blocked connection fails. */
export interface NetworkBinding {
  readonly placement: Placement;
  readonly connectTimeoutMs: number;
}

/** What a context becomes on its first invocation: one function version, for the rest of its life. */
export interface ContextBinding {
  readonly network: NetworkBinding;
  readonly codeDirectory: string;
  readonly handler: string;
  /** The whole environment of the function: its variables and Lambda's reserved ones. */
  readonly environment: Readonly<Record<string, string>>;
  readonly memoryLimitBytes: number;
  /** The context runs in a process of the function's own (a runner), not in the daemon's. */
  readonly ownsProcess: boolean;
}

export interface InvokeTask {
  readonly kind: 'invoke';
  /** Present on the first invocation of a context only. */
  readonly binding?: ContextBinding;
  readonly requestId: string;
  /** Event bytes exactly as the caller sent them; the worker parses them. */
  readonly payload: Uint8Array;
  /** The function's timeout: the deadline is this long after the handler starts (after any init). */
  readonly timeoutMs: number;
  readonly invokedFunctionArn: string;
  /** Decoded client context JSON text (sync invocations only). */
  readonly clientContext?: string;
  /** The invocation's X-Ray trace header, set as `_X_AMZN_TRACE_ID` while it runs. */
  readonly traceId?: string;
}

/** Starts the thread and loads the runtime, so a spare context is ready before it is needed. */
export interface WarmUpTask {
  readonly kind: 'warm-up';
}

/** Binds the context and runs the function's init ahead of any invocation (provisioned concurrency). */
export interface InitTask {
  readonly kind: 'init';
  readonly binding: ContextBinding;
}

/** How an init task ended: ready, or the error the function's init threw. */
export type InitReply = { readonly ok: true } | { readonly ok: false; readonly errorType: string; readonly errorMessage: string };

export type WorkerTask = InvokeTask | WarmUpTask | InitTask;

export interface LogRecord {
  /** Epoch milliseconds. */
  readonly timestamp: number;
  /** The record as written to the log stream (already prefixed for console output). */
  readonly message: string;
}

export type InvokeOutcome =
  | { readonly kind: 'success'; readonly payload: Uint8Array }
  /** A function error: the payload is the `{errorType, errorMessage, trace}` JSON. */
  | { readonly kind: 'error'; readonly errorType: string; readonly payload: Uint8Array }
  /** The event bytes are not JSON: refused before the handler runs. */
  | { readonly kind: 'invalid-request'; readonly message: string };

export interface InvokeReply {
  readonly outcome: InvokeOutcome;
  readonly durationMs: number;
  /** Highest heap + external memory seen during this invocation (and its init). */
  readonly peakMemoryBytes: number;
  /** The context cannot serve again (failed init, out of memory, unhandled rejection). */
  readonly discard: boolean;
}
