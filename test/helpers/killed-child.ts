/**
 * Runs an ES module script in a child process until it prints its first line, then kills it with SIGKILL:
 * what a crash does to a daemon. Returns that line and the signal the child died of.
 */
import { spawn } from 'node:child_process';

export async function runUntilFirstLineThenKill(script: string, env: Record<string, string>): Promise<{ line: string; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH ?? '', ...env } });
  let output = '';
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('\n')) resolve(output.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`child exited ${code}: ${errors}`)));
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  child.kill('SIGKILL');
  return { line, signal: await exited };
}
