/**
 * `process` isolation against a hostile or broken handler: a real daemon, real runner processes in bubblewrap
 * sandboxes and control groups. What a handler tries here (read the daemon's secrets, other functions' code
 * and /tmp, signal the daemon, crash, exhaust memory, disk or CPU) must not reach past its own sandbox.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN } from '../helpers/cli.js';
import { event, FIXTURES, json, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';

let harness: TestDaemon;
const sandbox = `${FIXTURES}/sandbox`;
const isColdStart = (log: string): boolean => /\tInit Duration: \d+\.\d{2} ms/.test(log);

function create(name: string, extra: Record<string, unknown> = {}) {
  return harness.daemon.service.createFunction({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'probe.handler', Code: { Directory: sandbox }, ...extra });
}

async function probe(name: string, payload: Record<string, unknown>) {
  return harness.daemon.service.invoke({ functionName: name, payload: event(payload) });
}

async function attempt(name: string, payload: Record<string, unknown>): Promise<{ ok: boolean; code?: string; value?: unknown }> {
  const result = await probe(name, payload);
  expect(result.functionError).toBeUndefined();
  return json(result.payload);
}

beforeAll(async () => {
  // sigv4, the default: the daemon keeps its credentials in its data directory, which a handler must not read.
  harness = await startDaemon({ auth: 'sigv4' });
  create('bystander', { Handler: 'probe.handler' });
});

afterAll(async () => {
  await harness.stop();
});

describe('a crashing runner fails only its own invocation', () => {
  it.each([
    ['segfault', 'segmentation fault'],
    ['abort', 'aborted'],
  ])('%s: Runtime.ExitError with the signal; another function keeps answering; the next call is a cold start', async (action, signal) => {
    create(`crash-${action}`);
    await probe(`crash-${action}`, { action: 'whoami' });
    const [crashed, bystander] = await Promise.all([probe(`crash-${action}`, { action }), probe('bystander', { action: 'whoami' })]);
    expect(crashed.functionError).toBe('Unhandled');
    expect(json(crashed.payload)).toEqual({ errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${crashed.requestId} Error: Runtime exited with error: signal: ${signal}` });
    expect(crashed.log).toMatch(/\tStatus: error\tError Type: Runtime\.ExitError/);
    expect(crashed.log).toContain(`END RequestId: ${crashed.requestId}`);
    expect(bystander.functionError).toBeUndefined();
    const next = await probe(`crash-${action}`, { action: 'whoami' });
    expect(next.functionError).toBeUndefined();
    expect(isColdStart(next.log)).toBe(true);
  });

  it('a synchronous allocation loop past the memory size is killed at the runner\'s limit as Runtime.OutOfMemory', async () => {
    create('hog', { MemorySize: 1024, Timeout: 60 });
    const [hogged, bystander] = await Promise.all([probe('hog', { action: 'hog' }), probe('bystander', { action: 'whoami' })]);
    expect(json(hogged.payload)).toEqual({ errorType: 'Runtime.OutOfMemory', errorMessage: `RequestId: ${hogged.requestId} Error: Runtime exited with error: signal: killed` });
    expect(hogged.log).toMatch(/\tStatus: error\tError Type: Runtime\.OutOfMemory/);
    expect(bystander.functionError).toBeUndefined();
    expect(isColdStart((await probe('hog', { action: 'whoami' })).log)).toBe(true);
  });

  it('a handler that kills its own process takes only its runner with it', async () => {
    create('self-killer');
    const killed = await probe('self-killer', { action: 'signal', pid: 0, signal: 'SIGKILL' });
    expect(json(killed.payload).errorType).toBe('Runtime.ExitError');
    expect((await probe('bystander', { action: 'whoami' })).functionError).toBeUndefined();
  });
});

describe('what a handler can reach', () => {
  it('cannot read the daemon\'s credentials, data directory, other functions\' code, or the host user\'s files', async () => {
    create('snoop');
    const hostFile = join(homedir(), `.lambdad-isolation-${process.pid}`);
    writeFileSync(hostFile, 'host secret');
    try {
      for (const path of [join(harness.dataDir, 'credentials.json'), join(FIXTURES, 'behaviours', 'counter.js'), hostFile]) {
        expect(await attempt('snoop', { action: 'read', path })).toMatchObject({ ok: false, code: 'ENOENT' });
      }
      expect(await attempt('snoop', { action: 'list', path: harness.dataDir })).toMatchObject({ ok: false, code: 'ENOENT' });
    } finally {
      rmSync(hostFile, { force: true });
    }
  });

  it('cannot signal the daemon, and sees none of its environment', async () => {
    process.env.LAMBDAD_TEST_DAEMON_SECRET = 'must-not-leak';
    try {
      create('signaller');
      expect(await attempt('signaller', { action: 'signal', pid: process.pid, signal: 'SIGTERM' })).toMatchObject({ ok: false, code: 'ESRCH' });
      const { value } = await attempt('signaller', { action: 'read', path: '/proc/1/environ' });
      expect(String(value ?? '')).not.toContain('must-not-leak');
      const whoami = json((await probe('signaller', { action: 'whoami' })).payload);
      expect(whoami).toMatchObject({ uid: 993, user: 'sbx_user1051', cwd: '/var/task' });
      expect(whoami.env.LAMBDAD_TEST_DAEMON_SECRET).toBeUndefined();
    } finally {
      delete process.env.LAMBDAD_TEST_DAEMON_SECRET;
    }
  });

  it('reads its own files by relative path, cannot change them, and finds its layers under /opt', async () => {
    const layer = harness.daemon.service.publishLayerVersion({ LayerName: 'settings', Content: { ZipFile: zipSync({ 'config/settings.txt': strToU8('from the layer') }) } });
    create('own-files', { Layers: [layer.LayerVersionArn] });
    expect(await attempt('own-files', { action: 'read', path: './data.json' })).toEqual({ ok: true, value: '{ "shipped": "in the zip" }\n' });
    expect(await attempt('own-files', { action: 'write', path: '/var/task/data.json' })).toMatchObject({ ok: false, code: 'EROFS' });
    expect(await attempt('own-files', { action: 'read', path: '/opt/config/settings.txt' })).toEqual({ ok: true, value: 'from the layer' });
  });

  it('keeps /tmp private to the function, bounded by its EphemeralStorage', async () => {
    create('writer');
    create('reader');
    expect(await attempt('writer', { action: 'write', path: '/tmp/x', content: 'mine' })).toMatchObject({ ok: true });
    expect(await attempt('writer', { action: 'read', path: '/tmp/x' })).toEqual({ ok: true, value: 'mine' });
    expect(await attempt('reader', { action: 'read', path: '/tmp/x' })).toMatchObject({ ok: false, code: 'ENOENT' });
    // 512 MB of /tmp (the default): writing 600 MB stops at the limit with ENOSPC.
    create('filler', { MemorySize: 1769, Timeout: 60 });
    const filled = (await attempt('filler', { action: 'fill-tmp', mb: 600 })).value as { written: number; code?: string };
    expect(filled.code).toBe('ENOSPC');
    expect(filled.written).toBeLessThanOrEqual(512);
  });
});

describe('a daemon killed with SIGKILL', () => {
  it('leaves its runners frozen, and the next daemon to start on the host ends them', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lambdad-killed-'));
    const child = spawn(process.execPath, [MAIN, 'start', '--auth', 'none', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'ignore'] });
    const runnersOf = (pid: number): number[] =>
      readdirSync('/proc')
        .filter((entry) => /^\d+$/.test(entry))
        .filter((entry) => {
          try {
            return readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(`/lambdad-${pid}/`);
          } catch {
            return false;
          }
        })
        .map(Number);
    try {
      await new Promise<void>((resolve) => child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('listening on') && resolve()));
      // Its spare runners start, go idle and are frozen.
      await expect.poll(() => runnersOf(child.pid!).length, { timeout: 10_000 }).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 500));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      expect(runnersOf(child.pid!).length).toBeGreaterThan(0);
      const next = await startDaemon();
      try {
        await expect.poll(() => runnersOf(child.pid!), { timeout: 10_000 }).toEqual([]);
      } finally {
        await next.stop();
      }
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('limits', () => {
  it('gives a CPU-bound handler CPU in proportion to its memory: 128/1769 of a core at 128 MB, a core at 1,769 MB', async () => {
    create('cpu-small', { MemorySize: 128, Timeout: 30 });
    create('cpu-vcpu', { MemorySize: 1769, Timeout: 30 });
    // Warm both first: the cold start's runtime loading is not the function's share.
    await probe('cpu-small', { action: 'whoami' });
    await probe('cpu-vcpu', { action: 'whoami' });
    const small = json((await probe('cpu-small', { action: 'cpu', ms: 2000 })).payload) as { wallMs: number; cpuMs: number };
    const vcpu = json((await probe('cpu-vcpu', { action: 'cpu', ms: 2000 })).payload) as { wallMs: number; cpuMs: number };
    const smallShare = small.cpuMs / small.wallMs;
    const vcpuShare = vcpu.cpuMs / vcpu.wallMs;
    console.log(`CPU share of a busy handler: ${smallShare.toFixed(3)} of a core at 128 MB (expected ${(128 / 1769).toFixed(3)}), ${vcpuShare.toFixed(3)} at 1,769 MB (expected 1)`);
    expect(smallShare).toBeGreaterThan(0.02);
    expect(smallShare).toBeLessThan(0.2);
    // A shared 2-core host: loosely bounded below.
    expect(vcpuShare).toBeGreaterThan(0.5);
  });

  it('freezes the whole runner between invocations: a child process the handler left running does not advance', async () => {
    create('ticker', { MemorySize: 1769 });
    await probe('ticker', { action: 'spawn-ticker' });
    const idleFrom = Date.now() + 200;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const idleUntil = Date.now();
    const ticks = (await attempt('ticker', { action: 'ticks' })).value as number[];
    expect(ticks.length).toBeGreaterThan(3);
    expect(ticks.filter((tick) => tick > idleFrom && tick < idleUntil)).toEqual([]);
    // Thawed, the child ticks again.
    const later = (await attempt('ticker', { action: 'ticks', waitMs: 200 })).value as number[];
    expect(later.length).toBeGreaterThan(ticks.length);
  });

  it('ends the processes a handler left running when its runner goes', async () => {
    create('orphan-maker', { MemorySize: 1769 });
    const tickers = (): number[] =>
      readdirSync('/proc')
        .filter((entry) => /^\d+$/.test(entry))
        .filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes("appendFileSync('/tmp/ticks'");
          } catch {
            return false;
          }
        })
        .map(Number);
    const others = tickers();
    await probe('orphan-maker', { action: 'spawn-ticker' });
    const before = tickers().filter((pid) => !others.includes(pid));
    expect(before.length).toBe(1);
    // A deleted function's contexts and runner end; the child goes with the runner's PID namespace.
    harness.daemon.service.deleteFunction('orphan-maker');
    await expect.poll(() => tickers().filter((pid) => before.includes(pid)), { timeout: 5_000 }).toEqual([]);
  });
});
