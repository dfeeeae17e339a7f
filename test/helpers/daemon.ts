/** Starts a real daemon (every part, real worker threads, real SQLite) in a temporary data directory. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../dist/daemon/config.js';
import { Daemon, type DaemonOptions } from '../../dist/daemon/daemon.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/functions', import.meta.url));
export const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
/** Both isolation modes, for the execution tests that must hold in each. */
export const ISOLATIONS = ['process', 'thread'] as const;
export type Isolation = (typeof ISOLATIONS)[number];

export interface TestDaemon {
  readonly daemon: Daemon;
  readonly dataDir: string;
  /** The credentials a `sigv4` daemon generated and keeps in its data directory. */
  credentials(): { accessKeyId: string; secretAccessKey: string };
  /** Stops this daemon and starts another on the same data directory. */
  restart(): Promise<TestDaemon>;
  stop(): Promise<void>;
}

/**
 * Tests of behaviour behind the door start the daemon with `auth: 'none'` unless they ask for `sigv4`;
 * the authentication tests and the SDK suite go through SigV4.
 */
export async function startDaemon(flags: Record<string, string> = {}, dataDir = mkdtempSync(join(tmpdir(), 'lambdad-test-')), options: DaemonOptions = {}): Promise<TestDaemon> {
  // Each test daemon has its own X-Ray collector, on a free port, so that test files do not see each other's traces.
  // Tests name code by directory under the repository and under the temporary directory.
  const codeRoots = [process.cwd(), tmpdir()].join(delimiter);
  const config = loadConfig({ port: '0', 'data-dir': dataDir, 'spare-workers': '1', auth: 'none', 'xray-address': '127.0.0.1:0', 'code-roots': codeRoots, ...flags });
  const daemon = await Daemon.start(config, options);
  const handle: TestDaemon = {
    daemon,
    dataDir,
    credentials: () => JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')),
    restart: async () => {
      await daemon.stop();
      return startDaemon(flags, dataDir, options);
    },
    stop: async () => {
      await daemon.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Event bytes for an invocation: a fresh buffer each time, since invoke hands it over. */
export function event(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function json(bytes: Uint8Array): any {
  return JSON.parse(decoder.decode(bytes));
}
