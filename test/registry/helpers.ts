/** A registry in its own temporary data directory, with a fake clock and counting ids, and zips built in memory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterEach } from 'vitest';
import { LambdaError } from '../../dist/daemon/errors.js';
import { Registry } from '../../dist/daemon/registry/index.js';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';
export const ROLE = `arn:aws:iam::${ACCOUNT}:role/lambda-role`;
export const ARN_PREFIX = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:`;
/** 2018-12-06T07:03:10.353Z */
export const START_MS = 1_544_079_790_353;

export interface TestRegistry {
  readonly registry: Registry;
  readonly dataDir: string;
  readonly clock: { now(): number; advance(ms: number): void };
  /** Closes this registry and opens another on the same data directory. */
  reopen(): TestRegistry;
}

const directories: string[] = [];
const open: Registry[] = [];

afterEach(() => {
  for (const registry of open.splice(0)) {
    try {
      registry.close();
    } catch {
      // Already closed by the test.
    }
  }
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test. */
export function temporaryDirectory(prefix = 'lambdad-registry-'): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  directories.push(directory);
  return directory;
}

export function openRegistry(options: { dataDir?: string; codeStorageMaxBytes?: number } = {}): TestRegistry {
  const dataDir = options.dataDir ?? temporaryDirectory();
  let time = START_MS;
  let counter = 0;
  const clock = { now: () => time, advance: (ms: number) => void (time += ms) };
  const ids = {
    uuid: () => `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`,
    hex: (bytes: number) => String(++counter).padStart(bytes * 2, '0'),
  };
  const registry = Registry.open({
    dataDir,
    region: REGION,
    accountId: ACCOUNT,
    clock,
    ids,
    ...(options.codeStorageMaxBytes === undefined ? {} : { codeStorageMaxBytes: options.codeStorageMaxBytes }),
  });
  open.push(registry);
  return {
    registry,
    dataDir,
    clock,
    reopen: () => {
      registry.close();
      return openRegistry({ ...options, dataDir });
    },
  };
}

const encoder = new TextEncoder();

/** A zip of `files` (path → text), deflated; the same files give the same bytes. */
export function zipOf(files: Record<string, string> = { 'index.js': 'exports.handler = async () => "hi";\n' }): Uint8Array {
  const entries = Object.fromEntries(Object.entries(files).map(([path, text]) => [path, encoder.encode(text)]));
  return zipSync(entries, { mtime: new Date(2020, 0, 1) });
}

/** The smallest valid CreateFunction input, with overrides. */
export function functionInput(name: string, overrides: Record<string, unknown> = {}): any {
  return { FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zipOf() }, ...overrides };
}

/** The LambdaError `work` throws; fails the test if it throws nothing or something else. */
export function failure(work: () => unknown): LambdaError {
  try {
    work();
  } catch (error) {
    if (error instanceof LambdaError) return error;
    throw error;
  }
  throw new Error('expected a LambdaError, but nothing was thrown');
}
