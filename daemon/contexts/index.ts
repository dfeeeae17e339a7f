/**
 * Execution contexts: where an invocation runs. Warm contexts are kept per function version and reused most
 * recently used first; a cold start takes a spare context (thread already started, runtime loaded) of the
 * right memory size, or starts one; idle contexts are reaped after the keep-warm period.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, Ids } from '../clock.js';
import type { InvokeTarget } from '../registry/index.js';
import { functionEnvironment, logStreamName } from './environment.js';
import { ContextState, ExecutionContext, type RunReport } from './execution-context.js';
import type { ContextBinding } from './messages.js';
import { resetDirectory } from './scratch.js';

export type { LogRecord } from './messages.js';
export { JOURNAL_LOG_BYTES } from './journal.js';

/** A refill stops after this many rounds of starting threads, so failing starts cannot loop forever. */
const REFILL_ROUNDS = 4;

export interface ContextsOptions {
  /** Parent of the contexts' temporary directories. */
  readonly workDirectory: string;
  readonly region: string;
  readonly keepWarmMs: number;
  readonly spareWorkers: number;
  readonly clock: Clock;
  readonly ids: Ids;
}

export interface InvocationRequest {
  readonly requestId: string;
  readonly payload: Uint8Array;
  readonly clientContext?: string;
}

export interface ContextRun {
  readonly report: RunReport;
  /** Thread start-up of a cold start that found no spare context, added to Init Duration. */
  readonly threadStartMs: number;
  readonly logStreamName: string;
}

interface WarmContext {
  readonly context: ExecutionContext;
  readonly logStreamName: string;
  /** The retirement count when the context was bound: a later retire() of its version ends it. */
  readonly boundAt: number;
  reaper: NodeJS.Timeout | null;
}

export class ExecutionContexts {
  readonly #options: ContextsOptions;
  /** Idle contexts per function version, most recently used last. */
  readonly #warm = new Map<string, WarmContext[]>();
  /** Per function, the retirement count of its last retire(): of `$LATEST` only, and of every version. */
  readonly #retired = new Map<string, { latest: number; all: number }>();
  #retirements = 0;
  /** Started but unbound contexts per memory size. */
  readonly #spares = new Map<number, ExecutionContext[]>();
  readonly #refilling = new Set<number>();
  /** Every context not yet dead, whatever it is doing: what close() must end. */
  readonly #live = new Set<ExecutionContext>();
  #closed = false;

  constructor(options: ContextsOptions) {
    this.#options = options;
    // Directories of contexts that died with an earlier daemon process.
    resetDirectory(options.workDirectory);
  }

  /** Starts spare contexts for the given memory sizes. */
  async prepare(memorySizes: Iterable<number>): Promise<void> {
    await Promise.all([...new Set(memorySizes)].map((memoryMb) => this.#refill(memoryMb)));
  }

  async run(target: InvokeTarget, request: InvocationRequest): Promise<ContextRun> {
    if (this.#closed) throw new Error('execution contexts are closed');
    const { configuration } = target;
    const versionKey = `${configuration.FunctionName}:${target.executedVersion}@${configuration.RevisionId}`;
    const timeoutMs = configuration.Timeout * 1000;

    const warm = this.#takeWarm(versionKey);
    let context: ExecutionContext;
    let streamName: string;
    let threadStartMs = 0;
    let binding: ContextBinding | null = null;
    let boundAt = this.#retirements;
    if (warm !== undefined) {
      context = warm.context;
      streamName = warm.logStreamName;
      boundAt = warm.boundAt;
    } else {
      const spare = this.#spares.get(configuration.MemorySize)?.shift();
      if (spare !== undefined) {
        context = spare;
      } else {
        const started = performance.now();
        context = await this.#startContext(configuration.MemorySize);
        threadStartMs = performance.now() - started;
      }
      streamName = logStreamName(this.#options.clock.now(), target.executedVersion, this.#options.ids.hex(16));
      binding = {
        codeDirectory: target.codeDirectory,
        handler: configuration.Handler,
        memoryLimitBytes: configuration.MemorySize * 1024 * 1024,
        environment: functionEnvironment({
          configuration,
          executedVersion: target.executedVersion,
          region: this.#options.region,
          codeDirectory: target.codeDirectory,
          logStreamName: streamName,
          tmpDirectory: context.tmpDirectory,
        }),
      };
    }

    try {
      const report = await context.run(
        versionKey,
        binding,
        {
          requestId: request.requestId,
          payload: request.payload,
          timeoutMs,
          invokedFunctionArn: target.invokedFunctionArn,
          ...(request.clientContext === undefined ? {} : { clientContext: request.clientContext }),
        },
        timeoutMs,
      );
      return { report, threadStartMs, logStreamName: streamName };
    } finally {
      const retired = this.#retired.get(configuration.FunctionName);
      const stale = retired !== undefined && (boundAt < retired.all || (target.executedVersion === '$LATEST' && boundAt < retired.latest));
      if (context.state === ContextState.Frozen && !stale) this.#keepWarm(versionKey, context, streamName, boundAt);
      else if (context.state === ContextState.Frozen) void context.destroy();
      // Replace the spare (or, for a memory size that had none, start some) only now: starting a thread
      // would compete with this cold start.
      if (binding !== null) this.#scheduleRefill(configuration.MemorySize);
    }
  }

  /**
   * Ends the contexts of a function's `$LATEST` (its code or configuration changed) or of all its versions (it
   * was deleted): idle ones now, busy ones when their invocation ends.
   */
  retire(functionName: string, versions: 'latest' | 'all'): void {
    this.#retirements += 1;
    const previous = this.#retired.get(functionName) ?? { latest: 0, all: 0 };
    this.#retired.set(functionName, versions === 'all' ? { latest: this.#retirements, all: this.#retirements } : { ...previous, latest: this.#retirements });
    const prefix = versions === 'all' ? `${functionName}:` : `${functionName}:$LATEST@`;
    for (const [key, list] of this.#warm) {
      if (!key.startsWith(prefix)) continue;
      this.#warm.delete(key);
      for (const warm of list) this.#reap(warm);
    }
  }

  /** Ends every context; an invocation still running fails as its thread is terminated. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const list of this.#warm.values()) for (const warm of list) if (warm.reaper !== null) clearTimeout(warm.reaper);
    this.#warm.clear();
    this.#spares.clear();
    await Promise.all([...this.#live].map((context) => context.destroy()));
  }

  #takeWarm(versionKey: string): WarmContext | undefined {
    const list = this.#warm.get(versionKey);
    for (let warm = list?.pop(); warm !== undefined; warm = list?.pop()) {
      if (warm.reaper !== null) clearTimeout(warm.reaper);
      if (warm.context.state === ContextState.Frozen) return warm;
    }
    return undefined;
  }

  #keepWarm(versionKey: string, context: ExecutionContext, streamName: string, boundAt: number): void {
    if (this.#closed) {
      void context.destroy();
      return;
    }
    const warm: WarmContext = { context, logStreamName: streamName, boundAt, reaper: null };
    warm.reaper = setTimeout(() => {
      const list = this.#warm.get(versionKey);
      const index = list?.indexOf(warm) ?? -1;
      if (list !== undefined && index >= 0) list.splice(index, 1);
      if (list?.length === 0) this.#warm.delete(versionKey);
      this.#reap(warm);
    }, this.#options.keepWarmMs).unref();
    let list = this.#warm.get(versionKey);
    if (list === undefined) this.#warm.set(versionKey, (list = []));
    list.push(warm);
  }

  #reap(warm: WarmContext): void {
    if (warm.reaper !== null) clearTimeout(warm.reaper);
    void warm.context.destroy();
  }

  #scheduleRefill(memoryMb: number): void {
    if (!this.#closed) setImmediate(() => void this.#refill(memoryMb).catch(() => undefined));
  }

  async #refill(memoryMb: number): Promise<void> {
    if (this.#refilling.has(memoryMb) || this.#closed) return;
    this.#refilling.add(memoryMb);
    try {
      let list = this.#spares.get(memoryMb);
      if (list === undefined) this.#spares.set(memoryMb, (list = []));
      // Spares taken while this refill runs are replaced by its next round.
      for (let round = 0; round < REFILL_ROUNDS && !this.#closed && list.length < this.#options.spareWorkers; round++) {
        const missing = this.#options.spareWorkers - list.length;
        const started = await Promise.allSettled(Array.from({ length: missing }, () => this.#startContext(memoryMb)));
        for (const outcome of started) if (outcome.status === 'fulfilled') list.push(outcome.value);
        if (started.every((outcome) => outcome.status === 'rejected')) break;
      }
    } finally {
      this.#refilling.delete(memoryMb);
    }
  }

  async #startContext(memoryMb: number): Promise<ExecutionContext> {
    const tmpDirectory = join(this.#options.workDirectory, this.#options.ids.hex(8));
    mkdirSync(tmpDirectory, { recursive: true });
    const context = new ExecutionContext({
      memoryMb,
      tmpDirectory,
      onDeath: (dead) => this.#forget(dead),
    });
    this.#live.add(context);
    await context.warmUp();
    if (this.#closed) {
      // close() ran while this thread was starting.
      await context.destroy();
      throw new Error('execution contexts are closed');
    }
    return context;
  }

  /** A context that died while idle (a spare or a warm one) must not be handed out. */
  #forget(dead: ExecutionContext): void {
    this.#live.delete(dead);
    for (const [memoryMb, list] of this.#spares) {
      const index = list.indexOf(dead);
      if (index >= 0) list.splice(index, 1);
      if (index >= 0) this.#scheduleRefill(memoryMb);
    }
  }
}
