/** `lambdad start` as a user runs it: a real child process, real HTTP, real signals. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../dist/daemon/main.js', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

function lambdad(args: string[], env: Record<string, string> = {}): { child: ChildProcessWithoutNullStreams; output: () => string } {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
  children.push(child);
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { child, output: () => text };
}

function waitFor(output: () => string, pattern: RegExp, ms = 15_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const match = pattern.exec(output());
      if (match) {
        clearInterval(poll);
        resolve(match);
      } else if (Date.now() - started > ms) {
        clearInterval(poll);
        reject(new Error(`no ${pattern} in output:\n${output()}`));
      }
    }, 20);
  });
}

const exited = (child: ChildProcessWithoutNullStreams): Promise<number | null> => new Promise((resolve) => child.once('exit', (code) => resolve(code)));

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lambdad-cli-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('lambdad start', () => {
  it('serves /healthz where it says it listens, and stops cleanly on SIGTERM', async () => {
    const { child, output } = lambdad(['start', '--port', '0', '--data-dir', dataDir()]);
    const [, url] = await waitFor(output, /lambdad listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(output()).toMatch(/^\S+Z lambdad started listening=http:\/\/127\.0\.0\.1:\d+ data=\S+ functions=0$/m);
    const code = exited(child);
    child.kill('SIGTERM');
    expect(await code).toBe(0);
    expect(output()).toMatch(/ lambdad signal signal=SIGTERM\n.* lambdad stopping graceMs=30000\n.* lambdad stopped\n/);
  });

  it('takes its options from LAMBDAD_* variables, with flags winning', async () => {
    const dir = dataDir();
    const { child, output } = lambdad(['start', '--port', '0'], { LAMBDAD_DATA_DIR: dir, LAMBDAD_PORT: '1' });
    await waitFor(output, /lambdad listening on http:\/\/127\.0\.0\.1:(\d+) \(data in (.+)\)/);
    expect(output()).toContain(`(data in ${dir})`);
    expect(output()).not.toContain('127.0.0.1:1 ');
    child.kill('SIGINT');
    expect(await exited(child)).toBe(0);
  });

  it('refuses a bad option with a message naming it, and exit code 2', async () => {
    const bad = lambdad(['start', '--port', 'ninety']);
    expect(await exited(bad.child)).toBe(2);
    expect(bad.output()).toContain("lambdad: --port must be an integer from 0 to 65535, got 'ninety'");
    const unsigned = lambdad(['start', '--host', '0.0.0.0', '--auth', 'none']);
    expect(await exited(unsigned.child)).toBe(2);
    expect(unsigned.output()).toContain('--host 0.0.0.0 is not a loopback address: serving it needs --auth sigv4');
    const unknown = lambdad(['start', '--colour', 'blue']);
    expect(await exited(unknown.child)).toBe(2);
    expect(unknown.output()).toContain("Unknown option '--colour'");
  });
});
