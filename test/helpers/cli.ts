/** `lambdad <args>` as a user runs it: the real CLI in a child process, asynchronous (the daemon may run in this process). */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../dist/daemon/main.js', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI against `endpoint`, in `cwd`, with only PATH in its environment. */
export function runCli(args: readonly string[], endpoint: string, cwd?: string): Promise<CliRun> {
  const child = spawn(process.execPath, [MAIN, ...args, '--endpoint-url', endpoint], { ...(cwd === undefined ? {} : { cwd }), env: { PATH: process.env.PATH ?? '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}
