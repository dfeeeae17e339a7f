/**
 * Control groups for runners: a hard memory limit, a CPU quota, a process cap and a freezer per runner, behind
 * one small interface over cgroup v1 (a hierarchy per controller) and v2 (one unified hierarchy). Each runner's
 * group is made below the daemon's own group, in a directory of this daemon process, removed at close.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';
/** CFS accounting period: the kernel's default. */
const CPU_PERIOD_US = 100_000;
/** The kernel refuses a quota under 1 ms. */
const CPU_QUOTA_MIN_US = 1_000;
/** Processes and threads per runner: Lambda's limit for an execution environment is 1,024. */
const PIDS_MAX = 1_024;

export interface RunnerCgroup {
  /** Moves a process (all its threads) into the group. */
  add(pid: number): void;
  /** Memory the runner's processes may use in all, and its CPU share in cores. */
  limit(memoryBytes: number, cpus: number): void;
  /** Stops every process of the group where it stands; thaw() lets them go on. */
  freeze(): void;
  thaw(): void;
  /** True once the kernel killed a process of the group for its memory limit. */
  oomKilled(): boolean;
  /** Sends SIGKILL to every process in the group (a frozen group is thawed first, or the kill waits). */
  kill(): void;
  /** Removes the group; its processes must be gone. */
  remove(): void;
}

export interface Cgroups {
  readonly version: 'v1' | 'v2';
  create(name: string): RunnerCgroup;
  close(): void;
}

/** The cgroups this host lets lambdad use, or why not. */
export function openCgroups(instance: string): Cgroups | { readonly unavailable: string } {
  try {
    if (existsSync(join(ROOT, 'cgroup.controllers'))) return openV2(instance);
    return openV1(instance);
  } catch (error) {
    return { unavailable: (error as Error).message };
  }
}

/** The group this process is in, per v1 controller (or '' for v2), from /proc/self/cgroup. */
function ownGroups(): Map<string, string> {
  const groups = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers === undefined || path === undefined) continue;
    for (const controller of controllers.split(',')) groups.set(controller, path);
  }
  return groups;
}

function write(file: string, value: string): void {
  writeFileSync(file, value);
}

function tryWrite(file: string, value: string): void {
  try {
    write(file, value);
  } catch {
    // A lower limit than the group now uses, or a file this kernel lacks: the rest of the limits still hold.
  }
}

function killAll(procsFile: string): void {
  let pids: string[];
  try {
    pids = readFileSync(procsFile, 'utf8').split('\n').filter((line) => line !== '');
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

/**
 * Removes what daemons that are gone (killed before they could clean up) left under `parent`: `lambdad-<pid>`
 * directories of processes that no longer exist, with their runners' groups. A runner frozen when its daemon
 * was killed is still there, and a frozen process does not die of SIGKILL until thawed: thaw, kill, remove.
 */
function removeStale(parent: string): void {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = /^lambdad-(\d+)$/.exec(entry)?.[1];
    if (pid === undefined || isAlive(Number(pid))) continue;
    const directory = join(parent, entry);
    for (const child of readdirSync(directory, { withFileTypes: true })) {
      if (!child.isDirectory()) continue;
      const group = join(directory, child.name);
      // Whichever of these files this controller has: v1's freezer, v2's unified group.
      tryWrite(join(group, 'freezer.state'), 'THAWED');
      tryWrite(join(group, 'cgroup.freeze'), '0');
      killAll(join(group, 'cgroup.procs'));
      removeGroup(group);
    }
    removeGroup(directory);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A group is removable once its last process is reaped, a little after its runner's exit is seen. */
const REMOVE_TRIES = 50;
const REMOVE_RETRY_MS = 100;

function removeGroup(directory: string, tries = REMOVE_TRIES): void {
  try {
    rmdirSync(directory);
  } catch (error) {
    // Still busy with a process on its way out: look again shortly. Gone already: done.
    if ((error as NodeJS.ErrnoException).code === 'EBUSY' && tries > 1) setTimeout(() => removeGroup(directory, tries - 1), REMOVE_RETRY_MS).unref();
  }
}

const V1_CONTROLLERS = ['memory', 'cpu', 'freezer', 'pids'] as const;

function openV1(instance: string): Cgroups {
  const own = ownGroups();
  const bases = new Map<string, string>();
  for (const controller of V1_CONTROLLERS) {
    const mount = join(ROOT, controller);
    if (!existsSync(join(mount, 'cgroup.procs'))) throw new Error(`cgroup v1 controller '${controller}' is not mounted at ${mount}`);
    const parent = join(mount, own.get(controller) ?? '/');
    removeStale(parent);
    const base = join(parent, instance);
    mkdirSync(base, { recursive: true });
    bases.set(controller, base);
  }
  return {
    version: 'v1',
    create(name) {
      const dirs = new Map(V1_CONTROLLERS.map((controller) => [controller, join(bases.get(controller)!, name)]));
      for (const dir of dirs.values()) mkdirSync(dir);
      const memory = dirs.get('memory')!;
      const freezer = join(dirs.get('freezer')!, 'freezer.state');
      tryWrite(join(dirs.get('pids')!, 'pids.max'), String(PIDS_MAX));
      write(join(dirs.get('cpu')!, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
      const swapAccounted = existsSync(join(memory, 'memory.memsw.limit_in_bytes'));
      return {
        add(pid) {
          for (const dir of dirs.values()) write(join(dir, 'cgroup.procs'), String(pid));
        },
        limit(memoryBytes, cpus) {
          // memsw (memory + swap) may never be below the memory limit: raise it first, lower it last.
          if (swapAccounted) tryWrite(join(memory, 'memory.memsw.limit_in_bytes'), String(memoryBytes));
          tryWrite(join(memory, 'memory.limit_in_bytes'), String(memoryBytes));
          if (swapAccounted) tryWrite(join(memory, 'memory.memsw.limit_in_bytes'), String(memoryBytes));
          write(join(dirs.get('cpu')!, 'cpu.cfs_quota_us'), String(Math.max(CPU_QUOTA_MIN_US, Math.round(cpus * CPU_PERIOD_US))));
        },
        freeze: () => write(freezer, 'FROZEN'),
        thaw: () => write(freezer, 'THAWED'),
        oomKilled: () => /^oom_kill [1-9]/m.test(readFileSync(join(memory, 'memory.oom_control'), 'utf8')),
        kill() {
          tryWrite(freezer, 'THAWED');
          killAll(join(memory, 'cgroup.procs'));
        },
        remove() {
          for (const dir of dirs.values()) removeGroup(dir);
        },
      };
    },
    close() {
      for (const base of bases.values()) removeGroup(base);
    },
  };
}

function openV2(instance: string): Cgroups {
  const own = ownGroups().get('') ?? '/';
  const parent = join(ROOT, own);
  removeStale(parent);
  const base = join(parent, instance);
  // A v2 group with processes of its own cannot hand controllers to children (EBUSY): the daemon moves into a
  // leaf of its own group first, as a delegated subtree expects.
  try {
    write(join(parent, 'cgroup.subtree_control'), '+memory +cpu +pids');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EBUSY') throw error;
    const leaf = join(parent, `${instance}-daemon`);
    mkdirSync(leaf, { recursive: true });
    write(join(leaf, 'cgroup.procs'), String(process.pid));
    write(join(parent, 'cgroup.subtree_control'), '+memory +cpu +pids');
  }
  mkdirSync(base, { recursive: true });
  write(join(base, 'cgroup.subtree_control'), '+memory +cpu +pids');
  return {
    version: 'v2',
    create(name) {
      const dir = join(base, name);
      mkdirSync(dir);
      tryWrite(join(dir, 'pids.max'), String(PIDS_MAX));
      tryWrite(join(dir, 'memory.swap.max'), '0');
      return {
        add: (pid) => write(join(dir, 'cgroup.procs'), String(pid)),
        limit(memoryBytes, cpus) {
          tryWrite(join(dir, 'memory.max'), String(memoryBytes));
          write(join(dir, 'cpu.max'), `${Math.max(CPU_QUOTA_MIN_US, Math.round(cpus * CPU_PERIOD_US))} ${CPU_PERIOD_US}`);
        },
        freeze: () => write(join(dir, 'cgroup.freeze'), '1'),
        thaw: () => write(join(dir, 'cgroup.freeze'), '0'),
        oomKilled: () => /^oom_kill [1-9]/m.test(readFileSync(join(dir, 'memory.events'), 'utf8')),
        kill() {
          tryWrite(join(dir, 'cgroup.freeze'), '0');
          killAll(join(dir, 'cgroup.procs'));
        },
        remove: () => removeGroup(dir),
      };
    },
    close: () => removeGroup(base),
  };
}
