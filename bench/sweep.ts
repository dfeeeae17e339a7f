/**
 * `npm run bench -- sweep`: warm invoke latency and throughput against the number of calls in flight (1, 16, 64,
 * 256), over WebSocket msgpack, WebSocket protobuf and the AWS HTTP API, with the floors measured in the same run:
 * ws + msgpackr + a Piscina no-op (bench/floor-server.ts) and plain Node http calling the handler in-process
 * (bench/http-floor-server.ts), and each of them also with lambdad's execution model and no work in it (one
 * single-thread pool per call in flight, bench/context-pools.ts), to tell the model's cost from lambdad's own.
 * Each server is a process of its own; the daemon runs with `--auth none`, as the floors check no signature.
 * Each kind is first warmed up (8 blocks of 16,000 calls, 64 in flight); then 5 rounds; medians of the rounds'
 * p50, p99 and calls per second. bench/summary.ts draws the chart from it.
 */
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { LambdadClient } from '../clients/node/index.js';
import { poster, wsFloorClient } from './floors.js';
import { startDaemonProcess, startProcess, underLoad, type Call } from './load.js';
import { writeReport } from './report.js';
import { summarize } from './stats.js';

const ROUNDS = 5;
export const IN_FLIGHT = [1, 16, 64, 256] as const;
/** A round is this many calls per lane, within the bounds below: long enough that a GC or a flush is not all of it. */
const CALLS_PER_LANE = 160;
const MIN_CALLS = 2_000;
const MAX_CALLS = 12_000;
const WARM_UP_LANES = 64;
const WARM_UP_BLOCKS = 8;
const WARM_UP_BLOCK_CALLS = 16_000;
const ROLE = 'arn:aws:iam::000000000000:role/bench';
const NOOP_CODE = fileURLToPath(new URL('../../bench/noop', import.meta.url));
const EVENT_TEXT = JSON.stringify({ key: 'value', n: 1 });
const EVENT = new TextEncoder().encode(EVENT_TEXT);

const wsFloor = await startProcess([fileURLToPath(new URL('./floor-server.js', import.meta.url))], /^(\d+)\n/);
const httpFloor = await startProcess([fileURLToPath(new URL('./http-floor-server.js', import.meta.url))], /^(\d+)\n/);
const daemon = await startDaemonProcess(['--auth', 'none', '--isolation', 'thread']);
const maxLanes = Math.max(...IN_FLIGHT);
const msgpack = await LambdadClient.connect({ url: daemon.url, codec: 'msgpack' });
const protobuf = await LambdadClient.connect({ url: daemon.url, codec: 'protobuf' });
await msgpack.createFunction({ FunctionName: 'noop', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: NOOP_CODE } });
const wsFloorHandle = await wsFloorClient(Number(wsFloor.match[1]), EVENT);
const wsContextsHandle = await wsFloorClient(Number(wsFloor.match[1]), EVENT, 'contexts');
const httpFloorPool = new Pool(`http://127.0.0.1:${httpFloor.match[1]}`, { connections: maxLanes, pipelining: 1 });
const daemonPool = new Pool(daemon.url, { connections: maxLanes, pipelining: 1 });

const calls: Record<string, Call> = {
  wsFloor: wsFloorHandle.call,
  wsContexts: wsContextsHandle.call,
  msgpack: () => msgpack.invoke('noop', EVENT),
  protobuf: () => protobuf.invoke('noop', EVENT),
  httpFloor: poster(httpFloorPool, '/', EVENT_TEXT),
  httpContexts: poster(httpFloorPool, '/contexts', EVENT_TEXT),
  http: poster(daemonPool, '/2015-03-31/functions/noop/invocations', EVENT_TEXT),
};

const rounds: Record<string, number[]> = {};
const record = (key: string, value: number): void => void (rounds[key] ??= []).push(Math.round(value * 10) / 10);
try {
  // Every execution context is a V8 isolate of its own, which optimises the invoke path's code on its own: a
  // context runs its first thousand or so invocations slower. Each kind first runs WARM_UP_BLOCKS blocks of
  // calls at WARM_UP_LANES in flight (for lambdad, ~2,000 invocations per context), and the blocks' rates are
  // recorded, to show the climb.
  for (const [name, call] of Object.entries(calls)) {
    for (let block = 0; block < WARM_UP_BLOCKS; block++) record(`${name}WarmUpRps`, (await underLoad(call, WARM_UP_LANES, WARM_UP_BLOCK_CALLS)).rps);
    process.stdout.write(`warm-up ${name}: ${rounds[`${name}WarmUpRps`]!.join(', ')} calls/s\n`);
  }
  // In-flight counts in increasing order, all rounds of each before the next: the 256 in flight start new
  // contexts, whose code is not optimised yet, and would otherwise be picked in the next round's smaller counts.
  for (const lanes of IN_FLIGHT) {
    for (let round = 0; round < ROUNDS; round++) {
      const line: string[] = [];
      for (const [name, call] of Object.entries(calls)) {
        const { samples, rps } = await underLoad(call, lanes, Math.min(MAX_CALLS, Math.max(MIN_CALLS, lanes * CALLS_PER_LANE)));
        const { p50, p99 } = summarize(samples);
        record(`${name}@${lanes}P50us`, p50 * 1000);
        record(`${name}@${lanes}P99us`, p99 * 1000);
        record(`${name}@${lanes}Rps`, rps);
        line.push(`${name} ${(p50 * 1000).toFixed(0)} µs ${rps}/s`);
      }
      process.stdout.write(`round ${round + 1}/${ROUNDS}, ${lanes} in flight: ${line.join(', ')}\n`);
    }
  }
} finally {
  wsFloorHandle.close();
  wsContextsHandle.close();
  msgpack.close();
  protobuf.close();
  await httpFloorPool.close();
  await daemonPool.close();
  wsFloor.child.kill('SIGTERM');
  httpFloor.child.kill('SIGTERM');
  await daemon.stop();
}
writeReport('sweep', { ROUNDS, IN_FLIGHT, CALLS_PER_LANE, MIN_CALLS, MAX_CALLS, WARM_UP_LANES, WARM_UP_BLOCKS, WARM_UP_BLOCK_CALLS }, rounds);
