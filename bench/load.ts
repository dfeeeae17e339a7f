/**
 * Load shapes shared by the benchmarks that drive a daemon from outside: sequential latency, throughput with
 * a fixed number of calls in flight, and starting a server process that prints where it listens.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export type Call = () => Promise<unknown>;

/** Latency of `calls` sequential calls after `warmUp` untimed ones, in ms each. */
export async function latency(call: Call, warmUp: number, calls: number): Promise<number[]> {
  for (let i = 0; i < warmUp; i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  return samples;
}

/**
 * Calls per second with `lanes` calls outstanding at all times, after a first pass of 10 per lane that is not
 * timed: on lambdad each concurrent invocation has an execution context of its own, and starting one is a
 * cold start.
 */
export async function throughput(call: Call, lanes: number, calls: number): Promise<number> {
  await inFlight(call, lanes, lanes * 10);
  const startedAt = performance.now();
  await inFlight(call, lanes, calls);
  return Math.round(calls / ((performance.now() - startedAt) / 1000));
}

async function inFlight(call: Call, lanes: number, calls: number): Promise<void> {
  let started = 0;
  const lane = async (): Promise<void> => {
    while (started < calls) {
      started += 1;
      await call();
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

/** Starts `node args…` and resolves once its stdout matches `ready`. */
export function startProcess(args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) resolve({ child, match });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${output}`)));
  });
}
