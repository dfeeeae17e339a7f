/** `lambdad start` as a user runs it: a real child process, real HTTP, real signals. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
    expect(output()).toMatch(/^\S+Z lambdad started listening=http:\/\/127\.0\.0\.1:\d+ data=\S+ functions=0 isolation=process maxContexts=\d+$/m);
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

  it('prints the daemon credentials, and as export lines that let other tools sign their requests', async () => {
    const dir = dataDir();
    const { child, output } = lambdad(['start', '--port', '0', '--data-dir', dir]);
    const [, url] = await waitFor(output, /lambdad listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const printed = lambdad(['credentials', '--data-dir', dir]);
    expect(await exited(printed.child)).toBe(0);
    const stored = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8'));
    expect(JSON.parse(printed.output())).toEqual({ AccessKeyId: stored.accessKeyId, SecretAccessKey: stored.secretAccessKey, Region: 'us-east-1' });

    const exports = lambdad(['credentials', '--data-dir', dir, '--env']);
    expect(await exited(exports.child)).toBe(0);
    const env = Object.fromEntries(exports.output().trim().split('\n').map((line) => /^export (\w+)=(.*)$/.exec(line)!.slice(1, 3) as [string, string]));
    expect(env).toMatchObject({ AWS_ACCESS_KEY_ID: stored.accessKeyId, AWS_DEFAULT_REGION: 'us-east-1', LAMBDAD_ENDPOINT_URL: 'http://127.0.0.1:9001' });
    // With those variables (and no data directory to look in), the CLI is let in; without them it is not.
    const signed = lambdad(['list-functions', '--endpoint-url', url!], { LAMBDAD_ACCESS_KEY_ID: env.LAMBDAD_ACCESS_KEY_ID!, LAMBDAD_SECRET_ACCESS_KEY: env.LAMBDAD_SECRET_ACCESS_KEY!, LAMBDAD_DATA_DIR: dataDir() });
    expect(await exited(signed.child)).toBe(0);
    expect(JSON.parse(signed.output())).toEqual({ Functions: [] });
    const unsigned = lambdad(['list-functions', '--endpoint-url', url!], { LAMBDAD_DATA_DIR: dataDir() });
    expect(await exited(unsigned.child)).not.toBe(0);
    expect(unsigned.output()).toContain('MissingAuthenticationTokenException');
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });
});
