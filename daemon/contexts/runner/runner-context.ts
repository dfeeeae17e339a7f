/**
 * An execution context in a runner process, as the daemon holds it: the same state machine as a thread
 * context, each operation a request to the runner. The runner's own timeout is the rule; the daemon keeps a
 * backstop past it, so a runner that stops answering (or lies) is killed rather than waited for.
 */
import { LIMITS } from '../../limits.js';
import { ContextState, type ExecutionContext, type FunctionPaths, type InitResult, type ResetSandbox, type RunReport, type RunResult, type RunTask, transition } from '../execution-context.js';
import type { ContextShape } from '../index.js';
import type { ContextBinding } from '../messages.js';
import type { HostEvents, RunnerHost } from './index.js';
import { parseInitResult, parseRunReport, RunnerProtocolError } from './protocol.js';
import { RunnerExited, type RunnerEnd } from './runner.js';

/** How long past its own deadline the daemon waits for a runner's answer before killing the runner. */
const BACKSTOP_GRACE_MS = 2_000;
/** A context's thread start-up (with the runner's, for the first), and its ending, before the runner is killed. */
const WARM_UP_LIMIT_MS = 30_000;
const DESTROY_LIMIT_MS = 5_000;

export class RunnerContext implements ExecutionContext {
  readonly id: number;
  readonly shape: ContextShape;
  readonly #host: RunnerHost;
  readonly #events: HostEvents;
  readonly #onDeath: (context: ExecutionContext, reset: ResetSandbox | null) => void;
  #state = ContextState.Starting;
  #versionKey: string | null = null;
  /** Entered a version: its CPU share is the function's from now on. */
  #bound = false;

  constructor(host: RunnerHost, id: number, shape: ContextShape, onDeath: (context: ExecutionContext, reset: ResetSandbox | null) => void, events: HostEvents) {
    this.#host = host;
    this.id = id;
    this.shape = shape;
    this.#onDeath = onDeath;
    this.#events = events;
    host.contexts.add(this);
    events.changed(host, false);
  }

  get state(): ContextState {
    return this.#state;
  }

  get versionKey(): string | null {
    return this.#versionKey;
  }

  get bound(): boolean {
    return this.#bound;
  }

  /** A runner's contexts share its /tmp, which outlives their resets: nothing to hand over. */
  adopt(): void {
    throw new Error('a runner context keeps no directory of its own to take over');
  }

  async enter(versionKey: string, target: Parameters<ExecutionContext['enter']>[1]): Promise<FunctionPaths> {
    await this.#events.enter(this.#host, versionKey, target);
    this.#bound = true;
    this.#events.changed(this.#host, false);
    return this.#host.paths;
  }

  async warmUp(): Promise<void> {
    const backstop = this.#backstop(WARM_UP_LIMIT_MS);
    try {
      await this.#host.ready;
      await this.#host.runner.request({ op: 'start', context: this.id, shape: this.shape });
      // Destroyed, or its runner gone, while it started.
      if (this.#state === ContextState.Dead) throw new Error('the context ended while it started');
      this.#transition(ContextState.Frozen);
    } catch (error) {
      this.#die();
      throw error;
    } finally {
      clearTimeout(backstop);
    }
  }

  async initialize(versionKey: string, binding: ContextBinding, limitMs: number): Promise<InitResult> {
    if (this.#versionKey !== null) throw new Error(`context of ${this.#versionKey} cannot be initialised again`);
    // Its runner died while the version's code was laid in (another context of it crashed).
    if (this.#state === ContextState.Dead) return { reply: { ok: false, errorType: 'Runtime.InitError', errorMessage: this.#goneReason() }, initLogs: [] };
    this.#transition(ContextState.Busy);
    this.#versionKey = versionKey;
    const backstop = this.#backstop(limitMs);
    try {
      const { alive, value } = await this.#host.runner.request({ op: 'initialize', context: this.id, versionKey, binding, limitMs });
      const result = parseInitResult(value);
      if (alive && result.reply.ok && this.#state === ContextState.Busy) this.#transition(ContextState.Frozen);
      else this.#die();
      return result;
    } catch (error) {
      this.#distrust(error);
      this.#die();
      const errorMessage = error instanceof RunnerExited ? `Runtime exited with error: ${exitReason(error.end)}` : (error as Error).message;
      return { reply: { ok: false, errorType: 'Runtime.InitError', errorMessage }, initLogs: [] };
    } finally {
      clearTimeout(backstop);
    }
  }

  async run(versionKey: string, binding: ContextBinding | null, task: RunTask, timeoutMs: number): Promise<RunReport> {
    if (this.#versionKey === null ? binding === null : this.#versionKey !== versionKey) {
      throw new Error(`context of ${this.#versionKey ?? 'no version'} cannot run ${versionKey}${binding === null ? ' without a binding' : ''}`);
    }
    // Its runner died while the version's code was laid in (another context of it crashed): fail as it did.
    if (this.#state === ContextState.Dead) return failedRun(this.#host.runner.end === null ? new Error(this.#goneReason()) : new RunnerExited(this.#host.runner.end));
    this.#transition(ContextState.Busy);
    this.#versionKey = versionKey;
    let backstopFired = false;
    const backstop = this.#backstop(timeoutMs + (binding === null ? 0 : LIMITS.initMaxMs), () => (backstopFired = true));
    try {
      const { alive, value } = await this.#host.runner.request({ op: 'run', context: this.id, versionKey, binding, task, timeoutMs });
      const report = parseRunReport(value);
      if (alive && this.#state === ContextState.Busy) this.#transition(ContextState.Frozen);
      else this.#die(true);
      return report;
    } catch (error) {
      this.#distrust(error);
      this.#die(true);
      return backstopFired ? { ...failedRun(error as Error), result: { kind: 'timeout' } } : failedRun(error as Error);
    } finally {
      clearTimeout(backstop);
    }
  }

  async destroy(): Promise<void> {
    if (this.#state === ContextState.Dead) return;
    const live = this.#host.runner.alive;
    this.#die();
    if (!live) return;
    const backstop = this.#backstop(DESTROY_LIMIT_MS);
    await this.#host.runner.request({ op: 'destroy', context: this.id }).catch(() => undefined);
    clearTimeout(backstop);
  }

  /** A runner that broke the protocol is trusted with nothing more: it ends, with every context in it. */
  #distrust(error: unknown): void {
    if (error instanceof RunnerProtocolError) this.#host.runner.kill();
  }

  #goneReason(): string {
    const end = this.#host.runner.end;
    return end === null ? 'the execution environment ended before the invocation started' : `Runtime exited with error: ${exitReason(end)}`;
  }

  /** The runner reports this context died while idle (its thread failed). */
  diedInRunner(): void {
    this.#die();
  }

  /** The runner process is gone: an idle context dies now; a busy one through its request's failure. */
  runnerDied(): void {
    if (this.#state !== ContextState.Busy) this.#die();
  }

  /** Kills the runner if it has not answered `limitMs` (plus grace) from now. */
  #backstop(limitMs: number, onFire?: () => void): NodeJS.Timeout {
    return setTimeout(() => {
      onFire?.();
      this.#host.runner.kill();
    }, limitMs + BACKSTOP_GRACE_MS);
  }

  /** `reset`: an invocation ended the context. */
  #die(reset = false): void {
    if (this.#state === ContextState.Dead) return;
    this.#state = ContextState.Dead;
    this.#host.contexts.delete(this);
    this.#events.changed(this.#host, reset);
    this.#onDeath(this, null);
  }

  #transition(next: ContextState): void {
    this.#state = transition(this.#state, next);
  }
}

function failedRun(error: Error): RunReport {
  return { result: failureOf(error), initLogs: [], logs: [], droppedLogs: 0, peakMemoryBytes: 0 };
}

/** How the death of the runner ended an invocation, for the caller and the REPORT line. */
function failureOf(error: Error): RunResult {
  if (!(error instanceof RunnerExited)) return { kind: 'crash', error };
  const { end } = error;
  if (end.signal !== null) return { kind: 'signal', signal: end.signal, outOfMemory: end.outOfMemory };
  return { kind: 'exit', exitCode: end.exitCode ?? 0 };
}

function exitReason(end: RunnerEnd): string {
  return end.signal !== null ? `signal: ${end.signal}` : `exit status ${end.exitCode}`;
}
