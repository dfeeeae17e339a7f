/**
 * Execution contexts: where an invocation runs. Provisioned contexts (initialised ahead, never reaped) are
 * used first; then warm contexts, kept per function version and reused most recently used first; a cold start
 * takes a spare context (thread already started, runtime loaded) of the right memory size, or starts one;
 * idle on-demand contexts are reaped after the keep-warm period, sooner while the host is under pressure. The
 * host holds at most `maxContexts`: past it, the warm context idle the longest makes room, and with none idle
 * an invocation that needs a new context is throttled.
 */
import type { Clock, Ids } from '../clock.js';
import { LIMITS } from '../limits.js';
import { SESSION_RENEW_MARGIN_MS } from '../sessions/index.js';
import type { InvokeTarget } from '../registry/index.js';
import { hostFull, pressureOf, versionMaxOf, type Pressure } from './capacity.js';
import { functionEnvironment, logStreamName } from './environment.js';
import { ContextState, type ExecutionContext, type FunctionPaths, type ResetSandbox, type RunReport } from './execution-context.js';
import type { ContextBinding, LogRecord, NetworkBinding } from './messages.js';
import { removeTree } from './scratch.js';

export type { LogRecord } from './messages.js';
export type { ExecutionContext } from './execution-context.js';
export { JOURNAL_LOG_BYTES } from './journal.js';
export { availableMemoryBytes, contextsForHost } from './capacity.js';

/** A refill stops after this many rounds of starting threads, so failing starts cannot loop forever. */
const REFILL_ROUNDS = 4;

/** Where contexts are started: threads of the daemon (`thread` isolation) or of sandboxed runners (`process`). */
export interface ContextFactory {
  /**
   * Starts a context of `shape` (not yet warmed up). `versionKey` is the version it is started for, or null
   * for a spare; `onDeath` is called as it dies, with what a reset leaves.
   */
  start(shape: ContextShape, versionKey: string | null, onDeath: (context: ExecutionContext, reset: ResetSandbox | null) => void): ExecutionContext;
  /**
   * True where a new context of this version should start beside the version's others rather than take a
   * spare: under process isolation, in the version's runner, whose /tmp a reset context left behind.
   */
  servesVersion(versionKey: string): boolean;
  /** After every context is destroyed: what the factory itself holds. */
  close(): Promise<void>;
}

/** What a context is started with, before it knows its function: spares are kept per shape. */
export interface ContextShape {
  readonly memoryMb: number;
  /** The size of its /tmp (EphemeralStorage), where the sandbox bounds it. */
  readonly tmpMb: number;
}

export function shapeOf(configuration: InvokeTarget['configuration']): ContextShape {
  return { memoryMb: configuration.MemorySize, tmpMb: configuration.EphemeralStorage.Size };
}

function shapeKey(shape: ContextShape): string {
  return `${shape.memoryMb}/${shape.tmpMb}`;
}

export interface ContextCredentials {
  readonly variables: Readonly<Record<string, string>>;
  /** Epoch milliseconds: a warm context is replaced shortly before, as Lambda recycles its environments. */
  readonly expiresAt: number;
}

export interface ContextsOptions {
  readonly factory: ContextFactory;
  readonly region: string;
  readonly keepWarmMs: number;
  readonly spareWorkers: number;
  /**
   * Contexts serving functions (starting, idle, busy or provisioned) at most: a cold start at the cap first ends
   * the warm context idle the longest, and is throttled when none is idle. Spares fill only the room left, so
   * live contexts stay within it too; while more than half of it serve functions, idle ones are reaped early.
   */
  readonly maxContexts: number;
  /** Invocations the account may run at once: where maxContexts is lower, one version holds at most 90 % of it. */
  readonly accountConcurrency: number;
  /** `host:port` of the X-Ray daemon functions send segments to; unset when tracing is off. */
  readonly xrayDaemonAddress?: string;
  /** Where a function sits in the network, and how long a blocked connection hangs: its contexts enforce it. */
  readonly network: (target: InvokeTarget) => NetworkBinding;
  /** A new context's execution-role session: the variables that carry it and lambdad's endpoint, and its expiry. */
  readonly credentials: (target: InvokeTarget) => ContextCredentials;
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
  /** When its execution-role session expires (epoch ms): it is replaced shortly before. */
  readonly expiresAt: number;
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
  readonly #spares = new Map<string, ExecutionContext[]>();
  readonly #refilling = new Set<string>();
  /** Every context not yet dead, whatever it is doing: what close() must end. */
  readonly #live = new Set<ExecutionContext>();
  /** Contexts taken for a function version (starting, idle, busy or provisioned): what `maxContexts` bounds. */
  readonly #serving = new Set<ExecutionContext>();
  /** The version each serving context was claimed for (known before it is initialised), and how many each holds. */
  readonly #claimedFor = new Map<ExecutionContext, string>();
  readonly #heldByVersion = new Map<string, number>();
  /** Above how many serving contexts idle ones are reaped early, and after how long. */
  readonly #pressure: Pressure;
  /** Contexts one function version may hold (a share of the cap). */
  readonly #versionMax: number;
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
  /** One timer for every warm context, due when the longest idle reaches its idle period: not one per invocation. */
  #reaper: NodeJS.Timeout | null = null;
  /** When the reaper fires (performance.now()). */
  #reaperDue = Infinity;
  #closed = false;

  constructor(options: ContextsOptions) {
    if (!Number.isSafeInteger(options.maxContexts) || options.maxContexts < 1) throw new RangeError(`maxContexts must be a positive integer, got ${options.maxContexts}`);
    this.#options = options;
    this.#pressure = pressureOf(options.maxContexts, options.keepWarmMs);
    this.#versionMax = versionMaxOf(options.maxContexts, options.accountConcurrency);
  }

  /** Starts spare contexts of the given shapes. */
  async prepare(shapes: Iterable<ContextShape>): Promise<void> {
    const unique = new Map([...shapes].map((shape) => [shapeKey(shape), shape]));
    await Promise.all([...unique.values()].map((shape) => this.#refill(shape)));
  }

  async run(target: InvokeTarget, request: InvocationRequest): Promise<ContextRun> {
    if (this.#closed) throw new Error('execution contexts are closed');
    const { configuration } = target;
    const versionKey = versionKeyOf(target);
    const timeoutMs = configuration.Timeout * 1000;

    const provisioned = this.#takeUsable(this.#provisionedIdle.get(versionKey), timeoutMs);
    const warm = provisioned ?? this.#takeUsable(this.#warm.get(versionKey), timeoutMs);
    const placement = provisioned !== undefined ? 'provisioned' : this.#isProvisioned(versionKey) ? 'spillover' : 'on-demand';
    let context: ExecutionContext;
    let streamName: string;
    let threadStartMs = 0;
    let binding: ContextBinding | null = null;
    let boundAt = this.#retirements;
    let expiresAt: number;
    if (warm !== undefined) {
      context = warm.context;
      streamName = warm.logStreamName;
      boundAt = warm.boundAt;
      expiresAt = warm.expiresAt;
    } else {
      // A new context is about to serve a function: at the cap, the longest idle one makes room, or the host is full.
      if (this.#makeRoom(versionKey) !== 'room') throw hostFull();
      const shape = shapeOf(configuration);
      const spare = this.#options.factory.servesVersion(versionKey) ? undefined : this.#takeSpare(shape, versionKey);
      if (spare !== undefined) {
        context = spare;
      } else {
        const started = performance.now();
        context = await this.#startContext(shape, versionKey);
        threadStartMs = performance.now() - started;
      }
      await this.#adoptResetSandbox(versionKey, context);
      const paths = await this.#enter(context, versionKey, target);
      streamName = logStreamName(this.#options.clock.now(), target.executedVersion, this.#options.ids.hex(16));
      ({ binding, expiresAt } = this.#binding(target, streamName, paths, 'on-demand'));
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
        this.#returnProvisioned(warm.provisioning, { context, logStreamName: streamName, boundAt, expiresAt, idleSince: performance.now(), provisioning: warm.provisioning });
      } else {
        const retired = this.#retired.get(configuration.FunctionName);
        const stale = retired !== undefined && (boundAt < retired.all || (target.executedVersion === '$LATEST' && boundAt < retired.latest));
        if (context.state === ContextState.Frozen && !stale) this.#keepWarm(versionKey, { context, logStreamName: streamName, boundAt, expiresAt, idleSince: performance.now() });
        else if (context.state === ContextState.Frozen) void context.destroy();
      }
      // Replace the spare (or, for a memory size that had none, start some) only now: starting a thread
      // would compete with this cold start.
      if (binding !== null) this.#scheduleRefill(shapeOf(configuration));
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
    await this.#options.factory.close();
  }

  /** The context's paths to the function; a context that cannot reach it is ended, not left behind. */
  async #enter(context: ExecutionContext, versionKey: string, target: InvokeTarget): Promise<FunctionPaths> {
    try {
      return await context.enter(versionKey, target);
    } catch (error) {
      void context.destroy();
      throw error;
    }
  }

  #binding(target: InvokeTarget, streamName: string, paths: FunctionPaths, initializationType: 'on-demand' | 'provisioned-concurrency'): { binding: ContextBinding; expiresAt: number } {
    const { configuration } = target;
    const credentials = this.#options.credentials(target);
    const binding: ContextBinding = {
      codeDirectory: paths.codeDirectory,
      handler: configuration.Handler,
      memoryLimitBytes: configuration.MemorySize * 1024 * 1024,
      ownsProcess: paths.ownsProcess,
      network: this.#options.network(target),
      environment: functionEnvironment({
        configuration,
        executedVersion: target.executedVersion,
        region: this.#options.region,
        paths,
        logStreamName: streamName,
        credentials: credentials.variables,
        initializationType,
        ...(this.#options.xrayDaemonAddress === undefined ? {} : { xrayDaemonAddress: this.#options.xrayDaemonAddress }),
      }),
    };
    return { binding, expiresAt: credentials.expiresAt };
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
    const shape = shapeOf(configuration);
    const room = this.#makeRoom(provisioning.versionKey);
    if (room === 'share') throw new Error(`one function version holds at most ${this.#versionMax} of the ${this.#options.maxContexts} execution contexts of this host (--max-contexts)`);
    if (room === 'full') throw new Error(`lambdad holds at most ${this.#options.maxContexts} execution contexts on this host (--max-contexts), and none is idle`);
    const context = this.#takeSpare(shape, provisioning.versionKey) ?? (await this.#startContext(shape, provisioning.versionKey));
    this.#scheduleRefill(shape);
    await this.#adoptResetSandbox(provisioning.versionKey, context);
    const paths = await this.#enter(context, provisioning.versionKey, target);
    const streamName = logStreamName(this.#options.clock.now(), target.executedVersion, this.#options.ids.hex(16));
    const { binding, expiresAt } = this.#binding(target, streamName, paths, 'provisioned-concurrency');
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
    this.#returnProvisioned(provisioning, { context, logStreamName: streamName, boundAt: this.#retirements, expiresAt, idleSince: performance.now(), provisioning });
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

  /**
   * Room for one more context serving `versionKey`: within its version's share of the cap, and at the cap by
   * ending the warm context idle the longest, whichever function it serves. Not when the version holds its
   * share ('share'), or every context is busy or provisioned ('full').
   */
  #makeRoom(versionKey: string): 'room' | 'share' | 'full' {
    // One version holds at most its share of the cap: the rest is kept for other functions.
    if ((this.#heldByVersion.get(versionKey) ?? 0) >= this.#versionMax) return this.#versionMax < this.#options.maxContexts ? 'share' : 'full';
    if (this.#serving.size < this.#options.maxContexts) return 'room';
    let oldest: { key: string; list: WarmContext[] } | null = null;
    for (const [key, list] of this.#warm) {
      // A context that died while idle is still listed (#takeUsable drops such as it meets them): ending it frees nothing.
      while (list.length > 0 && list[0]!.context.state !== ContextState.Frozen) list.shift();
      // Each list is oldest first.
      if (list.length > 0 && (oldest === null || list[0]!.idleSince < oldest.list[0]!.idleSince)) oldest = { key, list };
    }
    if (oldest === null) return 'full';
    void oldest.list.shift()!.context.destroy();
    if (oldest.list.length === 0) this.#warm.delete(oldest.key);
    return 'room';
  }

  /** A ready spare of `shape`, now counted as serving; must follow #makeRoom in the same turn. */
  #takeSpare(shape: ContextShape, versionKey: string): ExecutionContext | undefined {
    const spare = this.#spares.get(shapeKey(shape))?.shift();
    if (spare !== undefined) this.#serve(spare, versionKey);
    return spare;
  }

  /** Counts `context` against the cap and its version's share; one that brings pressure has the reaper come for the contexts idle already. */
  #serve(context: ExecutionContext, versionKey: string): void {
    this.#serving.add(context);
    this.#claimedFor.set(context, versionKey);
    this.#heldByVersion.set(versionKey, (this.#heldByVersion.get(versionKey) ?? 0) + 1);
    if (this.#underPressure()) this.#armReaper();
  }

  /** A context starting for a function where live ones fill the cap: a ready spare (of any shape) makes way. */
  #dropSpare(): void {
    for (const list of this.#spares.values()) {
      const spare = list.shift();
      if (spare === undefined) continue;
      void spare.destroy();
      return;
    }
  }

  /**
   * The most recently used idle context of the list that can serve; one whose role session could expire before
   * an invocation of `timeoutMs` ends (with a margin) is ended.
   */
  #takeUsable(list: WarmContext[] | undefined, timeoutMs: number): WarmContext | undefined {
    const renewBy = this.#options.clock.now() + timeoutMs + SESSION_RENEW_MARGIN_MS;
    for (let warm = list?.pop(); warm !== undefined; warm = list?.pop()) {
      if (warm.context.state !== ContextState.Frozen) continue;
      if (warm.expiresAt > renewBy) return warm;
      // Its provisioning, if any, starts a replacement as the context dies.
      void warm.context.destroy();
    }
    return undefined;
  }

  #keepWarm(versionKey: string, warm: WarmContext): void {
    if (this.#closed) {
      void warm.context.destroy();
      return;
    }
    let list = this.#warm.get(versionKey);
    if (list === undefined) this.#warm.set(versionKey, (list = []));
    list.push(warm);
    this.#armReaper();
  }

  /**
   * Makes sure the reaper comes by the time what goes idle now may be reaped: O(1), as it runs after every
   * invocation. Contexts idle already when pressure began are reaped by then too, so within twice their period.
   */
  #armReaper(): void {
    const now = performance.now();
    this.#scheduleReaper(now, now + (this.#underPressure() ? this.#pressure.idleMs : this.#options.keepWarmMs));
  }

  #scheduleReaper(now: number, due: number): void {
    if (this.#closed || due === Infinity || (this.#reaper !== null && this.#reaperDue <= due)) return;
    if (this.#reaper !== null) clearTimeout(this.#reaper);
    this.#reaperDue = due;
    this.#reaper = setTimeout(() => this.#reapIdle(), Math.max(1, due - now)).unref();
  }

  /** Ends the contexts (and drops the reset directories) idle past their period; comes back when the next one will be. */
  #reapIdle(): void {
    this.#reaper = null;
    const now = performance.now();
    const { keepWarmMs } = this.#options;
    const nextDue = Math.min(
      expire(this.#warm, (warm) => warm.idleSince, keepWarmMs, now, (warm) => void warm.context.destroy()),
      expire(this.#resetSandboxes, (kept) => kept.since, keepWarmMs, now, (kept) => void removeReset(kept)),
      this.#relievePressure(now),
    );
    this.#scheduleReaper(now, nextDue);
  }

  /** More contexts serve functions than the pressure floor: the cap is more than half taken. */
  #underPressure(): boolean {
    return this.#serving.size > this.#pressure.floor;
  }

  /**
   * Under pressure, ends the warm contexts idle past the pressure's idle period, longest idle first, until the
   * contexts serving functions are down to the floor (so one burst does not hold the host for the keep-warm
   * period); returns when the next one falls due, Infinity without pressure.
   */
  #relievePressure(now: number): number {
    if (!this.#underPressure()) return Infinity;
    const idle = [...this.#warm].flatMap(([key, list]) => list.map((warm) => ({ key, warm }))).sort((a, b) => a.warm.idleSince - b.warm.idleSince);
    for (const { key, warm } of idle) {
      if (!this.#underPressure()) return Infinity;
      if (now - warm.idleSince < this.#pressure.idleMs) return warm.idleSince + this.#pressure.idleMs;
      // The longest idle of all is the oldest of its own list.
      const list = this.#warm.get(key)!;
      list.shift();
      if (list.length === 0) this.#warm.delete(key);
      void warm.context.destroy();
    }
    return Infinity;
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

  #scheduleRefill(shape: ContextShape): void {
    if (!this.#closed) setImmediate(() => void this.#refill(shape).catch(() => undefined));
  }

  async #refill(shape: ContextShape): Promise<void> {
    const key = shapeKey(shape);
    if (this.#refilling.has(key) || this.#closed) return;
    this.#refilling.add(key);
    try {
      let list = this.#spares.get(key);
      if (list === undefined) this.#spares.set(key, (list = []));
      // Spares taken while this refill runs are replaced by its next round. They fill only the room left.
      for (let round = 0; round < REFILL_ROUNDS && !this.#closed; round++) {
        const missing = Math.min(this.#options.spareWorkers - list.length, this.#options.maxContexts - this.#live.size);
        if (missing <= 0) break;
        const started = await Promise.allSettled(Array.from({ length: missing }, () => this.#startContext(shape, null)));
        for (const outcome of started) {
          if (outcome.status === 'rejected') continue;
          // Contexts started for functions meanwhile took the room: they come first.
          if (this.#live.size > this.#options.maxContexts) void outcome.value.destroy();
          else list.push(outcome.value);
        }
        if (started.every((outcome) => outcome.status === 'rejected')) break;
      }
    } finally {
      this.#refilling.delete(key);
    }
  }

  /**
   * Starts a spare (`versionKey` null) or a context for a version, which serves from now on: the caller made room
   * for it in the same turn (#makeRoom).
   */
  async #startContext(shape: ContextShape, versionKey: string | null): Promise<ExecutionContext> {
    if (versionKey !== null && this.#live.size >= this.#options.maxContexts) this.#dropSpare();
    const context = this.#options.factory.start(shape, versionKey, (dead, reset) => this.#forget(dead, reset));
    this.#live.add(context);
    if (versionKey !== null) this.#serve(context, versionKey);
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
    const claimedFor = this.#claimedFor.get(dead);
    if (claimedFor !== undefined) {
      this.#claimedFor.delete(dead);
      const held = this.#heldByVersion.get(claimedFor)! - 1;
      if (held === 0) this.#heldByVersion.delete(claimedFor);
      else this.#heldByVersion.set(claimedFor, held);
    }
    for (const provisioning of this.#provisionings.values()) {
      if (!provisioning.contexts.delete(dead)) continue;
      const idle = this.#provisionedIdle.get(provisioning.versionKey);
      const index = idle?.findIndex((warm) => warm.context === dead) ?? -1;
      if (index >= 0) idle!.splice(index, 1);
      if (!this.#closed) void this.#fill(provisioning);
    }
    for (const list of this.#spares.values()) {
      const index = list.indexOf(dead);
      if (index >= 0) list.splice(index, 1);
      if (index >= 0) this.#scheduleRefill(dead.shape);
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
