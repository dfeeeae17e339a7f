/**
 * One daemon (`lambdad start`, its own process) holding N invocations in flight at once — each handler marks that
 * it runs, then awaits timers until the benchmark opens a gate — and the N+1st throttled (the account limit is N).
 * Reports how long it took until all N handlers were running, the daemon's RSS before and at the peak, and the RSS
 * each warm execution context adds (goal: ≤ 10 MB). Run by bench/scale.ts (1,000) and bench/memory.ts (100).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startDaemonProcess } from './load.js';
import { writeReport } from './report.js';
import { rssMb } from './rss.js';

/** The run gives up waiting for all handlers to be running after this long. */
const RAMP_LIMIT_MS = 120_000;
const ROLE = 'arn:aws:iam::000000000000:role/bench';
const SLEEPER_CODE = fileURLToPath(new URL('../../bench/sleeper', import.meta.url));


export async function holdInFlight(name: string, inFlight: number): Promise<void> {
  const daemon = await startDaemonProcess(['--auth', 'none', '--isolation', 'thread', '--account-concurrency', String(inFlight)]);
  const pid = daemon.pid;
  const pool = new Pool(daemon.url, { connections: inFlight + 1, pipelining: 1, headersTimeout: RAMP_LIMIT_MS * 2, bodyTimeout: RAMP_LIMIT_MS * 2 });
  try {
    const created = await pool.request({
      method: 'POST',
      path: '/2015-03-31/functions',
      body: JSON.stringify({ FunctionName: 'sleeper', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: SLEEPER_CODE }, Timeout: 120 }),
    });
    await created.body.text();
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // spares started, the daemon idle
    const baselineMb = rssMb(pid);

    // Each handler marks that it runs, then holds its context until the gate opens.
    const directory = mkdtempSync(join(tmpdir(), 'lambdad-scale-gate-'));
    const invoke = async (): Promise<{ status: number; body: string }> => {
      const response = await pool.request({ method: 'POST', path: '/2015-03-31/functions/sleeper/invocations', body: JSON.stringify({ directory }) });
      return { status: response.statusCode, body: await response.body.text() };
    };
    const startedAt = performance.now();
    let peakMb = baselineMb;
    const settled: string[] = [];
    const held = Array.from({ length: inFlight }, () =>
      invoke().then((result) => {
        settled.push(`${result.status} ${result.body.slice(0, 200)}`);
        return result;
      }),
    );
    const deadline = Date.now() + RAMP_LIMIT_MS;
    // Stops early if an invocation ended before the gate opened: it will never be running.
    let reported = Date.now();
    while (readdirSync(directory).length < inFlight && settled.length === 0 && Date.now() < deadline) {
      peakMb = Math.max(peakMb, rssMb(pid));
      if (Date.now() - reported >= 5_000) {
        reported = Date.now();
        process.stdout.write(`${Math.round(performance.now() - startedAt)} ms: ${readdirSync(directory).length} running, RSS ${Math.round(rssMb(pid))} MB\n`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (settled.length > 0) process.stdout.write(`ended before the gate opened: ${settled.join('\n')}\n`);
    const reachedAllMs = Math.round(performance.now() - startedAt);
    const running = readdirSync(directory).length;
    peakMb = Math.max(peakMb, rssMb(pid));
    const extra = await invoke();
    writeFileSync(join(directory, 'gate'), '');
    const results = await Promise.all(held);
    rmSync(directory, { recursive: true, force: true });
    const report = {
      running,
      admitted: results.filter((result) => result.status === 200).length,
      extraStatus: extra.status,
      reachedAllMs,
      baselineRssMb: Math.round(baselineMb),
      peakRssMb: Math.round(peakMb),
      rssPerContextMb: Math.round(((peakMb - baselineMb) / inFlight) * 100) / 100,
    };
    process.stdout.write(`${JSON.stringify(report)}\none more: ${extra.status} ${extra.body}\n`);
    writeReport(name, { inFlight, RAMP_LIMIT_MS }, Object.fromEntries(Object.entries(report).map(([key, value]) => [key, [value]])));
  } finally {
    await pool.close();
    await daemon.stop();
  }
}

