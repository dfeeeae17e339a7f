/**
 * `npm run bench -- context-cost`: the memory one execution context costs the host, the figures behind the
 * default of `--max-contexts` (daemon/contexts/capacity.ts). Per case, a `lambdad start` of its own holds
 * invocations of a function that waits (bench/pause), and the proportional set size (PSS: a shared page split
 * between the processes that map it, so that the sum is what the host gives) of the daemon and every process
 * under it is read against the same before: 60 contexts of one version under `thread` and `process`
 * isolation, and 30 versions of one context each under `process` (a runner each, as spares have).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startDaemonProcess } from './load.js';
import { writeReport } from './report.js';

const ROLE = 'arn:aws:iam::000000000000:role/bench';
const PAUSE_CODE = fileURLToPath(new URL('../../bench/pause', import.meta.url));
/** Each invocation holds its context this long: enough for every context of a case to have started. */
const HOLD_MS = 12_000;
const CASES = [
  { isolation: 'thread', versions: 1, contextsEach: 60 },
  { isolation: 'process', versions: 1, contextsEach: 60 },
  { isolation: 'process', versions: 30, contextsEach: 1 },
] as const;

function pssMb(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    // Exited meanwhile.
    return 0;
  }
}

/** `pid` and every process under it (runners, their sandboxes). */
function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(parent, [...(parents.get(parent) ?? []), Number(entry)]);
    } catch {
      // Exited meanwhile.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i]!) ?? []));
  return tree;
}

const treePssMb = (pid: number): number => processTree(pid).reduce((sum, member) => sum + pssMb(member), 0);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const rounds: Record<string, number[]> = {};
for (const { isolation, versions, contextsEach } of CASES) {
  const contexts = versions * contextsEach;
  const daemon = await startDaemonProcess(['--auth', 'none', '--isolation', isolation, '--spare-workers', '0', '--max-contexts', String(contexts), '--xray-address', 'off']);
  const pool = new Pool(daemon.url, { connections: contexts + 1, headersTimeout: HOLD_MS * 4, bodyTimeout: HOLD_MS * 4 });
  try {
    for (let version = 0; version < versions; version++) {
      const created = await pool.request({
        method: 'POST',
        path: '/2015-03-31/functions',
        body: JSON.stringify({ FunctionName: `pause-${version}`, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: PAUSE_CODE }, Timeout: 60 }),
      });
      await created.body.text();
    }
    await sleep(1_000);
    const beforeMb = treePssMb(daemon.pid);
    const held = Array.from({ length: contexts }, (_, n) =>
      pool.request({ method: 'POST', path: `/2015-03-31/functions/pause-${n % versions}/invocations`, body: JSON.stringify({ ms: HOLD_MS }) }).then(async (response) => {
        await response.body.text();
        return response.statusCode;
      }),
    );
    let peakMb = beforeMb;
    const until = Date.now() + HOLD_MS - 1_000;
    while (Date.now() < until) {
      peakMb = Math.max(peakMb, treePssMb(daemon.pid));
      await sleep(250);
    }
    const statuses = await Promise.all(held);
    const key = `${isolation}-${versions}x${contextsEach}`;
    const perContextMb = Math.round(((peakMb - beforeMb) / contexts) * 100) / 100;
    process.stdout.write(`${key}: ${statuses.filter((status) => status === 200).length}/${contexts} ran, PSS ${Math.round(beforeMb)} → ${Math.round(peakMb)} MB, ${perContextMb} MB per context\n`);
    rounds[`${key}PerContextMb`] = [perContextMb];
  } finally {
    await pool.close();
    await daemon.stop();
  }
}
writeReport('context-cost', { cases: CASES, HOLD_MS }, rounds);
