/**
 * README "Use it with the AWS CLI / SDKs": the shell recipe and the boto3 example run as written against a
 * real daemon, `npx lambdad` being this checkout's CLI and `aws` Debian's AWS CLI v2.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'dist/daemon/main.js');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const SECTION = README.slice(README.indexOf('## Use it with the AWS CLI / SDKs'));
// As in aws-cli.test.ts: CI requires the AWS CLI; a machine without it skips.
const available = existsSync('/usr/bin/aws') || process.env['LAMBDAD_REQUIRE_AWS_CLI'] === '1';

describe.skipIf(!available)('README: the AWS CLI and boto3 against lambdad', () => {
  let harness: TestDaemon;
  let work: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    harness = await startDaemon({ auth: 'sigv4' });
    work = mkdtempSync(join(tmpdir(), 'lambdad-readme-aws-'));
    symlinkSync(join(ROOT, 'examples'), join(work, 'examples'));
    // `aws` is the AWS CLI v2 from Debian, whatever else the PATH holds.
    mkdirSync(join(work, 'bin'));
    symlinkSync('/usr/bin/aws', join(work, 'bin', 'aws'));
    env = {
      PATH: `${join(work, 'bin')}:${process.env['PATH']}`,
      HOME: work,
      AWS_CONFIG_FILE: join(work, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(work, 'none'),
      AWS_PAGER: '',
      LAMBDAD_DATA_DIR: harness.dataDir,
      LAMBDAD_PORT: new URL(harness.daemon.url).port,
    };
  });
  afterAll(async () => {
    await harness.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs the shell recipe: create, publish, alias, reserve, invoke', async () => {
    const recipe = /```sh\n([\s\S]*?)```/.exec(SECTION)![1]!.replaceAll('npx lambdad', `node ${MAIN}`);
    const { stdout } = await run('/bin/bash', ['-euo', 'pipefail', '-c', recipe], { cwd: work, env, timeout: 60_000 });
    expect(stdout).toContain('"Version": "1"');
    expect(stdout).toContain('"ReservedConcurrentExecutions": 100');
    expect(stdout).toContain('"ExecutedVersion": "1"');
    expect(JSON.parse(readFileSync(join(work, 'response.json'), 'utf8'))).toEqual({ message: 'Hello, Ada!', requestId: expect.any(String) });

    const example = /```python\n([\s\S]*?)```/.exec(SECTION)![1]!;
    const python = await run('/bin/bash', ['-c', `eval "$(node ${MAIN} credentials --env)" && python3 -c "$EXAMPLE"`], { cwd: work, env: { ...env, EXAMPLE: example }, timeout: 30_000 });
    expect(python.stdout.trim()).toBe('200 1 Hello, Grace!');
  });
});
