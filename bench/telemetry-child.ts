/**
 * One side of bench/telemetry.ts, in a process (and heap) of its own: starts a daemon with the flags it is
 * given, creates an Active-traced no-op function, then runs throughput blocks on request and reports each
 * block's invocations per second and CPU per invocation. With `sampled`, every call carries `Sampled=1` (the worst case).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../daemon/config.js';
import { Daemon } from '../daemon/daemon.js';
import { performance } from 'node:perf_hooks';
import { throughput } from './load.js';

export interface BlockRequest {
  readonly calls: number;
  readonly lanes: number;
}

/** One block's figures: invocations per second, and CPU per invocation of the whole process and of its main thread. */
export interface BlockResult {
  readonly rps: number;
  readonly cpuUs: number;
  readonly mainThreadUs: number;
}

const ROLE = 'arn:aws:iam::000000000000:role/bench';
const NOOP_CODE = fileURLToPath(new URL('../../bench/noop', import.meta.url));
const EVENT = JSON.stringify({ key: 'value', n: 1 });
const encoder = new TextEncoder();

const flags = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
const sampled = process.argv[3] === 'sampled';
const dataDir = mkdtempSync(join(tmpdir(), 'lambdad-bench-'));
const daemon = await Daemon.start(loadConfig({ port: '0', 'data-dir': dataDir, auth: 'none', isolation: 'thread', ...flags }));
daemon.service.createFunction({ FunctionName: 'noop', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: NOOP_CODE }, TracingConfig: { Mode: 'Active' } });

let roots = 0;
const call = (): Promise<unknown> =>
  daemon.service.invoke({
    functionName: 'noop',
    payload: encoder.encode(EVENT),
    ...(sampled ? { traceHeader: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${(roots++).toString(16).padStart(24, '0')};Sampled=1` } : {}),
  });

process.on('message', (request: BlockRequest | 'stop') => {
  if (request === 'stop') {
    void daemon.stop().then(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
    return;
  }
  void (async () => {
    // throughput() first runs 10 untimed calls per lane; CPU is counted over the whole block, per call made.
    const calls = request.calls + request.lanes * 10;
    const cpu = process.cpuUsage();
    const loop = performance.eventLoopUtilization();
    const rps = await throughput(call, request.lanes, request.calls);
    const used = process.cpuUsage(cpu);
    const active = performance.eventLoopUtilization(loop).active;
    const result: BlockResult = { rps, cpuUs: (used.user + used.system) / calls, mainThreadUs: (active * 1000) / calls };
    process.send!(result);
  })();
});
process.send!('ready');
