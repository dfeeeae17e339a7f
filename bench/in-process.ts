/**
 * `npm run bench`: the invoke path against its floor, measured in the same run.
 *  - warm invoke through LambdaService (in-process) vs a raw Piscina no-op round trip with the same bytes,
 *    in alternating blocks;
 *  - cold start latency with and without spare workers.
 * Fixed parameters; each measurement is repeated ROUNDS times and the median of the rounds is reported.
 * Results go to bench/results/<timestamp>.json; bench/RESULTS.md summarises them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { loadConfig } from '../daemon/config.js';
import { Daemon } from '../daemon/daemon.js';
import { latency } from './load.js';
import { writeReport } from './report.js';
import { summarize } from './stats.js';

const ROUNDS = 5;
const WARM_CALLS = 3_000;
const WARM_UP_CALLS = 300;
const BLOCKS = 10;
const COLD_STARTS = 20;
/** Time for spare workers to be replaced between cold starts. */
const SPARE_REFILL_PAUSE_MS = 200;
const ROLE = 'arn:aws:iam::000000000000:role/bench';
const NOOP_CODE = fileURLToPath(new URL('../../bench/noop', import.meta.url));
const EVENT = JSON.stringify({ key: 'value', n: 1 });

const encoder = new TextEncoder();
const microseconds = (ms: number): number => Math.round(ms * 1000 * 10) / 10;

/** `calls` sequential round trips of `call`, each one's latency in ms. */
const timed = (calls: number, call: () => Promise<unknown>): Promise<number[]> => latency(call, 0, calls);

/**
 * Warm invokes through the service against the floor — a raw Piscina no-op round trip moving the same
 * bytes — in alternating blocks, so both see the same state of a noisy machine.
 */
async function warmAgainstFloor(daemon: Daemon): Promise<{ floor: number[]; warm: number[] }> {
  const pool = new Piscina({ filename: new URL('./noop-worker.js', import.meta.url).href, minThreads: 1, maxThreads: 1, atomics: 'sync', env: {} });
  const service = daemon.service;
  service.createFunction({ FunctionName: 'noop', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: NOOP_CODE } });
  const floorCall = (): Promise<unknown> => {
    const bytes = encoder.encode(EVENT);
    return pool.run(bytes, { transferList: [bytes.buffer] });
  };
  const warmCall = (): Promise<unknown> => service.invoke({ functionName: 'noop', payload: encoder.encode(EVENT) });
  await timed(WARM_UP_CALLS, floorCall);
  await timed(WARM_UP_CALLS, warmCall);
  const floor: number[] = [];
  const warm: number[] = [];
  for (let block = 0; block < BLOCKS; block++) {
    floor.push(...(await timed(WARM_CALLS / BLOCKS, floorCall)));
    warm.push(...(await timed(WARM_CALLS / BLOCKS, warmCall)));
  }
  await pool.destroy();
  return { floor, warm };
}

async function withDaemon<T>(spareWorkers: number, work: (daemon: Daemon) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lambdad-bench-'));
  const daemon = await Daemon.start(loadConfig({ port: '0', 'data-dir': dataDir, 'spare-workers': String(spareWorkers), isolation: 'thread' }));
  try {
    return await work(daemon);
  } finally {
    await daemon.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function coldStarts(daemon: Daemon): Promise<{ latency: number[]; init: number[] }> {
  const service = daemon.service;
  service.createFunction({ FunctionName: 'cold', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: NOOP_CODE } });
  const latency: number[] = [];
  const init: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    // A configuration change makes the next invocation a cold start.
    service.updateFunctionConfiguration('cold', { Description: `round ${i}` });
    await new Promise((resolve) => setTimeout(resolve, SPARE_REFILL_PAUSE_MS));
    const started = performance.now();
    const result = await service.invoke({ functionName: 'cold', payload: encoder.encode(EVENT) });
    latency.push(performance.now() - started);
    const reported = /\tInit Duration: ([\d.]+) ms/.exec(result.log);
    if (reported === null) throw new Error('a cold start without Init Duration');
    init.push(Number(reported[1]));
  }
  return { latency, init };
}

async function main(): Promise<void> {
  const rounds: Record<string, number[]> = { floorP50: [], warmP50: [], warmP99: [], ratio: [], coldSpareP50: [], coldSpareInitP50: [], coldNoSpareP50: [], coldNoSpareInitP50: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const measured = await withDaemon(1, warmAgainstFloor);
    const floor = summarize(measured.floor);
    const warm = summarize(measured.warm);
    const spare = await withDaemon(2, coldStarts);
    const noSpare = await withDaemon(0, coldStarts);
    rounds.floorP50!.push(microseconds(floor.p50));
    rounds.warmP50!.push(microseconds(warm.p50));
    rounds.warmP99!.push(microseconds(warm.p99));
    rounds.ratio!.push(Math.round((warm.p50 / floor.p50) * 100) / 100);
    rounds.coldSpareP50!.push(microseconds(summarize(spare.latency).p50));
    rounds.coldSpareInitP50!.push(microseconds(summarize(spare.init).p50));
    rounds.coldNoSpareP50!.push(microseconds(summarize(noSpare.latency).p50));
    rounds.coldNoSpareInitP50!.push(microseconds(summarize(noSpare.init).p50));
    process.stdout.write(`round ${round + 1}/${ROUNDS}: floor ${rounds.floorP50!.at(-1)} µs, warm ${rounds.warmP50!.at(-1)} µs, cold+spare ${rounds.coldSpareP50!.at(-1)} µs, cold ${rounds.coldNoSpareP50!.at(-1)} µs\n`);
  }
  writeReport('invoke', { ROUNDS, WARM_CALLS, WARM_UP_CALLS, BLOCKS, COLD_STARTS, SPARE_REFILL_PAUSE_MS, event: EVENT }, rounds);
}

await main();
