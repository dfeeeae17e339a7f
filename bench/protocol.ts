/**
 * `npm run bench` (protocol part): warm Invoke through the SDK over the WebSocket protocol, msgpack and
 * protobuf, against the floor measured in the same run (bench/floor-server.ts: ws + msgpackr + Piscina no-op,
 * in its own process like the daemon). Latency: sequential calls, p50/p99. Throughput: 64 in flight.
 * Fixed parameters, 5 rounds, medians of the rounds; results in bench/results/, summary in bench/RESULTS.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LambdadClient } from '../clients/node/index.js';
import { wsFloorClient } from './floors.js';
import { measureRounds, startDaemonProcess, startProcess, type Call } from './load.js';
import { writeReport } from './report.js';

const ROUNDS = 5;
const LATENCY_CALLS = 2_000;
const WARM_UP_CALLS = 300;
const THROUGHPUT_CALLS = 10_000;
const IN_FLIGHT = 64;
const ROLE = 'arn:aws:iam::000000000000:role/bench';
const NOOP_CODE = fileURLToPath(new URL('../../bench/noop', import.meta.url));
const EVENT = new TextEncoder().encode(JSON.stringify({ key: 'value', n: 1 }));

async function main(): Promise<void> {
  const floor = await startProcess([fileURLToPath(new URL('./floor-server.js', import.meta.url))], /^(\d+)\n/);
  const daemon = await startDaemonProcess(['--isolation', 'thread']);
  const credentials = JSON.parse(readFileSync(join(daemon.dataDir, 'credentials.json'), 'utf8')) as { accessKeyId: string; secretAccessKey: string };
  const url = daemon.url;
  const clients = {
    msgpack: await LambdadClient.connect({ url, codec: 'msgpack', credentials }),
    protobuf: await LambdadClient.connect({ url, codec: 'protobuf', credentials }),
  };
  await clients.msgpack.createFunction({ FunctionName: 'noop', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: NOOP_CODE } });
  const floorClientHandle = await wsFloorClient(Number(floor.match[1]), EVENT);
  const calls: Record<string, Call> = {
    floor: floorClientHandle.call,
    msgpack: () => clients.msgpack.invoke('noop', EVENT),
    protobuf: () => clients.protobuf.invoke('noop', EVENT),
  };

  let rounds: Record<string, number[]>;
  try {
    rounds = await measureRounds({
      rounds: ROUNDS,
      calls,
      warmUpCalls: WARM_UP_CALLS,
      latencyCalls: LATENCY_CALLS,
      throughput: { lanes: IN_FLIGHT, calls: THROUGHPUT_CALLS },
      ratios: (m) => ({
        msgpackP50Ratio: m.msgpack!.p50 / m.floor!.p50,
        msgpackRpsRatio: m.msgpack!.rps! / m.floor!.rps!,
        protobufP50Ratio: m.protobuf!.p50 / m.floor!.p50,
        protobufRpsRatio: m.protobuf!.rps! / m.floor!.rps!,
      }),
    });
  } finally {
    floorClientHandle.close();
    clients.msgpack.close();
    clients.protobuf.close();
    floor.child.kill('SIGTERM');
    await daemon.stop();
  }
  writeReport('protocol', { ROUNDS, LATENCY_CALLS, WARM_UP_CALLS, THROUGHPUT_CALLS, IN_FLIGHT }, rounds);
}

await main();
