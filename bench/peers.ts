/**
 * `npm run bench:peers`: lambdad against the emulators people use today, in one run, with the same client: the
 * Lambda Invoke API over keep-alive HTTP (undici), for lambdad (`lambdad start --auth none`) and serverless-offline 13
 * (serverless framework v3, worker-thread mode, its Lambda port), and lambda-local's `--watch` server (it has no
 * Invoke API: the event is POSTed to it). The peers are installed into bench/peers/ (own package.json, never
 * lambdad's dependencies) on first use. All run bench/peers/function/handler.js, which counts its invocations:
 * a count that grows across calls means warm state is kept. Latency: 1,000 sequential calls (p50, p99);
 * throughput: 32 in flight. 3 rounds, medians.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { latency, startDaemonProcess, throughput, type Call } from './load.js';
import { writeReport } from './report.js';
import { median, summarize } from './stats.js';

const ROUNDS = 3;
const LATENCY_CALLS = 1_000;
const WARM_UP_CALLS = 100;
const IN_FLIGHT = 32;
const THROUGHPUT_CALLS = 3_000;
const PEERS = fileURLToPath(new URL('../../bench/peers', import.meta.url));
const FUNCTION = join(PEERS, 'function');
const ROLE = 'arn:aws:iam::000000000000:role/bench';
const SLS_PORT = 3902;
const LAMBDA_LOCAL_PORT = 3903;

if (!existsSync(join(PEERS, 'node_modules', 'serverless-offline'))) {
  process.stdout.write('installing the peers into bench/peers/ …\n');
  const installed = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: PEERS, stdio: 'inherit' });
  if (installed.status !== 0) throw new Error('npm install in bench/peers failed');
}

/** Starts a peer and resolves once its output matches `ready` (stdout and stderr both, as they log to either). */
function startPeer(command: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, command, { cwd: PEERS, env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench' } });
  let output = '';
  return new Promise((resolve, reject) => {
    const read = (chunk: Buffer): void => {
      output += chunk.toString();
      if (ready.test(output)) resolve(child);
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`${command.join(' ')} exited with ${code}:\n${output}`)));
  });
}

function invoker(pool: Pool, path: string, body: string, counts: number[]): Call {
  return async () => {
    const { statusCode, body: answer } = await pool.request({ method: 'POST', path, body, headers: { 'content-type': 'application/json' } });
    const text = await answer.text();
    if (statusCode !== 200) throw new Error(`${path} answered ${statusCode}: ${text}`);
    const parsed = JSON.parse(text) as { invocations?: number; body?: string };
    counts.push(parsed.invocations ?? Number(JSON.parse(parsed.body ?? '{}').invocations));
  };
}

const daemon = await startDaemonProcess(['--auth', 'none', '--isolation', 'thread']);
const sls = await startPeer([join(PEERS, 'node_modules/serverless/bin/serverless.js'), 'offline', 'start', '--lambdaPort', String(SLS_PORT), '--httpPort', String(SLS_PORT + 10), '--albPort', String(SLS_PORT + 20)], /listening on http:\/\/localhost:3902/i);
const lambdaLocal = await startPeer([join(PEERS, 'node_modules/lambda-local/build/cli.js'), '-l', join(FUNCTION, 'handler.js'), '-h', 'handler', '-t', '10', '--watch', String(LAMBDA_LOCAL_PORT)], /listening|started|:3903/i);

const pools = {
  lambdad: new Pool(daemon.url, { connections: IN_FLIGHT, pipelining: 1 }),
  serverlessOffline: new Pool(`http://127.0.0.1:${SLS_PORT}`, { connections: IN_FLIGHT, pipelining: 1 }),
  lambdaLocal: new Pool(`http://127.0.0.1:${LAMBDA_LOCAL_PORT}`, { connections: IN_FLIGHT, pipelining: 1 }),
};
const created = await pools.lambdad.request({ method: 'POST', path: '/2015-03-31/functions', body: JSON.stringify({ FunctionName: 'counter', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'handler.handler', Code: { Directory: FUNCTION } }) });
if (created.statusCode !== 201) throw new Error(`CreateFunction answered ${created.statusCode}: ${await created.body.text()}`);
await created.body.text();

const counts: Record<string, number[]> = { lambdad: [], serverlessOffline: [], lambdaLocal: [] };
const calls: Record<string, Call> = {
  lambdad: invoker(pools.lambdad, '/2015-03-31/functions/counter/invocations', '{}', counts.lambdad!),
  serverlessOffline: invoker(pools.serverlessOffline, '/2015-03-31/functions/lambdad-peers-dev-counter/invocations', '{}', counts.serverlessOffline!),
  lambdaLocal: invoker(pools.lambdaLocal, '/', JSON.stringify({ event: {} }), counts.lambdaLocal!),
};

const rounds: Record<string, number[]> = {};
const record = (key: string, value: number): void => void (rounds[key] ??= []).push(Math.round(value * 10) / 10);
try {
  for (let round = 0; round < ROUNDS; round++) {
    const line: string[] = [];
    for (const [name, call] of Object.entries(calls)) {
      const { p50, p99 } = summarize(await latency(call, WARM_UP_CALLS, LATENCY_CALLS));
      const rps = await throughput(call, IN_FLIGHT, THROUGHPUT_CALLS);
      record(`${name}P50us`, p50 * 1000);
      record(`${name}P99us`, p99 * 1000);
      record(`${name}Rps`, rps);
      line.push(`${name} p50 ${(p50 * 1000).toFixed(0)} µs, p99 ${(p99 * 1000).toFixed(0)} µs, ${rps}/s`);
    }
    process.stdout.write(`round ${round + 1}/${ROUNDS}: ${line.join('; ')}\n`);
  }
} finally {
  for (const pool of Object.values(pools)) await pool.close();
  sls.kill('SIGTERM');
  lambdaLocal.kill('SIGTERM');
  await daemon.stop();
}
// Warm state: the largest count one instance reached, against the calls made (1 means every call was cold).
for (const [name, seen] of Object.entries(counts)) record(`${name}MaxWarmCount`, Math.max(...seen.filter(Number.isFinite)));
record('p50AdvantageOverServerlessOffline', median(rounds['serverlessOfflineP50us']!) / median(rounds['lambdadP50us']!));
record('rpsAdvantageOverServerlessOffline', median(rounds['lambdadRps']!) / median(rounds['serverlessOfflineRps']!));
writeReport('peers', { ROUNDS, LATENCY_CALLS, WARM_UP_CALLS, IN_FLIGHT, THROUGHPUT_CALLS }, rounds);
