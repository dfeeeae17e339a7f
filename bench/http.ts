/**
 * `npm run bench` (HTTP part): Invoke through the AWS REST API (`POST /2015-03-31/functions/noop/invocations`)
 * with undici over keep-alive connections, against the floor measured in the same run: a plain Node.js http
 * server calling the same handler in-process (bench/http-floor-server.ts), and a second reference from the
 * same server, `thread`: the event through a Piscina no-op worker, the cost of any thread hand-off. Each
 * runs as its own process.
 * Latency: sequential calls, p50/p99. Throughput: 32 in flight. The daemon runs with `--auth none`, as the
 * floor checks no signature either. Fixed parameters, 5 rounds, medians of the rounds.
 */
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { poster } from './floors.js';
import { measureRounds, startDaemonProcess, startProcess, type Call } from './load.js';
import { writeReport } from './report.js';

const ROUNDS = 5;
const LATENCY_CALLS = 2_000;
const WARM_UP_CALLS = 300;
const THROUGHPUT_CALLS = 10_000;
const IN_FLIGHT = 32;
const ROLE = 'arn:aws:iam::000000000000:role/bench';
const NOOP_CODE = fileURLToPath(new URL('../../bench/noop', import.meta.url));
const EVENT = JSON.stringify({ key: 'value', n: 1 });

async function main(): Promise<void> {
  const floor = await startProcess([fileURLToPath(new URL('./http-floor-server.js', import.meta.url))], /^(\d+)\n/);
  const daemon = await startDaemonProcess(['--auth', 'none', '--isolation', 'thread']);
  const floorPool = new Pool(`http://127.0.0.1:${floor.match[1]}`, { connections: IN_FLIGHT, pipelining: 1 });
  const daemonPool = new Pool(daemon.url, { connections: IN_FLIGHT, pipelining: 1 });
  const created = await daemonPool.request({
    method: 'POST',
    path: '/2015-03-31/functions',
    body: JSON.stringify({ FunctionName: 'noop', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: NOOP_CODE } }),
  });
  if (created.statusCode !== 201) throw new Error(`CreateFunction answered ${created.statusCode}: ${await created.body.text()}`);
  await created.body.text();
  const calls: Record<string, Call> = {
    floor: poster(floorPool, '/', EVENT),
    thread: poster(floorPool, '/thread', EVENT),
    lambdad: poster(daemonPool, '/2015-03-31/functions/noop/invocations', EVENT),
  };

  let rounds: Record<string, number[]>;
  try {
    rounds = await measureRounds({
      rounds: ROUNDS,
      calls,
      warmUpCalls: WARM_UP_CALLS,
      latencyCalls: LATENCY_CALLS,
      throughput: { lanes: IN_FLIGHT, calls: THROUGHPUT_CALLS },
      ratios: (m) => ({ p50Ratio: m.lambdad!.p50 / m.floor!.p50, rpsRatio: m.lambdad!.rps! / m.floor!.rps!, threadP50Ratio: m.thread!.p50 / m.floor!.p50 }),
    });
  } finally {
    await floorPool.close();
    await daemonPool.close();
    floor.child.kill('SIGTERM');
    await daemon.stop();
  }
  writeReport('http', { ROUNDS, LATENCY_CALLS, WARM_UP_CALLS, THROUGHPUT_CALLS, IN_FLIGHT }, rounds);
}

await main();
