/**
 * The registry outlives the daemon: after a clean restart and after kill -9, every function, version and
 * alias is back with the same CodeSha256 and RevisionId, and still runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { event, FIXTURES, json, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { runUntilFirstLineThenKill } from '../helpers/killed-child.js';

const DIST = fileURLToPath(new URL('../../dist/daemon/', import.meta.url));
let harness: TestDaemon | null = null;

afterEach(async () => {
  await harness?.stop();
  harness = null;
});

/**
 * Creates two functions, two versions and two aliases (one weighted). Runs here and, as source text, in the
 * child process that is killed: it only uses its arguments.
 */
function populate(service: TestDaemon['daemon']['service'], fixtures: string, role: string): void {
  const base = { Runtime: 'nodejs20.x', Role: role, Code: { Directory: `${fixtures}/behaviours` } };
  service.createFunction({ ...base, FunctionName: 'alpha', Handler: 'counter.handler', Environment: { Variables: { STAGE: 'one' } } });
  service.publishVersion('alpha');
  service.updateFunctionConfiguration('alpha', { Environment: { Variables: { STAGE: 'two' } }, MemorySize: 256 });
  service.publishVersion('alpha', { Description: 'second' });
  service.createAlias('alpha', { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } } });
  service.createAlias('alpha', { Name: 'edge', FunctionVersion: '2', Description: 'newest' });
  service.createFunction({ ...base, FunctionName: 'beta', Handler: 'env.handler', Timeout: 9, Publish: true });
}

function snapshot(service: TestDaemon['daemon']['service']) {
  return {
    functions: service.listFunctions({ FunctionVersion: 'ALL' }).Functions.map((fn) => ({ ...fn })),
    versions: ['alpha', 'beta'].map((name) => service.listVersionsByFunction(name).Versions),
    aliases: service.listAliases('alpha').Aliases,
  };
}

describe('durability', () => {
  it('brings everything back after a clean restart', async () => {
    harness = await startDaemon();
    const service = harness.daemon.service;
    populate(service, FIXTURES, ROLE);
    const before = snapshot(service);
    expect(before.functions.length).toBe(5); // alpha $LATEST, 1, 2; beta $LATEST, 1
    harness = await harness.restart();
    expect(snapshot(harness.daemon.service)).toEqual(before);
    expect(json((await harness.daemon.service.invoke({ functionName: 'alpha', qualifier: 'edge', payload: event({}) })).payload)).toEqual({ count: 1 });
  });

  it('brings everything back after kill -9', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lambdad-kill-'));
    const script = `
      const { loadConfig } = await import(${JSON.stringify(`${DIST}config.js`)});
      const { Daemon } = await import(${JSON.stringify(`${DIST}daemon.js`)});
      const daemon = await Daemon.start(loadConfig({ port: '0', 'data-dir': process.env.DATA_DIR, 'spare-workers': '0' }));
      (${populate.toString()})(daemon.service, process.env.FIXTURES, process.env.ROLE);
      process.stdout.write(JSON.stringify((${snapshot.toString()})(daemon.service)) + '\\n');
      setInterval(() => {}, 1000);
    `;
    const { line, signal } = await runUntilFirstLineThenKill(script, { DATA_DIR: dataDir, FIXTURES, ROLE });
    expect(signal).toBe('SIGKILL');

    harness = await startDaemon({}, dataDir);
    expect(snapshot(harness.daemon.service)).toEqual(JSON.parse(line));
    const beta = await harness.daemon.service.invoke({ functionName: 'beta', qualifier: '1', payload: event({}) });
    expect(json(beta.payload).env.AWS_LAMBDA_FUNCTION_VERSION).toBe('1');
  });
});
