/**
 * `npm run bench -- payload`: warm invoke latency against payload size (1 KB, 64 KB, 1 MB, 6 MB), an echo function
 * through LambdaService in-process — the event in, parsed, handed to the handler, stringified and back — against
 * the floor of a Piscina round trip moving the same bytes to a worker and back, in the same run, alternating.
 * 5 rounds; medians of the rounds' p50s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { loadConfig } from '../daemon/config.js';
import { Daemon } from '../daemon/daemon.js';
import { LIMITS } from '../daemon/limits.js';
import { latency } from './load.js';
import { writeReport } from './report.js';
import { summarize } from './stats.js';

const ROUNDS = 5;
const SIZES: Readonly<Record<string, number>> = { '1KB': 1024, '64KB': 64 * 1024, '1MB': 1024 * 1024, '6MB': LIMITS.syncPayloadMaxBytes - 64 };
/** Fewer calls for the larger payloads: the run stays within a minute. */
const CALLS: Readonly<Record<string, number>> = { '1KB': 1_000, '64KB': 500, '1MB': 100, '6MB': 30 };
const ROLE = 'arn:aws:iam::000000000000:role/bench';
const ECHO = fileURLToPath(new URL('../../bench/echo', import.meta.url));
const encoder = new TextEncoder();

/** A JSON string event of exactly `bytes` bytes. */
const eventOf = (bytes: number): string => JSON.stringify('x'.repeat(bytes - 2));

const dataDir = mkdtempSync(join(tmpdir(), 'lambdad-bench-payload-'));
const daemon = await Daemon.start(loadConfig({ port: '0', 'data-dir': dataDir, auth: 'none', 'xray-address': 'off', isolation: 'thread' }));
daemon.service.createFunction({ FunctionName: 'echo', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: ECHO }, MemorySize: 1024 });
const pool = new Piscina({ filename: new URL('./noop-worker.js', import.meta.url).href, minThreads: 1, maxThreads: 1, atomics: 'sync', env: {} });

const rounds: Record<string, number[]> = {};
const record = (key: string, value: number): void => void (rounds[key] ??= []).push(Math.round(value * 10) / 10);
try {
  for (let round = 0; round < ROUNDS; round++) {
    const line: string[] = [];
    for (const [name, bytes] of Object.entries(SIZES)) {
      const text = eventOf(bytes);
      const floorCall = (): Promise<unknown> => {
        const payload = encoder.encode(text);
        return pool.run(payload, { transferList: [payload.buffer] });
      };
      const invokeCall = async (): Promise<void> => {
        const result = await daemon.service.invoke({ functionName: 'echo', payload: encoder.encode(text) });
        if (result.functionError !== undefined) throw new Error(new TextDecoder().decode(result.payload));
      };
      const calls = CALLS[name]!;
      const floor = summarize(await latency(floorCall, 5, calls)).p50 * 1000;
      const invoke = summarize(await latency(invokeCall, 5, calls)).p50 * 1000;
      record(`floor${name}P50us`, floor);
      record(`invoke${name}P50us`, invoke);
      record(`invoke${name}Ratio`, invoke / floor);
      line.push(`${name} ${invoke.toFixed(0)} µs (floor ${floor.toFixed(0)})`);
    }
    process.stdout.write(`round ${round + 1}/${ROUNDS}: ${line.join(', ')}\n`);
  }
} finally {
  await pool.destroy();
  await daemon.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
writeReport('payload', { ROUNDS, SIZES, CALLS }, rounds);
