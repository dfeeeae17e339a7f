/** The README's CLI example runs as written, in a shell, against a real daemon. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { startDaemon } from '../helpers/daemon.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

it('runs the CLI example of the README', async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const script = /## The CLI[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(script).toBeDefined();
  const daemon = await startDaemon();
  // `examples/` as in the checkout; `npx lambdad` is this checkout's bin.
  const cwd = mkdtempSync(join(tmpdir(), 'lambdad-cli-readme-'));
  symlinkSync(join(ROOT, 'examples'), join(cwd, 'examples'));
  try {
    const run = script!.replaceAll('npx lambdad', `"${process.execPath}" "${join(ROOT, 'dist/daemon/main.js')}"`);
    const { stdout } = await promisify(execFile)('sh', ['-ec', run], {
      cwd,
      env: { PATH: process.env.PATH ?? '', LAMBDAD_ENDPOINT_URL: daemon.daemon.url },
    });
    expect(stdout).toContain('"RoutingConfig": {\n        "AdditionalVersionWeights": {\n            "2": 0.02\n        }\n    }');
    expect(stdout).toContain('{"message":"Hello, Ada!","requestId":');
    expect(stdout).toMatch(/^\S+\t\S+\tINFO\tgreeting Ada\n/m);
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/^REPORT RequestId: /);
  } finally {
    await daemon.stop();
    rmSync(cwd, { recursive: true, force: true });
  }
});
