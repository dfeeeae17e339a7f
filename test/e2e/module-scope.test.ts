/**
 * A function's code is its own package scope, as /var/task is on Lambda: a data directory inside an ESM
 * project (package.json "type": "module" — lambdad's own checkout is one) must not turn CommonJS handlers
 * into ES modules.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { event, FIXTURES, json, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';

let project: string;
let harness: TestDaemon;

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'lambdad-esm-project-'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'an-esm-project', type: 'module' }));
  mkdirSync(join(project, '.lambdad'));
  harness = await startDaemon({}, join(project, '.lambdad'));
});

afterAll(async () => {
  await harness.stop();
  rmSync(project, { recursive: true, force: true });
});

it('runs a CommonJS handler whose data directory sits inside an ESM project', async () => {
  harness.daemon.service.createFunction({ FunctionName: 'cjs', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'counter.handler', Code: { Directory: `${FIXTURES}/behaviours` } });
  const result = await harness.daemon.service.invoke({ functionName: 'cjs', payload: event({}) });
  expect(result.functionError).toBeUndefined();
  expect(json(result.payload)).toEqual({ count: 1 });
});
