/**
 * A process and its descendants as /proc shows them (Linux): who they are, what they hold, and how to end them
 * when their parent could not — including a runner frozen in its control group, which SIGKILL alone does not end.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rssMb } from './rss.js';

const readOrEmpty = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // the process or thread is gone
  }
};

/** Every descendant of `pid` (children of any of its threads, recursively). */
export function descendants(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      for (const child of readOrEmpty(`/proc/${parent}/task/${task}/children`).split(' ').filter(Boolean).map(Number)) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** Resident set size in MB; 0 once the process is gone. */
export function residentMb(pid: number): number {
  try {
    return rssMb(pid);
  } catch {
    return 0;
  }
}

/** Open descriptors; 0 once the process is gone. */
export function descriptorCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** Memory the host can still give, in MB. */
export function availableMb(): number {
  return Number(/MemAvailable:\s+(\d+)/.exec(readOrEmpty('/proc/meminfo'))?.[1] ?? 0) / 1024;
}

/** Thaws the control groups `pid` is in (cgroup v1 freezer, v2 freeze), then SIGKILLs it. */
export function thawAndKill(pid: number): void {
  for (const line of readOrEmpty(`/proc/${pid}/cgroup`).split('\n')) {
    const [, controllers, path] = line.split(':');
    if (path === undefined || path === '/') continue;
    const write = (file: string, value: string): void => {
      try {
        writeFileSync(file, value);
      } catch {
        // not this hierarchy's file, or not ours to write
      }
    };
    if (controllers === 'freezer') write(`/sys/fs/cgroup/freezer${path}/freezer.state`, 'THAWED');
    if (controllers === '') write(`/sys/fs/cgroup${path}/cgroup.freeze`, '0');
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}
