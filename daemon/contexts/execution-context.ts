/**
 * One execution context: a worker thread run by its own single-thread Piscina pool. The pool gives us the
 * task protocol, Atomics-based freezing between tasks, transfer of bytes, and termination on abort; having
 * one per context gives each context its own heap limit, and lets a context be reaped or discarded exactly.
 * Under `thread` isolation it lives in the daemon's process; under `process` isolation, in a runner process
 * (runner/), where the daemon reaches it through a RunnerContext.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { LIMITS } from '../limits.js';
import type { InvokeTarget } from '../registry/index.js';
import type { ContextShape } from './index.js';
import { Journal } from './journal.js';
import { removeTree } from './scratch.js';
import type { ContextBinding, InitReply, InvokeReply, InvokeTask, LogRecord, WorkerTask } from './messages.js';

export enum ContextState {
  Starting = 'starting',
  /** Idle between invocations: its thread is blocked in Atomics.wait, its timers frozen. */
  Frozen = 'frozen',
  Busy = 'busy',
  Dead = 'dead',
}

const TRANSITIONS: Readonly<Record<ContextState, readonly ContextState[]>> = {
  [ContextState.Starting]: [ContextState.Frozen, ContextState.Dead],
  [ContextState.Frozen]: [ContextState.Busy, ContextState.Dead],
  [ContextState.Busy]: [ContextState.Frozen, ContextState.Dead],
  [ContextState.Dead]: [],
};

/** The state after `from` → `next`; throws on a transition the table does not allow. */
export function transition(from: ContextState, next: ContextState): ContextState {
  if (!TRANSITIONS[from].includes(next)) throw new Error(`execution context cannot go from ${from} to ${next}`);
  return next;
}

/** How an invocation left the thread, when the thread itself did not answer. */
export type ThreadFailure =
  | { readonly kind: 'timeout' }
  | { readonly kind: 'out-of-memory' }
  | { readonly kind: 'exit'; readonly exitCode: number }
  /** The runner process died of a signal (native crash, abort, a kill); `outOfMemory` when its memory limit killed it. */
  | { readonly kind: 'signal'; readonly signal: string; readonly outOfMemory: boolean }
  | { readonly kind: 'crash'; readonly error: Error };

export type RunResult = { readonly kind: 'reply'; readonly reply: InvokeReply } | ThreadFailure;

/** How an invocation ended, with what it logged (read even when the thread died). */
export interface RunReport {
  readonly result: RunResult;
  readonly initLogs: readonly LogRecord[];
  readonly logs: readonly LogRecord[];
  /** Records that did not fit the context's journal. */
  readonly droppedLogs: number;
  /** Set on the context's first invocation: how long loading the handler took. */
  readonly initDurationMs?: number;
  /** The last memory peak the worker recorded: what REPORT shows when the thread died before answering. */
  readonly peakMemoryBytes: number;
}

const WORKER_NICE_INCREMENT = 10;
/** While a cold start is still loading the function at its timeout, how often to look again. */
const INIT_POLL_MS = 50;

export const WORKER_ENTRY = new URL('./worker/entry.cjs', import.meta.url).href;
export const RUNTIME_DIRECTORY = dirname(fileURLToPath(WORKER_ENTRY));

/** Where a bound context finds its function, as the function's environment names them. */
export interface FunctionPaths {
  readonly codeDirectory: string;
  /** The function's layers in its order: each its own directory, or one merged `/opt`. */
  readonly layerDirectories: readonly string[];
  readonly tmpDirectory: string;
  /** lambdad's runtime files (LAMBDA_RUNTIME_DIR). */
  readonly runtimeDirectory: string;
  /** The function's HOME, where its sandbox has one. */
  readonly home?: string;
  /** The context runs in a process of the function's own (a runner), not in the daemon's. */
  readonly ownsProcess: boolean;
}

/** What the execution contexts' manager asks of a context, whichever process it lives in. */
export interface ExecutionContext {
  readonly shape: ContextShape;
  readonly state: ContextState;
  /** The function version this context serves; null until bound. */
  readonly versionKey: string | null;
  /** Takes over a reset context's temporary directory before being bound, as Lambda re-inits in the same sandbox. */
  adopt(reset: ResetSandbox): void;
  /** Makes the function of `target` reachable from the context, before it is bound; returns its paths there. */
  enter(versionKey: string, target: InvokeTarget): Promise<FunctionPaths>;
  /** Starts the context and loads the runtime, so that the first invocation only loads the function. */
  warmUp(): Promise<void>;
  initialize(versionKey: string, binding: ContextBinding, limitMs: number): Promise<InitResult>;
  run(versionKey: string, binding: ContextBinding | null, task: RunTask, timeoutMs: number): Promise<RunReport>;
  /** Ends the context; resolves once it is gone, with its temporary directory unless reset. */
  destroy(): Promise<void>;
}

export type RunTask = Omit<InvokeTask, 'binding' | 'kind'>;

export interface InitResult {
  readonly reply: InitReply;
  readonly initLogs: readonly LogRecord[];
  readonly initDurationMs?: number;
}

/**
 * What a context reset by its invocation leaves: its temporary directory, which Lambda keeps for the next init
 * in the same sandbox (spec/runtime.md §1), usable once the thread has exited.
 */
export interface ResetSandbox {
  readonly directory: string;
  readonly exited: Promise<void>;
}

export interface ContextOptions {
  readonly shape: ContextShape;
  /** The context's temporary directory (its TMPDIR), removed with the context unless the context was reset. */
  readonly tmpDirectory: string;
  /** False where the directory is not the context's alone (a runner's /tmp): it is then never removed or kept. */
  readonly ownsDirectory?: boolean;
  /** Called as the context dies; `reset` is set when an invocation ended it (timeout, crash, exit, fatal error). */
  readonly onDeath: (context: ExecutionContext, reset: ResetSandbox | null) => void;
}

export class ThreadContext implements ExecutionContext {
  readonly shape: ContextShape;
  #tmpDirectory: string;
  readonly #ownsDirectory: boolean;
  #state = ContextState.Starting;
  /** The function version this context serves, once bound. */
  #versionKey: string | null = null;
  readonly #pool: Piscina;
  readonly #journal = Journal.create();
  readonly #onDeath: ContextOptions['onDeath'];
  /** Set when the context dies: its thread's exit and its directory's removal. */
  #destroyed: Promise<void> | null = null;

  constructor(options: ContextOptions) {
    this.shape = options.shape;
    this.#tmpDirectory = options.tmpDirectory;
    this.#ownsDirectory = options.ownsDirectory ?? true;
    this.#onDeath = options.onDeath;
    this.#pool = new Piscina({
      filename: WORKER_ENTRY,
      // The thread is started by warmUp(); nothing may start another behind our back after it dies.
      minThreads: 0,
      maxThreads: 1,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      // Piscina's run and wait time histograms: a recording per invocation that nothing reads.
      recordTiming: false,
      atomics: 'sync',
      // Below the main thread's priority: with many contexts busy at once, the thread that dispatches them
      // (and answers every caller) must not get only its 1/N share of the cores.
      niceIncrement: WORKER_NICE_INCREMENT,
      // Never the daemon's environment: the binding brings the function's own.
      env: {},
      resourceLimits: { maxOldGenerationSizeMb: options.shape.memoryMb },
      workerData: { journal: this.#journal.buffer },
    });
    // Without a listener, a worker error outside a task would crash the daemon.
    this.#pool.on('error', () => this.#die());
  }

  get state(): ContextState {
    return this.#state;
  }


  /** The function version this context serves; null until bound. */
  get versionKey(): string | null {
    return this.#versionKey;
  }

  adopt(reset: ResetSandbox): void {
    if (this.#versionKey !== null || this.#state !== ContextState.Frozen) throw new Error('only an unbound, idle context can take over a directory');
    void removeTree(this.#tmpDirectory);
    this.#tmpDirectory = reset.directory;
  }

  enter(_versionKey: string, target: InvokeTarget): Promise<FunctionPaths> {
    return Promise.resolve({ codeDirectory: target.codeDirectory, layerDirectories: target.layerDirectories, tmpDirectory: this.#tmpDirectory, runtimeDirectory: RUNTIME_DIRECTORY, ownsProcess: false });
  }

  async warmUp(): Promise<void> {
    try {
      await this.#pool.run({ kind: 'warm-up' } satisfies WorkerTask);
      this.#transition(ContextState.Frozen);
    } catch (error) {
      this.#die();
      throw error;
    }
  }

  /**
   * Binds the context to `versionKey` and runs the function's init now, within `limitMs` (provisioned
   * concurrency). A context whose init fails or runs over is dead afterwards.
   */
  async initialize(versionKey: string, binding: ContextBinding, limitMs: number): Promise<InitResult> {
    if (this.#versionKey !== null) throw new Error(`context of ${this.#versionKey} cannot be initialised again`);
    this.#transition(ContextState.Busy);
    this.#versionKey = versionKey;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), limitMs);
    let reply: InitReply;
    try {
      reply = (await this.#pool.run({ kind: 'init', binding } satisfies WorkerTask, { signal: abort.signal })) as InitReply;
    } catch (error) {
      reply = abort.signal.aborted
        ? { ok: false, errorType: 'Runtime.InitTimeout', errorMessage: `Init did not finish within ${limitMs} ms` }
        : { ok: false, errorType: 'Runtime.InitError', errorMessage: (error as Error).message };
    } finally {
      clearTimeout(timer);
    }
    if (reply.ok) this.#transition(ContextState.Frozen);
    else this.#die();
    // No invocation started: everything the thread wrote belongs to the init.
    const { initLogs, logs, initDurationMs } = this.#journal.drain();
    return { reply, initLogs: [...initLogs, ...logs], ...(initDurationMs === undefined ? {} : { initDurationMs }) };
  }

  /** Runs one invocation; the first binds the context to `versionKey` and must bring the binding. */
  async run(versionKey: string, binding: ContextBinding | null, task: RunTask, timeoutMs: number): Promise<RunReport> {
    const result = await this.#run(versionKey, binding, task, timeoutMs);
    const { initLogs, logs, dropped, initDurationMs, peakMemoryBytes } = this.#journal.drain();
    return { result, initLogs, logs, droppedLogs: dropped, peakMemoryBytes, ...(initDurationMs === undefined ? {} : { initDurationMs }) };
  }

  async #run(versionKey: string, binding: ContextBinding | null, task: RunTask, timeoutMs: number): Promise<RunResult> {
    if (this.#versionKey === null ? binding === null : this.#versionKey !== versionKey) {
      throw new Error(`context of ${this.#versionKey ?? 'no version'} cannot run ${versionKey}${binding === null ? ' without a binding' : ''}`);
    }
    this.#transition(ContextState.Busy);
    this.#versionKey = versionKey;

    // A timeout ends the context, which rejects the running task: no abort signal per invocation.
    let timedOut = false;
    const timeout = this.#armTimeout(() => {
      timedOut = true;
      this.#die(true);
    }, binding !== null, timeoutMs);
    const payload = ownedBytes(task.payload);
    const message: InvokeTask = { kind: 'invoke', ...task, payload, ...(binding === null ? {} : { binding }) };
    try {
      const reply = (await this.#pool.run(message, { transferList: [payload.buffer as ArrayBuffer] })) as InvokeReply;
      if (reply.discard) this.#die(true);
      else this.#transition(ContextState.Frozen);
      return { kind: 'reply', reply };
    } catch (error) {
      this.#die(true);
      if (timedOut) return { kind: 'timeout' };
      return classifyThreadError(error as Error);
    } finally {
      timeout.cancel();
    }
  }

  /**
   * Calls `onTimeout` `timeoutMs` after the handler started. On a cold start that is after the init, which has
   * a limit of its own (spec/runtime.md §1): the worker writes the init's duration into the journal, read here.
   */
  #armTimeout(onTimeout: () => void, coldStart: boolean, timeoutMs: number): { cancel(): void } {
    const dispatched = performance.now();
    let timer: NodeJS.Timeout;
    const check = (): void => {
      const initMs = coldStart ? this.#journal.peekInitDurationMs() : 0;
      const elapsed = performance.now() - dispatched;
      if (initMs === undefined) {
        if (elapsed >= LIMITS.initMaxMs + timeoutMs) onTimeout();
        else timer = setTimeout(check, INIT_POLL_MS);
        return;
      }
      const remaining = initMs + timeoutMs - elapsed;
      if (remaining <= 0) onTimeout();
      else timer = setTimeout(check, remaining);
    };
    timer = setTimeout(check, timeoutMs);
    return { cancel: () => clearTimeout(timer) };
  }

  destroy(): Promise<void> {
    this.#die();
    return this.#destroyed!;
  }

  /** `reset`: an invocation ended the context, and its directory outlives it (the caller's to reuse or remove). */
  #die(reset = false): void {
    if (this.#state === ContextState.Dead) return;
    this.#state = ContextState.Dead;
    const directory = this.#tmpDirectory;
    const exited = this.#pool.destroy().then(
      () => undefined,
      () => undefined,
    );
    const keep = reset && this.#ownsDirectory;
    this.#destroyed = keep || !this.#ownsDirectory ? exited : exited.then(() => removeTree(directory));
    this.#onDeath(this, keep ? { directory, exited } : null);
  }

  #transition(next: ContextState): void {
    this.#state = transition(this.#state, next);
  }
}

/**
 * The event bytes in a buffer of their own, which can be moved to the worker rather than copied. A view into
 * a larger buffer (a slice of a network frame, Node's Buffer pool) is copied once: moving it would take the
 * rest of that buffer away from its owner, and cloning it would copy all of it.
 */
function ownedBytes(payload: Uint8Array): Uint8Array {
  const whole = payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength && !(payload.buffer instanceof SharedArrayBuffer);
  return whole ? payload : new Uint8Array(payload);
}

function classifyThreadError(error: Error): ThreadFailure {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return { kind: 'out-of-memory' };
  const exit = /^worker exited with code: (-?\d+)$/.exec(error.message);
  if (exit !== null) return { kind: 'exit', exitCode: Number(exit[1]) };
  return { kind: 'crash', error };
}
