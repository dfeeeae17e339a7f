/** The README's TypeScript example runs as written (it is plain JavaScript as well) and prints what it says. */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { startDaemon } from './helpers/daemon.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

it('runs the in-process example of the README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toBeDefined();
  const dataDir = mkdtempSync(join(tmpdir(), 'lambdad-readme-'));
  // Inside the package, so that `lambdad/...` resolves to this checkout; the data goes to a temporary directory.
  const script = join(ROOT, `.readme-example-${process.pid}.mjs`);
  writeFileSync(script, example!.replace("'data-dir': './.lambdad'", `'data-dir': ${JSON.stringify(dataDir)}`));
  try {
    const output = execFileSync(process.execPath, [script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    const [result, ...log] = output.trim().split('\n');
    expect(JSON.parse(result!)).toEqual({ message: 'Hello, Ada!', requestId: expect.any(String) });
    expect(log[0]).toMatch(/^START RequestId: \S+ Version: 1$/);
    expect(log[1]).toMatch(/\tINFO\tgreeting Ada$/);
    expect(log.at(-1)).toMatch(/^REPORT RequestId: /);
  } finally {
    rmSync(script, { force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
});

it('runs the SDK example of the README against a daemon, finding its credentials on its own', async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toBeDefined();
  const harness = await startDaemon({ auth: 'sigv4' });
  const script = join(ROOT, `.readme-example-sdk-${process.pid}.mjs`);
  writeFileSync(script, example!.replace("'http://127.0.0.1:9001'", JSON.stringify(harness.daemon.url)));
  try {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH ?? '', LAMBDAD_DATA_DIR: harness.dataDir } }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      );
    });
    expect(output).toMatch(/^200 \{"message":"Hello, Grace!","requestId":"[0-9a-f-]{36}"\}$/m);
    expect(output).toMatch(/^log: START RequestId: /m);
    expect(output).toMatch(/^log: REPORT RequestId: /m);
  } finally {
    rmSync(script, { force: true });
    await harness.stop();
  }
});
