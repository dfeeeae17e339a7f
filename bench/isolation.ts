/**
 * `npm run bench -- isolation`: what `process` isolation costs against `thread` isolation, in the same run.
 * Two daemons (`lambdad start`, each its own process), the same no-op function at 1,769 MB (one vCPU per context,
 * so the CPU quota is not what is measured), invoked through the SDK over WebSocket (msgpack): warm p50
 * (sequential) and throughput at 64 in flight, 5 rounds, medians, with the WebSocket + Piscina no-op floor
 * (bench/floor-server.ts) beside them. Goals: p50 ≤ 1.5× thread, throughput ≥ 0.7× thread. Then, in `process`
 * isolation: a warm call after 60 ms idle (its runner frozen, against thread), the cold start of a new function (a spare runner ready) and of a runner started on demand
 * (`--spare-workers 0`), and RSS per runner and per further context of a runner.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LambdadClient } from '../clients/node/index.js';
import { wsFloorClient } from './floors.js';
import { measureRounds, startDaemonProcess, startProcess, type Call, type DaemonProcess } from './load.js';
import { writeReport } from './report.js';
import { rssMb } from './rss.js';
import { median } from './stats.js';

const ROUNDS = 5;
const LATENCY_CALLS = 2_000;
const WARM_UP_CALLS = 300;
const THROUGHPUT_CALLS = 10_000;
const IN_FLIGHT = 64;
const COLD_STARTS = 10;
/** Calls each made after a pause past the freeze delay (20 ms), so each finds its runner frozen. */
const IDLE_CALLS = 50;
const IDLE_PAUSE_MS = 60;
/** Contexts held at once in one runner, for the RSS each further context adds. */
const HELD_CONTEXTS = 20;
const ROLE = 'arn:aws:iam::000000000000:role/bench';
const NOOP_CODE = fileURLToPath(new URL('../../bench/noop', import.meta.url));
const PAUSE_CODE = fileURLToPath(new URL('../../bench/pause', import.meta.url));
const EVENT = new TextEncoder().encode(JSON.stringify({ key: 'value', n: 1 }));

async function connect(daemon: DaemonProcess): Promise<LambdadClient> {
  const credentials = JSON.parse(readFileSync(join(daemon.dataDir, 'credentials.json'), 'utf8')) as { accessKeyId: string; secretAccessKey: string };
  return LambdadClient.connect({ url: daemon.url, codec: 'msgpack', credentials });
}

function create(client: LambdadClient, name: string, code = NOOP_CODE, memorySize = 1769): Promise<unknown> {
  return client.createFunction({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: code }, MemorySize: memorySize, Timeout: 60 });
}

/** Runner processes of a daemon: the Node.js processes running the runner's entry. */
function runnerPids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        // Node itself (bubblewrap's own command line names the entry too).
        return argv[0]?.endsWith('/node') === true && argv.some((arg) => arg.endsWith('contexts/runner/main.js'));
      } catch {
        return false;
      }
    });
}


const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** First-invocation latency of `count` new functions, `pauseMs` apart (so spares are replaced in between). */
async function coldStarts(client: LambdadClient, prefix: string, count: number, pauseMs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    await create(client, `${prefix}-${i}`);
    await sleep(pauseMs);
    const started = performance.now();
    await client.invoke(`${prefix}-${i}`, EVENT);
    samples.push(performance.now() - started);
  }
  return samples;
}

async function main(): Promise<void> {
  const floor = await startProcess([fileURLToPath(new URL('./floor-server.js', import.meta.url))], /^(\d+)\n/);
  const threadDaemon = await startDaemonProcess(['--isolation', 'thread']);
  const processDaemon = await startDaemonProcess(['--isolation', 'process']);
  const onDemand = await startDaemonProcess(['--isolation', 'process', '--spare-workers', '0']);
  const clients = { thread: await connect(threadDaemon), process: await connect(processDaemon), onDemand: await connect(onDemand) };
  const floorClient = await wsFloorClient(Number(floor.match[1]), EVENT);
  try {
    await create(clients.thread, 'noop');
    await create(clients.process, 'noop');
    const calls: Record<string, Call> = {
      floor: floorClient.call,
      thread: () => clients.thread.invoke('noop', EVENT),
      process: () => clients.process.invoke('noop', EVENT),
    };
    const rounds = await measureRounds({
      rounds: ROUNDS,
      calls,
      warmUpCalls: WARM_UP_CALLS,
      latencyCalls: LATENCY_CALLS,
      throughput: { lanes: IN_FLIGHT, calls: THROUGHPUT_CALLS },
      ratios: (m) => ({
        processP50Ratio: m.process!.p50 / m.thread!.p50,
        processRpsRatio: m.process!.rps! / m.thread!.rps!,
        threadP50FloorRatio: m.thread!.p50 / m.floor!.p50,
        processP50FloorRatio: m.process!.p50 / m.floor!.p50,
      }),
    });

    // A warm call after the runner has been idle long enough to be frozen: the thaw's cost, against thread.
    for (const kind of ['thread', 'process'] as const) {
      const samples: number[] = [];
      for (let i = 0; i < IDLE_CALLS; i++) {
        await sleep(IDLE_PAUSE_MS);
        const started = performance.now();
        await calls[kind]!();
        samples.push((performance.now() - started) * 1000);
      }
      rounds[`${kind}AfterIdleP50us`] = [median(samples)];
    }
    process.stdout.write(`after ${IDLE_PAUSE_MS} ms idle: thread p50 ${rounds.threadAfterIdleP50us![0]!.toFixed(0)} µs, process (thawed) ${rounds.processAfterIdleP50us![0]!.toFixed(0)} µs\n`);

    // Cold starts: a spare runner ready (1 s for the spare to be replaced), and a runner started on demand.
    rounds.coldStartSpareRunnerMs = await coldStarts(clients.process, 'cold', COLD_STARTS, 1_000);
    rounds.coldStartNewRunnerMs = await coldStarts(clients.onDemand, 'cold', COLD_STARTS, 0);
    process.stdout.write(`cold start: spare runner ${median(rounds.coldStartSpareRunnerMs).toFixed(1)} ms, new runner ${median(rounds.coldStartNewRunnerMs).toFixed(1)} ms\n`);

    // Memory: one runner with one context, then the same runner holding HELD_CONTEXTS at once.
    const before = new Set(runnerPids());
    await create(clients.onDemand, 'pause', PAUSE_CODE, 128);
    await clients.onDemand.invoke('pause', new TextEncoder().encode(JSON.stringify({ ms: 0 })));
    await sleep(500);
    const [runner] = runnerPids().filter((pid) => !before.has(pid));
    if (runner === undefined) throw new Error('the runner of the memory measurement was not found');
    const oneContextMb = rssMb(runner);
    await Promise.all(Array.from({ length: HELD_CONTEXTS }, () => clients.onDemand.invoke('pause', new TextEncoder().encode(JSON.stringify({ ms: 3_000 })))));
    await sleep(500);
    const heldMb = rssMb(runner);
    rounds.runnerRssMb = [oneContextMb];
    rounds.rssPerFurtherContextMb = [(heldMb - oneContextMb) / (HELD_CONTEXTS - 1)];
    process.stdout.write(`RSS: a runner with one context ${oneContextMb.toFixed(1)} MB; each further context ${rounds.rssPerFurtherContextMb[0]!.toFixed(1)} MB\n`);

    writeReport('isolation', { rounds: ROUNDS, latencyCalls: LATENCY_CALLS, throughputCalls: THROUGHPUT_CALLS, inFlight: IN_FLIGHT, memorySizeMb: 1769, coldStarts: COLD_STARTS, heldContexts: HELD_CONTEXTS }, rounds);
  } finally {
    floorClient.close();
    for (const client of Object.values(clients)) client.close();
    floor.child.kill('SIGTERM');
    await Promise.all([threadDaemon.stop(), processDaemon.stop(), onDemand.stop()]);
  }
}

await main();
