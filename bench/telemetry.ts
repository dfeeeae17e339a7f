/**
 * `npm run bench` (telemetry part): invoke throughput with metrics and X-Ray tracing on against both off, in
 * the same run. Each side is a daemon in a process (and heap) of its own, invoked in-process there, where
 * lambdad's own overhead is the largest share (bench/telemetry-child.ts), with an Active-traced no-op function:
 *  - on: `--metrics on`, the X-Ray collector on a free port; X-Ray's default rule samples (1/s, then 5 %), each
 *    sampled invocation's two segments go to the collector and into traces.db;
 *  - off: `--metrics off --xray-address off` (trace headers are still made: Lambda always sets one);
 *  - the worst case: on, with every invocation sampled (the caller sends `Sampled=1`).
 * A round runs 10 blocks of each side, alternating (a b, b a, …), 4 invocations in flight: on against off for
 * 9 rounds, then the worst case against off for 5; a control (on against a second on, 5 rounds) shows what
 * the method reads when there is no difference. Medians of the rounds, and the median slowdown over every
 * adjacent pair of blocks.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeReport } from './report.js';
import { median } from './stats.js';
import type { BlockRequest, BlockResult } from './telemetry-child.js';

const ROUNDS = 9;
const WORST_CASE_ROUNDS = 5;
const CONTROL_ROUNDS = 5;
const LANES = 4;
const CALLS_PER_BLOCK = 5_000;
const BLOCKS = 10;
const CHILD = new URL('./telemetry-child.js', import.meta.url);
const ON = { 'xray-address': '127.0.0.1:0' };
const OFF = { metrics: 'off', 'xray-address': 'off' };

interface Side {
  block(request: BlockRequest): Promise<BlockResult>;
  stop(): Promise<void>;
}

function side(flags: Record<string, string>, sampled = false): Promise<Side> {
  const child: ChildProcess = fork(CHILD, [JSON.stringify(flags), sampled ? 'sampled' : 'default'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let waiting: { resolve: (message: unknown) => void; reject: (error: Error) => void } | null = null;
  child.on('message', (message) => waiting?.resolve(message));
  child.on('exit', (code) => waiting?.reject(new Error(`bench child exited with ${code}`)));
  const next = (): Promise<unknown> => new Promise((resolve, reject) => (waiting = { resolve, reject }));
  return next().then(() => ({
    block: (request) => {
      const reply = next() as Promise<BlockResult>;
      child.send(request);
      return reply;
    },
    stop: () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send('stop');
      return exited;
    },
  }));
}

/**
 * `a` and `b` over BLOCKS blocks each, run a b, b a, a b, …: invocations per second and mean CPU per invocation
 * of each, and the slowdown of `a` in each adjacent pair of blocks (which saw the same state of the machine).
 */
async function against(a: Side, b: Side): Promise<{ a: BlockResult; b: BlockResult; pairSlowdowns: number[] }> {
  const sums = [0, 1].map(() => ({ seconds: 0, cpuUs: 0, mainThreadUs: 0 }));
  const pairSlowdowns: number[] = [];
  for (let block = 0; block < BLOCKS; block++) {
    const order = block % 2 === 0 ? [0, 1] : [1, 0];
    const rps = [0, 0];
    for (const index of order) {
      const result = await [a, b][index]!.block({ calls: CALLS_PER_BLOCK, lanes: LANES });
      const sum = sums[index]!;
      rps[index] = result.rps;
      sum.seconds += CALLS_PER_BLOCK / result.rps;
      sum.cpuUs += result.cpuUs / BLOCKS;
      sum.mainThreadUs += result.mainThreadUs / BLOCKS;
    }
    pairSlowdowns.push(1 - rps[0]! / rps[1]!);
  }
  const [x, y] = sums.map((sum) => ({ rps: (BLOCKS * CALLS_PER_BLOCK) / sum.seconds, cpuUs: sum.cpuUs, mainThreadUs: sum.mainThreadUs }));
  return { a: x!, b: y!, pairSlowdowns };
}

const rounds: Record<string, number[]> = {};
/** Every adjacent pair's slowdown, per comparison: their median is the least disturbed by a noisy moment. */
const pairs: Record<string, number[]> = {};
const record = (key: string, value: number): void => void (rounds[key] ??= []).push(Math.round(value * 1000) / 1000);

/** `rounds` rounds of `a` against `b`; slowdown 0.02 = a runs 2 % fewer invocations per second than b. */
async function compare(name: string, a: Side, b: Side, count: number): Promise<void> {
  for (let round = 0; round < count; round++) {
    const { a: x, b: y, pairSlowdowns } = await against(a, b);
    pairs[name] = [...(pairs[name] ?? []), ...pairSlowdowns];
    record(`${name}Rps`, x.rps);
    record(`${name}BaselineRps`, y.rps);
    record(`${name}Slowdown`, 1 - x.rps / y.rps);
    record(`${name}CpuUsPerInvocation`, x.cpuUs);
    record(`${name}BaselineCpuUsPerInvocation`, y.cpuUs);
    record(`${name}MainThreadUsPerInvocation`, x.mainThreadUs);
    record(`${name}BaselineMainThreadUsPerInvocation`, y.mainThreadUs);
    process.stdout.write(
      `${name} ${round + 1}/${count}: ${x.rps.toFixed(0)}/s against ${y.rps.toFixed(0)}/s; CPU ${x.cpuUs.toFixed(1)} against ${y.cpuUs.toFixed(1)} µs, main thread ${x.mainThreadUs.toFixed(1)} against ${y.mainThreadUs.toFixed(1)} µs per invocation\n`,
    );
  }
}

const on = await side(ON);
const off = await side(OFF);
try {
  await compare('on', on, off, ROUNDS);
  const control = await side(ON);
  await compare('control', on, control, CONTROL_ROUNDS).finally(() => control.stop());
  const worst = await side(ON, true);
  await compare('allSampled', worst, off, WORST_CASE_ROUNDS).finally(() => worst.stop());
} finally {
  await on.stop();
  await off.stop();
}
for (const [name, slowdowns] of Object.entries(pairs)) rounds[`${name}PairSlowdownMedian`] = [Math.round(median(slowdowns) * 1000) / 1000];
writeReport('telemetry', { ROUNDS, WORST_CASE_ROUNDS, CONTROL_ROUNDS, LANES, CALLS_PER_BLOCK, BLOCKS }, rounds);
