/**
 * The daemon's side of one runner process: starts it (in its sandbox and control group), sends it requests
 * and matches their replies, freezes it while all its contexts are idle, and turns its death — a signal, an
 * exit, the memory limit — into one failure for every request still waiting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { constants as os } from 'node:os';
import type { Socket } from 'node:net';
import { frameWriter, readFrames } from './channel.js';
import type { RunnerCgroup } from './cgroups.js';
import { parseRunnerMessage, RUNNER_PROTOCOL_VERSION, RunnerProtocolError, type RunnerRequest } from './protocol.js';

/** How long a runner may take to start and say hello. */
const START_LIMIT_MS = 30_000;
/** A runner idle this long is frozen: back-to-back invocations do not pay a freeze and a thaw each. */
export const FREEZE_AFTER_MS = 20;
/** What a runner's stderr keeps for the daemon's log when it dies. */
const STDERR_TAIL_BYTES = 2048;

/** How a runner process ended. */
export interface RunnerEnd {
  /** Go's name for the signal that killed it (`segmentation fault`), as Lambda reports it; or null. */
  readonly signal: string | null;
  readonly exitCode: number | null;
  /** The kernel killed it for its control group's memory limit. */
  readonly outOfMemory: boolean;
  /** The last of what it wrote to stderr. */
  readonly stderr: string;
}

export class RunnerExited extends Error {
  override readonly name = 'RunnerExited';
  constructor(readonly end: RunnerEnd) {
    super(end.signal !== null ? `runner killed by signal: ${end.signal}` : `runner exited with code ${end.exitCode}`);
  }
}

export interface RunnerLaunch {
  readonly command: string;
  readonly args: readonly string[];
  /** Written to the process's file descriptors 4, 5, … (then closed), for it to read at start. */
  readonly inputs: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Its control group, or null where the host gives none. */
  readonly cgroup: RunnerCgroup | null;
  /** bubblewrap reports its command's death by signal N as exit code 128 + N. */
  readonly exitCodeCarriesSignal: boolean;
}

interface Pending {
  readonly resolve: (reply: { alive: boolean; value: unknown }) => void;
  readonly reject: (error: Error) => void;
}

export class Runner {
  readonly #child: ChildProcess;
  readonly #channel: Socket;
  readonly #send: (message: unknown) => void;
  readonly #cgroup: RunnerCgroup | null;
  readonly #pending = new Map<number, Pending>();
  readonly #ready: Promise<void>;
  readonly #exited: Promise<RunnerEnd>;
  #nextId = 1;
  #frozen = false;
  #freezeTimer: NodeJS.Timeout | null = null;
  /** When the last request was answered (performance.now()). */
  #idleSince = 0;
  #end: RunnerEnd | null = null;
  #protocolError: RunnerProtocolError | null = null;
  #stderr = '';
  /** Called for a context that died outside a request. */
  onContextDeath: (context: number) => void = () => undefined;

  constructor(launch: RunnerLaunch, onExit: (end: RunnerEnd) => void) {
    this.#cgroup = launch.cgroup;
    this.#child = spawn(launch.command, launch.args, { cwd: launch.cwd, env: launch.env, stdio: ['ignore', 'ignore', 'pipe', 'pipe', ...launch.inputs.map(() => 'pipe' as const)], detached: true });
    launch.inputs.forEach((input, index) => {
      const stream = this.#child.stdio[4 + index] as Socket;
      stream.on('error', () => undefined);
      stream.end(input);
    });
    this.#channel = this.#child.stdio[3] as Socket;
    this.#send = frameWriter(this.#channel);
    this.#child.stderr!.on('data', (chunk: Buffer) => (this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES)));
    this.#exited = new Promise((resolve) => {
      const exited = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.#end !== null) return;
        const end = this.#ended(code, signal, launch.exitCodeCarriesSignal);
        resolve(end);
        onExit(end);
      };
      this.#child.once('exit', exited);
      // A process that could not be started never exits: it ended before it began.
      this.#child.once('error', () => {
        if (this.#child.pid === undefined) exited(null, null);
      });
    });
    this.#channel.on('error', () => this.kill());
    this.#ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the runner did not start within ${START_LIMIT_MS} ms`));
        this.kill();
      }, START_LIMIT_MS);
      void this.#exited.then((end) => {
        clearTimeout(timer);
        reject(new RunnerExited(end));
      });
      readFrames(
        this.#channel,
        (raw) => {
          try {
            const message = parseRunnerMessage(raw);
            if (message.op === 'hello') {
              clearTimeout(timer);
              if (message.version !== RUNNER_PROTOCOL_VERSION) throw new RunnerProtocolError(`the runner speaks version ${message.version}, not ${RUNNER_PROTOCOL_VERSION}`);
              resolve();
            } else if (message.op === 'death') {
              this.onContextDeath(message.context);
            } else {
              const pending = this.#pending.get(message.id);
              if (pending === undefined) throw new RunnerProtocolError(`a reply to request ${message.id}, which is not waiting`);
              this.#pending.delete(message.id);
              if (message.ok) pending.resolve({ alive: message.alive, value: message.value });
              else pending.reject(new Error(message.error));
              if (this.#pending.size === 0) this.#scheduleFreeze();
            }
          } catch (error) {
            this.#breach(error as Error);
          }
        },
        (error) => this.#breach(error),
      );
    });
    // A start that failed is reported by whoever awaits ready(); no unhandled rejection meanwhile.
    this.#ready.catch(() => undefined);
  }

  /** Resolves once the runner said hello: it then joins its control group, before it runs any function code. */
  async ready(): Promise<void> {
    await this.#ready;
    if (this.#cgroup !== null) {
      for (const pid of processTree(this.#child.pid!)) this.#cgroup.add(pid);
    }
  }

  get alive(): boolean {
    return this.#end === null;
  }

  /** How the process ended; null while it runs. */
  get end(): RunnerEnd | null {
    return this.#end;
  }

  /** Resolves when the process is gone. */
  get exited(): Promise<RunnerEnd> {
    return this.#exited;
  }

  /** Sends a request; rejects with RunnerExited if the runner dies first. */
  request(request: DistributiveOmit<RunnerRequest, 'id'>): Promise<{ alive: boolean; value: unknown }> {
    if (this.#end !== null) return Promise.reject(new RunnerExited(this.#end));
    const id = this.#nextId++;
    try {
      this.#thaw();
    } catch (error) {
      // A runner that cannot be thawed cannot answer: it ends, and this request with it.
      this.kill();
      return Promise.reject(error as Error);
    }
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#send({ ...request, id });
    });
  }

  /** Limits the runner's memory and CPU (no-op without a control group). */
  limit(memoryBytes: number, cpus: number): void {
    this.#cgroup?.limit(memoryBytes, cpus);
  }

  /** Ends the process and everything it started. */
  kill(): void {
    // Once it has exited its pid and process group may belong to another process.
    if (this.#end !== null) return;
    if (this.#freezeTimer !== null) clearTimeout(this.#freezeTimer);
    this.#freezeTimer = null;
    if (this.#cgroup !== null) this.#cgroup.kill();
    try {
      // Its own process group: bubblewrap, or the runner and what it spawned where there is no sandbox.
      process.kill(-this.#child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  /** The runner broke the protocol: it is no longer trusted with anything. */
  #breach(error: Error): void {
    this.#protocolError ??= error instanceof RunnerProtocolError ? error : new RunnerProtocolError(error.message);
    this.kill();
  }

  /** The runner went idle: freeze it once it has stayed so for FREEZE_AFTER_MS. One timer, not one per request. */
  #scheduleFreeze(): void {
    if (this.#cgroup === null || this.#end !== null) return;
    this.#idleSince = performance.now();
    this.#freezeTimer ??= setTimeout(() => this.#freezeIfIdle(), FREEZE_AFTER_MS).unref();
  }

  #freezeIfIdle(): void {
    this.#freezeTimer = null;
    // Busy again: the next time it goes idle arms the timer anew.
    if (this.#pending.size > 0 || this.#end !== null) return;
    const idleMs = performance.now() - this.#idleSince;
    if (idleMs < FREEZE_AFTER_MS) {
      this.#freezeTimer = setTimeout(() => this.#freezeIfIdle(), FREEZE_AFTER_MS - idleMs).unref();
      return;
    }
    try {
      this.#cgroup!.freeze();
      this.#frozen = true;
    } catch {
      // A freezer that refuses leaves the runner running: its threads still wait on Atomics between tasks.
    }
  }

  #thaw(): void {
    if (!this.#frozen) return;
    this.#frozen = false;
    this.#cgroup!.thaw();
  }

  #ended(code: number | null, signal: NodeJS.Signals | null, exitCodeCarriesSignal: boolean): RunnerEnd {
    if (this.#freezeTimer !== null) clearTimeout(this.#freezeTimer);
    let signalNumber = signal === null ? null : os.signals[signal];
    if (signalNumber === null && exitCodeCarriesSignal && code !== null && code > 128 && code < 160) signalNumber = code - 128;
    let outOfMemory = false;
    try {
      outOfMemory = this.#cgroup?.oomKilled() ?? false;
    } catch {
      // The group's counters are unreadable: the death is reported by its signal alone.
    }
    const end: RunnerEnd = { signal: signalNumber === null ? null : signalName(signalNumber), exitCode: signalNumber === null ? code : null, outOfMemory, stderr: this.#stderr };
    this.#end = end;
    const failure = this.#protocolError ?? new RunnerExited(end);
    for (const pending of this.#pending.values()) pending.reject(failure);
    this.#pending.clear();
    this.#cgroup?.kill();
    this.#cgroup?.remove();
    return end;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Go's names for signals (Lambda's runtime manager is Go): what `Runtime exited with error: signal: …` shows. */
const GO_SIGNAL_NAMES: Readonly<Record<number, string>> = {
  1: 'hangup',
  2: 'interrupt',
  3: 'quit',
  4: 'illegal instruction',
  5: 'trace/breakpoint trap',
  6: 'aborted',
  7: 'bus error',
  8: 'floating point exception',
  9: 'killed',
  10: 'user defined signal 1',
  11: 'segmentation fault',
  12: 'user defined signal 2',
  13: 'broken pipe',
  14: 'alarm clock',
  15: 'terminated',
};

function signalName(signal: number): string {
  return GO_SIGNAL_NAMES[signal] ?? `signal ${signal}`;
}

/** A process and its descendants, from /proc (children of each of its threads). */
function processTree(root: number): number[] {
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    found.push(pid);
    queue.push(...childrenOf(pid));
  }
  return found;
}

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8')
        .split(' ')
        .filter((text) => text.trim() !== '')
        .map(Number),
    );
  } catch {
    return [];
  }
}
