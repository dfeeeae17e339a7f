/** The README's TypeScript example runs as written (it is plain JavaScript as well) and prints what it says. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

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
