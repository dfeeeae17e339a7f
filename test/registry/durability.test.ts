/**
 * What the registry committed is there after a restart: a clean close, and a process killed with SIGKILL
 * right after its last change.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Registry } from '../../dist/daemon/registry/index.js';
import { runUntilFirstLineThenKill } from '../helpers/killed-child.js';
import { ACCOUNT, openRegistry, REGION, ROLE, temporaryDirectory } from './helpers.js';

const REGISTRY_MODULE = fileURLToPath(new URL('../../dist/daemon/registry/index.js', import.meta.url));

/**
 * Two functions, four versions (one deleted), three aliases (one weighted, one deleted, one updated). Runs
 * here and, as source text, in the child process that is killed: it only uses its arguments.
 */
function populate(registry: Registry, codeDirectory: string, role: string): void {
  const base = { Runtime: 'nodejs20.x', Role: role, Handler: 'index.handler', Code: { Directory: codeDirectory } };
  registry.createFunction({ ...base, FunctionName: 'alpha', Environment: { Variables: { STAGE: 'one' } } });
  registry.publishVersion('alpha');
  registry.updateFunctionConfiguration('alpha', { Environment: { Variables: { STAGE: 'two' } }, MemorySize: 256 });
  registry.publishVersion('alpha', { Description: 'second' });
  registry.updateFunctionConfiguration('alpha', { Timeout: 30 });
  registry.publishVersion('alpha');
  registry.deleteFunction('alpha', '3');
  registry.createAlias('alpha', { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } } });
  registry.createAlias('alpha', { Name: 'edge', FunctionVersion: '2', Description: 'newest' });
  registry.createAlias('alpha', { Name: 'gone', FunctionVersion: '$LATEST' });
  registry.deleteAlias('alpha', 'gone');
  registry.updateAlias('alpha', 'edge', { Description: 'still newest' });
  registry.createFunction({ ...base, FunctionName: 'beta', Timeout: 9, Publish: true });
}

function snapshot(registry: Registry) {
  return {
    functions: registry.listFunctions({ FunctionVersion: 'ALL' }).Functions,
    versions: ['alpha', 'beta'].map((name) => registry.listVersionsByFunction(name).Versions),
    aliases: ['alpha', 'beta'].map((name) => registry.listAliases(name).Aliases),
    usage: registry.accountUsage(),
  };
}

function codeTree(): string {
  const root = join(temporaryDirectory('lambdad-durable-code-'), 'fn');
  mkdirSync(join(root, 'lib'), { recursive: true });
  writeFileSync(join(root, 'index.js'), 'exports.handler = async () => require("./lib/answer.js");\n');
  writeFileSync(join(root, 'lib', 'answer.js'), 'module.exports = 42;\n');
  return root;
}

function expectRunnable(registry: Registry): void {
  const target = registry.resolveForInvoke('alpha', 'live');
  expect(target.executedVersion).toBe('1');
  expect(target.alias?.RoutingConfig).toEqual({ AdditionalVersionWeights: { '2': 0.25 } });
  expect(readFileSync(join(target.codeDirectory, 'lib', 'answer.js'), 'utf8')).toBe('module.exports = 42;\n');
}

describe('durability', () => {
  it('brings back every function, version and alias after a close', () => {
    const test = openRegistry();
    populate(test.registry, codeTree(), ROLE);
    const before = snapshot(test.registry);
    expect(before.functions.map((f) => f.FunctionArn.split(':function:')[1])).toEqual(['alpha:$LATEST', 'alpha:1', 'alpha:2', 'beta:$LATEST', 'beta:1']);
    expect(before.aliases[0]!.map((a) => a.Name)).toEqual(['edge', 'live']);

    const reopened = test.reopen();
    expect(snapshot(reopened.registry)).toEqual(before);
    expectRunnable(reopened.registry);
    // Version numbers go on where they stopped, deleted ones included.
    reopened.registry.updateFunctionConfiguration('alpha', { Timeout: 31 });
    expect(reopened.registry.publishVersion('alpha').Version).toBe('4');
  });

  it('brings back everything committed before the process was killed with SIGKILL', async () => {
    const dataDir = temporaryDirectory('lambdad-killed-');
    const script = `
      const { Registry } = await import(${JSON.stringify(REGISTRY_MODULE)});
      const registry = Registry.open({ dataDir: process.env.DATA_DIR, region: ${JSON.stringify(REGION)}, accountId: ${JSON.stringify(ACCOUNT)} });
      (${populate.toString()})(registry, process.env.CODE_DIRECTORY, process.env.ROLE);
      process.stdout.write(JSON.stringify((${snapshot.toString()})(registry)) + '\\n');
      setInterval(() => {}, 1000);
    `;
    const { line, signal } = await runUntilFirstLineThenKill(script, { DATA_DIR: dataDir, CODE_DIRECTORY: codeTree(), ROLE });
    expect(signal).toBe('SIGKILL');

    const printed = JSON.parse(line);
    expect(printed.functions).toHaveLength(5);
    const { registry } = openRegistry({ dataDir });
    expect(snapshot(registry)).toEqual(printed);
    expectRunnable(registry);
  });
});
