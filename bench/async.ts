/**
 * `npm run bench` (async part): how long an Event invoke takes until its 202 (the event committed to the
 * store), against a synchronous invoke of the same no-op in the same run, both over HTTP (undici, keep-alive)
 * to `lambdad start --auth none` in its own process. Sequential calls; 5 rounds, medians. The events run in
 * the background meanwhile, as they would.
 */
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { measureRounds, startDaemonProcess, type Call } from './load.js';
import { writeReport } from './report.js';

const ROUNDS = 5;
const CALLS = 1_000;
const WARM_UP_CALLS = 200;
const ROLE = 'arn:aws:iam::000000000000:role/bench';
const NOOP_CODE = fileURLToPath(new URL('../../bench/noop', import.meta.url));
const EVENT = JSON.stringify({ key: 'value', n: 1 });
const INVOKE_PATH = '/2015-03-31/functions/noop/invocations';

function invoker(pool: Pool, invocationType: 'RequestResponse' | 'Event', expected: number): Call {
  return async () => {
    const { statusCode, body } = await pool.request({ method: 'POST', path: INVOKE_PATH, body: EVENT, headers: { 'x-amz-invocation-type': invocationType } });
    await body.text();
    if (statusCode !== expected) throw new Error(`${invocationType} answered ${statusCode}`);
  };
}

async function main(): Promise<void> {
  const daemon = await startDaemonProcess(['--auth', 'none', '--isolation', 'thread']);
  const pool = new Pool(daemon.url, { connections: 1, pipelining: 1 });
  try {
    const created = await pool.request({
      method: 'POST',
      path: '/2015-03-31/functions',
      body: JSON.stringify({ FunctionName: 'noop', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: NOOP_CODE } }),
    });
    await created.body.text();
    const calls: Record<string, Call> = { sync: invoker(pool, 'RequestResponse', 200), event: invoker(pool, 'Event', 202) };
    const rounds = await measureRounds({
      rounds: ROUNDS,
      calls,
      warmUpCalls: WARM_UP_CALLS,
      latencyCalls: CALLS,
      ratios: (m) => ({ eventToSyncP50Ratio: m.event!.p50 / m.sync!.p50 }),
    });
    writeReport('async', { ROUNDS, CALLS, WARM_UP_CALLS }, rounds);
  } finally {
    await pool.close();
    await daemon.stop();
  }
}

await main();
