/**
 * Load shapes shared by the benchmarks that drive a daemon from outside: sequential latency, throughput with
 * a fixed number of calls in flight, and starting a server process that prints where it listens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize } from './stats.js';

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

/**
 * Each call's latency and the calls per second with `lanes` calls outstanding at all times, after an untimed
 * pass of 10 per lane (each concurrent invocation's execution context starts then).
 */
export async function underLoad(call: Call, lanes: number, calls: number): Promise<{ samples: number[]; rps: number }> {
  await inFlight(call, lanes, lanes * 10);
  const samples: number[] = [];
  const timed: Call = async () => {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  };
  const startedAt = performance.now();
  await inFlight(timed, lanes, calls);
  return { samples, rps: Math.round(calls / ((performance.now() - startedAt) / 1000)) };
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

/** One call kind's figures in a round: latency percentiles in µs, and calls per second when measured. */
export interface Measured {
  readonly p50: number;
  readonly p99: number;
  readonly rps?: number;
}

export interface RoundsPlan {
  readonly rounds: number;
  readonly calls: Readonly<Record<string, Call>>;
  readonly warmUpCalls: number;
  readonly latencyCalls: number;
  /** Also measure throughput with this many calls in flight, this many calls in all. */
  readonly throughput?: { readonly lanes: number; readonly calls: number };
  /** Ratios to record for a round, from what it measured (e.g. against the floor). */
  readonly ratios: (measured: Readonly<Record<string, Measured>>) => Record<string, number>;
}

/**
 * Runs the rounds of a benchmark: in each, every kind of call is measured in turn (latency, then throughput),
 * and the round's figures and ratios are recorded (rounded to 0.1) and printed. Returns the rounds by key.
 */
export async function measureRounds(plan: RoundsPlan): Promise<Record<string, number[]>> {
  const rounds: Record<string, number[]> = {};
  const record = (key: string, value: number): void => {
    (rounds[key] ??= []).push(Math.round(value * 10) / 10);
  };
  for (let round = 0; round < plan.rounds; round++) {
    const measured: Record<string, Measured> = {};
    for (const [name, call] of Object.entries(plan.calls)) {
      const { p50, p99 } = summarize(await latency(call, plan.warmUpCalls, plan.latencyCalls));
      const rps = plan.throughput === undefined ? undefined : await throughput(call, plan.throughput.lanes, plan.throughput.calls);
      measured[name] = { p50: p50 * 1000, p99: p99 * 1000, ...(rps === undefined ? {} : { rps }) };
      record(`${name}P50us`, p50 * 1000);
      record(`${name}P99us`, p99 * 1000);
      if (rps !== undefined) record(`${name}Rps`, rps);
    }
    for (const [key, value] of Object.entries(plan.ratios(measured))) record(key, value);
    const line = Object.entries(measured).map(([name, m]) => `${name} p50 ${m.p50.toFixed(0)} µs${m.rps === undefined ? ` p99 ${m.p99.toFixed(0)} µs` : ` ${m.rps}/s`}`);
    process.stdout.write(`round ${round + 1}/${plan.rounds}: ${line.join(', ')}\n`);
  }
  return rounds;
}

const MAIN = fileURLToPath(new URL('../daemon/main.js', import.meta.url));

export interface DaemonProcess {
  readonly url: string;
  readonly pid: number;
  /** Its data directory (a temporary one, removed by stop()). */
  readonly dataDir: string;
  /** SIGTERM, wait for the exit, remove the data directory. */
  stop(): Promise<void>;
}

/**
 * `lambdad start` in its own process on a free port and a temporary data directory, with `flags` added. The
 * invoke-path benchmarks pass `--isolation thread`: they hold lambdad's own path to its floors, and their
 * functions share files with the benchmark; bench/isolation.ts compares the two modes.
 */
export async function startDaemonProcess(flags: string[] = []): Promise<DaemonProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lambdad-bench-'));
  const { child, match } = await startProcess([MAIN, 'start', '--port', '0', '--data-dir', dataDir, ...flags], /listening on (http:\/\/\S+)/);
  return {
    url: match[1]!,
    pid: child.pid!,
    dataDir,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
