/**
 * `process` isolation: the execution contexts of a function version live in a runner process of their own,
 * inside a bubblewrap sandbox and a control group where the host has them. A context of a version that already
 * has a runner starts in it; a spare starts a runner of its own, which the version it first serves then owns.
 * A runner goes when its last context does.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Ids } from '../../clock.js';
import type { DaemonLog } from '../../observability/daemon-log.js';
import type { InvokeTarget } from '../../registry/index.js';
import { RUNTIME_DIRECTORY, type FunctionPaths } from '../execution-context.js';
import type { ContextFactory, ContextShape } from '../index.js';
import { removeTree, resetDirectory } from '../scratch.js';
import { openCgroups, type Cgroups } from './cgroups.js';
import { linkTree } from './link-tree.js';
import { RunnerContext } from './runner-context.js';
import { Runner, type RunnerEnd, type RunnerLaunch } from './runner.js';
import { probeBubblewrap, RUNNER_MAIN, SANDBOX_HOME, SANDBOX_INPUTS, SANDBOX_PATHS, sandboxArguments } from './sandbox.js';

const MIB = 1024 * 1024;
/** Lambda gives a function one vCPU at 1,769 MB, and CPU in proportion to its memory (spec/limits.md). */
const MB_PER_VCPU = 1769;
/** A runner's own memory beyond its contexts: a Node.js process with Piscina loaded. */
const RUNNER_BASE_MB = 96;
/** A context's memory beyond the function's MemorySize: its thread, isolate and Piscina's share. */
const CONTEXT_OVERHEAD_MB = 24;

export interface ProcessContextsOptions {
  readonly workDirectory: string;
  /** How long a runner whose last context an invocation reset is kept, /tmp and all, for the version's next context. */
  readonly keepWarmMs: number;
  readonly ids: Ids;
  /** The daemon's log: what this host cannot give (once, at start), and runners that died other than by request. */
  readonly log: DaemonLog;
}

/** One runner process and what it holds. */
export interface RunnerHost {
  readonly runner: Runner;
  readonly directory: string;
  readonly shape: ContextShape;
  readonly contexts: Set<RunnerContext>;
  versionKey: string | null;
  /** The most contexts it has held at once: what its memory limit allows for. */
  memoryContexts: number;
  /** Set while an empty runner waits for its version's next context (its last one was reset). */
  lingering: NodeJS.Timeout | null;
  /** Set while the version's code is being laid into the runner's /var/task and /opt. */
  entering: Promise<void> | null;
  /** Resolves once the runner said hello and joined its control group. */
  readonly ready: Promise<void>;
  /** The function's paths as the runner sees them. */
  readonly paths: FunctionPaths;
}

export function processContexts(options: ProcessContextsOptions): ContextFactory {
  resetDirectory(options.workDirectory);
  const bubblewrap = probeBubblewrap();
  const cgroups: Cgroups | { unavailable: string } = openCgroups(`lambdad-${process.pid}`);
  const missing: string[] = [];
  if (!bubblewrap.ok) missing.push(`no sandbox (${bubblewrap.why}): runners see the host's filesystem, processes and network namespace as the daemon's user`);
  if ('unavailable' in cgroups) missing.push(`no control groups (${cgroups.unavailable}): no hard memory limit, CPU share or whole-runner freeze`);
  if (missing.length > 0) options.log('isolation-degraded', { missing: missing.join('; ') });
  const groups = 'unavailable' in cgroups ? null : cgroups;

  /** Every runner process not yet exited, serving or on its way out: close() waits for them all. */
  const running = new Set<Runner>();
  const byVersion = new Map<string, RunnerHost>();
  /** Runner directories being removed: close() waits for them. */
  const removals = new Set<Promise<void>>();
  let nextContext = 1;

  function launch(id: string, directory: string, shape: ContextShape): RunnerLaunch {
    const taskDirectory = join(directory, 'task');
    const optDirectory = join(directory, 'opt');
    mkdirSync(taskDirectory, { recursive: true });
    mkdirSync(optDirectory, { recursive: true });
    const cgroup = groups?.create(id) ?? null;
    if (bubblewrap.ok) {
      return {
        command: bubblewrap.path,
        args: sandboxArguments({ taskDirectory, optDirectory, tmpBytes: shape.tmpMb * MIB }, []),
        inputs: SANDBOX_INPUTS,
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: SANDBOX_HOME, TMPDIR: SANDBOX_PATHS.tmpDirectory, LANG: 'C.UTF-8' },
        cwd: '/',
        cgroup,
        exitCodeCarriesSignal: true,
      };
    }
    const tmp = join(directory, 'tmp');
    const home = join(directory, 'home');
    mkdirSync(tmp, { recursive: true });
    mkdirSync(home, { recursive: true });
    return { command: process.execPath, args: [RUNNER_MAIN], inputs: [], env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, TMPDIR: tmp, LANG: 'C.UTF-8' }, cwd: taskDirectory, cgroup, exitCodeCarriesSignal: false };
  }

  function pathsOf(directory: string): FunctionPaths {
    if (bubblewrap.ok) return { codeDirectory: SANDBOX_PATHS.codeDirectory, layerDirectories: [SANDBOX_PATHS.layerDirectory], tmpDirectory: SANDBOX_PATHS.tmpDirectory, runtimeDirectory: SANDBOX_PATHS.runtimeDirectory, home: SANDBOX_HOME, ownsProcess: true };
    return { codeDirectory: join(directory, 'task'), layerDirectories: [join(directory, 'opt')], tmpDirectory: join(directory, 'tmp'), runtimeDirectory: RUNTIME_DIRECTORY, home: join(directory, 'home'), ownsProcess: true };
  }

  function startRunner(shape: ContextShape): RunnerHost {
    const id = options.ids.hex(8);
    const directory = join(options.workDirectory, id);
    const host: RunnerHost = {
      runner: new Runner(launch(id, directory, shape), (end) => onRunnerExit(host, end)),
      directory,
      shape,
      contexts: new Set(),
      versionKey: null,
      memoryContexts: 0,
      lingering: null,
      entering: null,
      ready: Promise.resolve(),
      paths: pathsOf(directory),
    };
    running.add(host.runner);
    void host.runner.exited.then(() => running.delete(host.runner));
    (host as { ready: Promise<void> }).ready = host.runner.ready();
    host.ready.catch(() => undefined);
    host.runner.onContextDeath = (id) => {
      for (const context of host.contexts) if (context.id === id) context.diedInRunner();
    };
    return host;
  }

  function onRunnerExit(host: RunnerHost, end: RunnerEnd): void {
    // A runner lambdad ended has no contexts left; one with contexts died of its own (or its function's) doing.
    if (host.contexts.size > 0) {
      const how: Record<string, string | number> = end.signal !== null ? { signal: JSON.stringify(end.signal) } : { exitCode: end.exitCode ?? 0 };
      options.log('runner-died', { version: host.versionKey ?? 'spare', ...how, outOfMemory: String(end.outOfMemory), ...(end.stderr === '' ? {} : { stderr: JSON.stringify(end.stderr.slice(-500)) }) });
    }
    forgetHost(host);
    for (const context of [...host.contexts]) context.runnerDied();
    const removal = removeTree(host.directory).finally(() => removals.delete(removal));
    removals.add(removal);
  }

  /** The runner serves `versionKey` from now on, and is the one its next contexts start in (unless it has one). */
  function claim(host: RunnerHost, versionKey: string): void {
    host.versionKey = versionKey;
    if (!byVersion.get(versionKey)?.runner.alive) byVersion.set(versionKey, host);
  }

  function forgetHost(host: RunnerHost): void {
    if (host.lingering !== null) clearTimeout(host.lingering);
    host.lingering = null;
    if (host.versionKey !== null && byVersion.get(host.versionKey) === host) byVersion.delete(host.versionKey);
  }

  let closed = false;
  const factory = {
    start(shape: ContextShape, versionKey: string | null, onDeath: Parameters<ContextFactory['start']>[2]) {
      // A runner started after close() would outlive the daemon (and, frozen, survive its SIGKILL).
      if (closed) throw new Error('runner processes are closed');
      const existing = versionKey === null ? undefined : byVersion.get(versionKey);
      let host = existing !== undefined && existing.runner.alive && existing.shape.memoryMb === shape.memoryMb && existing.shape.tmpMb === shape.tmpMb ? existing : undefined;
      if (host === undefined) {
        host = startRunner(shape);
        // Cold starts of the version that come while this runner starts join it rather than start their own.
        if (versionKey !== null) claim(host, versionKey);
      }
      if (host.lingering !== null) clearTimeout(host.lingering);
      host.lingering = null;
      return new RunnerContext(host, nextContext++, shape, onDeath, hostEvents);
    },
    servesVersion: (versionKey: string) => byVersion.get(versionKey)?.runner.alive === true,
    async close() {
      closed = true;
      const exits = [...running].map((runner) => {
        runner.kill();
        return runner.exited;
      });
      await Promise.all(exits);
      await Promise.all([...removals]);
      groups?.close();
    },
  };

  /** What a RunnerContext tells the factory about its runner. */
  const hostEvents: HostEvents = {
    async enter(host: RunnerHost, versionKey: string, target: InvokeTarget): Promise<void> {
      if (host.versionKey !== null && host.versionKey !== versionKey) throw new Error(`the runner of ${host.versionKey} cannot serve ${versionKey}`);
      claim(host, versionKey);
      host.entering ??= (async () => {
        await linkTree(target.codeDirectory, join(host.directory, 'task'));
        for (const layer of target.layerDirectories) await linkTree(layer, join(host.directory, 'opt'));
      })();
      try {
        await host.entering;
      } catch (error) {
        // A runner whose code could not be laid in serves nobody: the version's next cold start gets another.
        forgetHost(host);
        host.runner.kill();
        throw error;
      }
    },
    changed(host: RunnerHost, reset: boolean): void {
      if (host.contexts.size === 0) {
        // Lambda re-runs the init of a reset environment in the same sandbox, /tmp kept (spec/runtime.md §1).
        if (reset && host.versionKey !== null && host.runner.alive && byVersion.get(host.versionKey) === host) {
          host.lingering = setTimeout(() => {
            forgetHost(host);
            host.runner.kill();
          }, options.keepWarmMs).unref();
          return;
        }
        forgetHost(host);
        host.runner.kill();
        return;
      }
      let bound = 0;
      for (const context of host.contexts) if (context.bound) bound += 1;
      const { memoryMb, tmpMb } = host.shape;
      // The memory limit only grows: a context that left may still be freeing its memory (its thread exiting).
      host.memoryContexts = Math.max(host.memoryContexts, host.contexts.size);
      const memoryBytes = (RUNNER_BASE_MB + host.memoryContexts * (memoryMb + CONTEXT_OVERHEAD_MB) + tmpMb) * MIB;
      // A context still starting (or a spare) gets a whole core: starting the runtime is lambdad's work, not the function's.
      const cpus = (bound * memoryMb) / MB_PER_VCPU + (host.contexts.size - bound);
      try {
        host.runner.limit(memoryBytes, cpus);
      } catch {
        // The group is gone with its runner.
      }
    },
  };
  return factory;
}

export interface HostEvents {
  /** Lays the version's code into the runner (once), or refuses a runner of another version. */
  enter(host: RunnerHost, versionKey: string, target: InvokeTarget): Promise<void>;
  /**
   * A context joined, was bound or left (`reset`: an invocation ended it): the runner's limits follow, and it
   * goes with its last context — after the keep-warm period if that one was reset.
   */
  changed(host: RunnerHost, reset: boolean): void;
}
