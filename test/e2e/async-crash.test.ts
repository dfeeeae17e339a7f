/**
 * Nothing accepted with 202 is lost: 1,000 Event invokes are accepted by a daemon in a child process, which is
 * killed with SIGKILL while some run; a daemon started on the same data directory runs every one of them at
 * least once. Duplicates (events that were running at the kill and ran again) are counted and reported.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { FIXTURES, ROLE, startDaemon } from '../helpers/daemon.js';

const MAIN = fileURLToPath(new URL('../../dist/daemon/main.js', import.meta.url));
const EVENTS = 1_000;
const LANES = 50;

const runs = (file: string): string[] => {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

it('runs all 1,000 accepted events at least once across a kill -9 and a restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lambdad-crash-'));
  const file = join(dataDir, 'runs.log');
  // Thread isolation: the handler records each run in a file of the test's, which a sandboxed runner cannot reach.
  const child = spawn(process.execPath, [MAIN, 'start', '--auth', 'none', '--isolation', 'thread', '--port', '0', '--data-dir', dataDir, '--spare-workers', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`daemon exited ${code}: ${output}`)));
    });
    const created = await fetch(`${url}/2015-03-31/functions`, {
      method: 'POST',
      body: JSON.stringify({ FunctionName: 'journal', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'journal.handler', Code: { Directory: join(FIXTURES, 'behaviours') } }),
    });
    expect(created.status).toBe(201);

    const accepted: string[] = [];
    let sent = 0;
    const lane = async (): Promise<void> => {
      while (sent < EVENTS) {
        sent += 1;
        const response = await fetch(`${url}/2015-03-31/functions/journal/invocations`, { method: 'POST', headers: { 'X-Amz-Invocation-Type': 'Event' }, body: JSON.stringify({ file, ms: 20 }) });
        expect(response.status).toBe(202);
        accepted.push(response.headers.get('x-amzn-requestid')!);
      }
    };
    await Promise.all(Array.from({ length: LANES }, lane));
    expect(new Set(accepted).size).toBe(EVENTS);

    // Kill it while events run: some have run, some are running, the rest are queued.
    const deadline = Date.now() + 30_000;
    while (runs(file).length < 100 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const beforeRestart = runs(file).length;
    expect(beforeRestart).toBeLessThan(EVENTS);

    const restarted = await startDaemon({ isolation: 'thread' }, dataDir);
    try {
      const until = Date.now() + 60_000;
      while (new Set(runs(file)).size < EVENTS && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
      const all = runs(file);
      const distinct = new Set(all);
      expect([...accepted].filter((id) => !distinct.has(id))).toEqual([]);
      expect(distinct.size).toBe(EVENTS);
      console.log(`kill -9 after ${beforeRestart} runs: all ${EVENTS} events ran; ${all.length - distinct.size} ran twice (running at the kill)`);
    } finally {
      await restarted.stop();
    }
  } finally {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 120_000);
