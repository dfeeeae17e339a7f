/**
 * Execution contexts: where an invocation runs. Provisioned contexts (initialised ahead, never reaped) are
 * used first; then warm contexts, kept per function version and reused most recently used first; a cold start
 * takes a spare context (thread already started, runtime loaded) of the right memory size, or starts one;
 * idle on-demand contexts are reaped after the keep-warm period.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, Ids } from '../clock.js';
import { LIMITS } from '../limits.js';
import type { InvokeTarget } from '../registry/index.js';
import { functionEnvironment, logStreamName } from './environment.js';
import { ContextState, ExecutionContext, type ResetSandbox, type RunReport } from './execution-context.js';
import type { ContextBinding, LogRecord, NetworkBinding } from './messages.js';
import { removeTree, resetDirectory } from './scratch.js';

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
  /**
   * Contexts serving functions, idle or busy, at most (the account's concurrency): a cold start at the cap
   * first ends the context idle the longest. Spares come on top.
   */
  readonly maxContexts: number;
  /** `host:port` of the X-Ray daemon functions send segments to; unset when tracing is off. */
  readonly xrayDaemonAddress?: string;
  /** Where a function sits in the network, and how long a blocked connection hangs: its contexts enforce it. */
  readonly network: (target: InvokeTarget) => NetworkBinding;
  readonly clock: Clock;
  readonly ids: Ids;
}

export interface InvocationRequest {
  readonly requestId: string;
  readonly payload: Uint8Array;
  readonly clientContext?: string;
  readonly traceId?: string;
}

export interface ContextRun {
  readonly report: RunReport;
  /** Thread start-up of a cold start that found no spare context, added to Init Duration. */
  readonly threadStartMs: number;
  readonly logStreamName: string;
  /** Where it ran: a provisioned context, on demand although its version is provisioned (spill-over), or on demand. */
  readonly placement: 'provisioned' | 'spillover' | 'on-demand';
}

/** How many contexts are in each state, for the execution-environments gauge. */
export interface ContextCensus {
  /** Bound to a version, waiting for an invocation (provisioned ones included). */
  readonly idle: number;
  readonly busy: number;
  /** Started ahead, not bound yet. */
  readonly spare: number;
}

/** One provisioning's allocation and use, for the provisioned-concurrency gauges. */
export interface ProvisionedUse {
  readonly target: InvokeTarget;
  readonly allocated: number;
  readonly busy: number;
}

interface WarmContext {
  readonly context: ExecutionContext;
  readonly logStreamName: string;
  /** The retirement count when the context was bound: a later retire() of its version ends it. */
  readonly boundAt: number;
  /** When it last finished an invocation (performance.now()): reaped past the keep-warm period; first at the cap. */
  readonly idleSince: number;
  /** Set for a provisioned context: it goes back to its provisioning, never to the reaper. */
  readonly provisioning?: Provisioning;
}

/** A reset context's directory, waiting for the next context of its version: dropped after the keep-warm period. */
interface KeptSandbox extends ResetSandbox {
  /** When its context died (performance.now()). */
  readonly since: number;
}

/** What a provisioned-concurrency config keeps ready, and how far it got. */
export interface ProvisionedStatus {
  /** Contexts initialised and alive. */
  readonly allocated: number;
  /** Why the last init failed, if one did. */
  readonly failure: string | null;
}

interface Provisioning {
  readonly id: string;
  readonly versionKey: string;
  readonly target: InvokeTarget;
  readonly count: number;
  readonly onInitLogs: InitLogsListener;
  /** Its contexts that are alive, idle or busy. */
  readonly contexts: Set<ExecutionContext>;
  failure: string | null;
  /** Settles once `count` contexts are ready or an init failed. */
  filling: Promise<void> | null;
}

/** Receives what a provisioned context's init logged, for its log stream. */
export type InitLogsListener = (logStreamName: string, records: readonly LogRecord[]) => void;

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
  /** Contexts bound to a function version (idle, busy or provisioned): what the account's limit bounds. */
  readonly #serving = new Set<ExecutionContext>();
  /** Provisioned-concurrency configs by their id, and their idle contexts by function version. */
  readonly #provisionings = new Map<string, Provisioning>();
  readonly #provisionedIdle = new Map<string, WarmContext[]>();
  /**
   * Per function version, the directories of contexts an invocation reset (timeout, crash, exit, fatal error):
   * Lambda re-runs the init in the same sandbox, /tmp kept (spec/runtime.md §1), so the version's next new
   * context takes one over. Oldest first.
   */
  readonly #resetSandboxes = new Map<string, KeptSandbox[]>();
  /** Reset directories taken for a new context, waiting for their old thread to exit: close() removes them too. */
  readonly #adopting = new Set<KeptSandbox>();
  /** One timer for every warm context, due when the longest idle reaches the keep-warm period: not one per invocation. */
  #reaper: NodeJS.Timeout | null = null;
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
    const versionKey = versionKeyOf(target);
    const timeoutMs = configuration.Timeout * 1000;

    const provisioned = this.#provisionedIdle.get(versionKey)?.pop();
    const warm = provisioned ?? this.#takeWarm(versionKey);
    const placement = provisioned !== undefined ? 'provisioned' : this.#isProvisioned(versionKey) ? 'spillover' : 'on-demand';
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
      // A new context is about to serve a function: at the account's limit, the longest idle one makes room.
      this.#makeRoom();
      const spare = this.#spares.get(configuration.MemorySize)?.shift();
      if (spare !== undefined) {
        context = spare;
      } else {
        const started = performance.now();
        context = await this.#startContext(configuration.MemorySize);
        threadStartMs = performance.now() - started;
      }
      await this.#adoptResetSandbox(versionKey, context);
      streamName = logStreamName(this.#options.clock.now(), target.executedVersion, this.#options.ids.hex(16));
      binding = this.#binding(target, streamName, context, 'on-demand');
      this.#serving.add(context);
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
          ...(request.traceId === undefined ? {} : { traceId: request.traceId }),
        },
        timeoutMs,
      );
      return { report, threadStartMs, logStreamName: streamName, placement };
    } finally {
      if (warm?.provisioning !== undefined) {
        this.#returnProvisioned(warm.provisioning, { context, logStreamName: streamName, boundAt, idleSince: performance.now(), provisioning: warm.provisioning });
      } else {
        const retired = this.#retired.get(configuration.FunctionName);
        const stale = retired !== undefined && (boundAt < retired.all || (target.executedVersion === '$LATEST' && boundAt < retired.latest));
        if (context.state === ContextState.Frozen && !stale) this.#keepWarm(versionKey, context, streamName, boundAt);
        else if (context.state === ContextState.Frozen) void context.destroy();
      }
      // Replace the spare (or, for a memory size that had none, start some) only now: starting a thread
      // would compete with this cold start.
      if (binding !== null) this.#scheduleRefill(configuration.MemorySize);
    }
  }

  /**
   * Keeps `count` contexts of `target`'s version initialised ahead under `id` (AWS_LAMBDA_INITIALIZATION_TYPE
   * `provisioned-concurrency`): used before any other context, never reaped, replaced when one dies. Resolves
   * once all are ready or one failed to initialise.
   */
  provision(id: string, target: InvokeTarget, count: number, onInitLogs: InitLogsListener): Promise<ProvisionedStatus> {
    this.unprovision(id);
    const provisioning: Provisioning = { id, versionKey: versionKeyOf(target), target, count, onInitLogs, contexts: new Set(), failure: null, filling: null };
    this.#provisionings.set(id, provisioning);
    return this.#fill(provisioning).then(() => this.provisionedStatus(id)!);
  }

  /** Ends a provisioning: its idle contexts now; busy ones after their invocation. */
  unprovision(id: string): void {
    const provisioning = this.#provisionings.get(id);
    if (provisioning === undefined) return;
    this.#provisionings.delete(id);
    const idle = this.#provisionedIdle.get(provisioning.versionKey) ?? [];
    const kept = idle.filter((warm) => warm.provisioning !== provisioning);
    for (const warm of idle) if (warm.provisioning === provisioning) void warm.context.destroy();
    if (kept.length === 0) this.#provisionedIdle.delete(provisioning.versionKey);
    else this.#provisionedIdle.set(provisioning.versionKey, kept);
  }

  /** The version a provisioning keeps contexts of. */
  provisionedVersion(id: string): string | undefined {
    return this.#provisionings.get(id)?.target.executedVersion;
  }

  provisionedStatus(id: string): ProvisionedStatus | undefined {
    const provisioning = this.#provisionings.get(id);
    return provisioning === undefined ? undefined : { allocated: provisioning.contexts.size, failure: provisioning.failure };
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
      for (const warm of list) void warm.context.destroy();
    }
    for (const [key, list] of this.#resetSandboxes) {
      if (!key.startsWith(prefix)) continue;
      this.#resetSandboxes.delete(key);
      for (const kept of list) void removeReset(kept);
    }
  }

  /** Ends every context; an invocation still running fails as its thread is terminated. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reaper !== null) clearTimeout(this.#reaper);
    this.#warm.clear();
    this.#spares.clear();
    this.#provisionings.clear();
    this.#provisionedIdle.clear();
    const kept = [...this.#resetSandboxes.values()].flat().concat([...this.#adopting]);
    this.#resetSandboxes.clear();
    this.#adopting.clear();
    await Promise.all([...[...this.#live].map((context) => context.destroy()), ...kept.map(removeReset)]);
  }

  #binding(target: InvokeTarget, streamName: string, context: ExecutionContext, initializationType: 'on-demand' | 'provisioned-concurrency'): ContextBinding {
    const { configuration } = target;
    return {
      codeDirectory: target.codeDirectory,
      handler: configuration.Handler,
      memoryLimitBytes: configuration.MemorySize * 1024 * 1024,
      network: this.#options.network(target),
      environment: functionEnvironment({
        configuration,
        executedVersion: target.executedVersion,
        region: this.#options.region,
        codeDirectory: target.codeDirectory,
        layerDirectories: target.layerDirectories,
        logStreamName: streamName,
        tmpDirectory: context.tmpDirectory,
        initializationType,
        ...(this.#options.xrayDaemonAddress === undefined ? {} : { xrayDaemonAddress: this.#options.xrayDaemonAddress }),
      }),
    };
  }

  /** Starts and initialises contexts until the provisioning has its count; one failed init stops it. */
  #fill(provisioning: Provisioning): Promise<void> {
    provisioning.filling ??= (async () => {
      while (this.#isCurrent(provisioning) && provisioning.contexts.size < provisioning.count && !this.#closed) {
        const missing = provisioning.count - provisioning.contexts.size;
        const started = await Promise.allSettled(Array.from({ length: missing }, () => this.#initialiseProvisioned(provisioning)));
        const failed = started.find((outcome) => outcome.status === 'rejected');
        if (failed !== undefined) {
          provisioning.failure = (failed.reason as Error).message;
          break;
        }
      }
    })().finally(() => {
      provisioning.filling = null;
    });
    return provisioning.filling;
  }

  async #initialiseProvisioned(provisioning: Provisioning): Promise<void> {
    const { target } = provisioning;
    const { configuration } = target;
    const context = this.#spares.get(configuration.MemorySize)?.shift() ?? (await this.#startContext(configuration.MemorySize));
    this.#scheduleRefill(configuration.MemorySize);
    await this.#adoptResetSandbox(provisioning.versionKey, context);
    const streamName = logStreamName(this.#options.clock.now(), target.executedVersion, this.#options.ids.hex(16));
    const binding = this.#binding(target, streamName, context, 'provisioned-concurrency');
    this.#serving.add(context);
    const limitMs = Math.max(LIMITS.provisionedInitMinMs, configuration.Timeout * 1000);
    const { reply, initLogs } = await context.initialize(provisioning.versionKey, binding, limitMs);
    if (initLogs.length > 0) provisioning.onInitLogs(streamName, initLogs);
    if (!reply.ok) throw new Error(`${reply.errorType}: ${reply.errorMessage}`);
    if (!this.#isCurrent(provisioning) || this.#closed) {
      // Unprovisioned (or closing) while it initialised.
      void context.destroy();
      return;
    }
    provisioning.contexts.add(context);
    this.#returnProvisioned(provisioning, { context, logStreamName: streamName, boundAt: this.#retirements, idleSince: performance.now(), provisioning });
  }

  /** A provisioned context after its invocation: idle again, or replaced if it died or is no longer wanted. */
  #returnProvisioned(provisioning: Provisioning, warm: WarmContext): void {
    const current = this.#isCurrent(provisioning);
    if (warm.context.state === ContextState.Frozen && current && !this.#closed) {
      let list = this.#provisionedIdle.get(provisioning.versionKey);
      if (list === undefined) this.#provisionedIdle.set(provisioning.versionKey, (list = []));
      list.push(warm);
      return;
    }
    provisioning.contexts.delete(warm.context);
    if (warm.context.state === ContextState.Frozen) void warm.context.destroy();
    if (current && !this.#closed) void this.#fill(provisioning);
  }

  #isProvisioned(versionKey: string): boolean {
    for (const provisioning of this.#provisionings.values()) if (provisioning.versionKey === versionKey) return true;
    return false;
  }

  /** Contexts by state: read when Prometheus scrapes. */
  census(): ContextCensus {
    let idle = 0;
    for (const list of this.#warm.values()) idle += list.length;
    for (const list of this.#provisionedIdle.values()) idle += list.length;
    let spare = 0;
    for (const list of this.#spares.values()) spare += list.length;
    return { idle, busy: Math.max(0, this.#serving.size - idle), spare };
  }

  /** Each provisioning's allocated and busy contexts: read when Prometheus scrapes. */
  provisionedUse(): ProvisionedUse[] {
    return [...this.#provisionings.values()].map((provisioning) => {
      const idle = (this.#provisionedIdle.get(provisioning.versionKey) ?? []).filter((warm) => warm.provisioning === provisioning).length;
      return { target: provisioning.target, allocated: provisioning.contexts.size, busy: provisioning.contexts.size - idle };
    });
  }

  #isCurrent(provisioning: Provisioning): boolean {
    return this.#provisionings.get(provisioning.id) === provisioning;
  }

  /** At the cap, ends the warm context idle the longest, whichever function it serves. */
  #makeRoom(): void {
    if (this.#serving.size < this.#options.maxContexts) return;
    let oldest: { key: string; list: WarmContext[] } | null = null;
    for (const [key, list] of this.#warm) {
      // Each list is oldest first.
      if (list.length > 0 && (oldest === null || list[0]!.idleSince < oldest.list[0]!.idleSince)) oldest = { key, list };
    }
    if (oldest === null) return;
    void oldest.list.shift()!.context.destroy();
    if (oldest.list.length === 0) this.#warm.delete(oldest.key);
  }

  #takeWarm(versionKey: string): WarmContext | undefined {
    const list = this.#warm.get(versionKey);
    for (let warm = list?.pop(); warm !== undefined; warm = list?.pop()) {
      if (warm.context.state === ContextState.Frozen) return warm;
    }
    return undefined;
  }

  #keepWarm(versionKey: string, context: ExecutionContext, streamName: string, boundAt: number): void {
    if (this.#closed) {
      void context.destroy();
      return;
    }
    let list = this.#warm.get(versionKey);
    if (list === undefined) this.#warm.set(versionKey, (list = []));
    list.push({ context, logStreamName: streamName, boundAt, idleSince: performance.now() });
    this.#armReaper();
  }

  #armReaper(): void {
    this.#reaper ??= setTimeout(() => this.#reapIdle(), this.#options.keepWarmMs).unref();
  }

  /** Ends the contexts (and drops the reset directories) idle for the keep-warm period; comes back when the next one will be. */
  #reapIdle(): void {
    this.#reaper = null;
    const now = performance.now();
    const { keepWarmMs } = this.#options;
    const nextDue = Math.min(
      expire(this.#warm, (warm) => warm.idleSince, keepWarmMs, now, (warm) => void warm.context.destroy()),
      expire(this.#resetSandboxes, (kept) => kept.since, keepWarmMs, now, (kept) => void removeReset(kept)),
    );
    if (nextDue !== Infinity && !this.#closed) this.#reaper = setTimeout(() => this.#reapIdle(), Math.max(1, nextDue - now)).unref();
  }

  #keepResetSandbox(versionKey: string | null, reset: ResetSandbox): void {
    if (versionKey === null || this.#closed) {
      void removeReset(reset);
      return;
    }
    let list = this.#resetSandboxes.get(versionKey);
    if (list === undefined) this.#resetSandboxes.set(versionKey, (list = []));
    list.push({ ...reset, since: performance.now() });
    this.#armReaper();
  }

  /** Gives a new context of `versionKey` the directory of one an invocation reset, once its thread is gone. */
  async #adoptResetSandbox(versionKey: string, context: ExecutionContext): Promise<void> {
    const kept = this.#resetSandboxes.get(versionKey)?.shift();
    if (kept === undefined) return;
    if (this.#resetSandboxes.get(versionKey)!.length === 0) this.#resetSandboxes.delete(versionKey);
    this.#adopting.add(kept);
    await kept.exited;
    // close() meanwhile has removed it; a context that died meanwhile fails its own invocation.
    if (!this.#adopting.delete(kept)) return;
    if (context.state === ContextState.Frozen) context.adopt(kept);
    else void removeReset(kept);
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
      onDeath: (dead, reset) => this.#forget(dead, reset),
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

  /** A context that died while idle (a spare or a warm one) must not be handed out; a reset one leaves its directory. */
  #forget(dead: ExecutionContext, reset: ResetSandbox | null): void {
    if (reset !== null) this.#keepResetSandbox(dead.versionKey, reset);
    this.#live.delete(dead);
    this.#serving.delete(dead);
    for (const provisioning of this.#provisionings.values()) {
      if (!provisioning.contexts.delete(dead)) continue;
      const idle = this.#provisionedIdle.get(provisioning.versionKey);
      const index = idle?.findIndex((warm) => warm.context === dead) ?? -1;
      if (index >= 0) idle!.splice(index, 1);
      if (!this.#closed) void this.#fill(provisioning);
    }
    for (const [memoryMb, list] of this.#spares) {
      const index = list.indexOf(dead);
      if (index >= 0) list.splice(index, 1);
      if (index >= 0) this.#scheduleRefill(memoryMb);
    }
  }
}

/** Drops the items of each list (oldest first) older than `maxAgeMs`; returns when the next one falls due. */
function expire<T>(lists: Map<string, T[]>, since: (item: T) => number, maxAgeMs: number, now: number, drop: (item: T) => void): number {
  let nextDue = Infinity;
  for (const [key, list] of lists) {
    while (list.length > 0 && now - since(list[0]!) >= maxAgeMs) drop(list.shift()!);
    if (list.length === 0) lists.delete(key);
    else nextDue = Math.min(nextDue, since(list[0]!) + maxAgeMs);
  }
  return nextDue;
}

/** A kept directory nobody took over, removed once its thread is gone. */
async function removeReset(reset: ResetSandbox): Promise<void> {
  await reset.exited;
  await removeTree(reset.directory);
}

/** One function version's contexts: name, executed version, and the revision it was published with. */
function versionKeyOf(target: InvokeTarget): string {
  return `${target.configuration.FunctionName}:${target.executedVersion}@${target.configuration.RevisionId}`;
}
