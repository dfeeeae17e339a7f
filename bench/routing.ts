/**
 * `npm run bench -- routing`: what choosing a version for a weighted alias costs per invocation, in both modes
 * (`smooth`, `random`), against the floor of one `Math.random() < w` draw in the same run. A real registry resolves
 * the alias (its targets are cached, as on the invoke path). 5 rounds of 1,000,000 routings, medians.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../daemon/registry/index.js';
import { AliasRouting } from '../daemon/routing/index.js';
import { fileURLToPath } from 'node:url';
import { writeReport } from './report.js';

const ROUNDS = 5;
const ROUTINGS = 1_000_000;
const WEIGHT = 0.1;

const dataDir = mkdtempSync(join(tmpdir(), 'lambdad-bench-routing-'));
const registry = Registry.open({ dataDir, region: 'us-east-1', accountId: '000000000000' });
registry.createFunction({ FunctionName: 'fn', Runtime: 'nodejs20.x', Role: 'arn:aws:iam::000000000000:role/bench', Handler: 'index.handler', Code: { Directory: fileURLToPath(new URL('../../bench/noop', import.meta.url)) }, Publish: true });
registry.updateFunctionConfiguration('fn', { Description: 'v2' });
registry.publishVersion('fn');
registry.createAlias('fn', { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': WEIGHT } } });
const resolve = (name: string, qualifier: string) => registry.resolveForInvoke(name, qualifier);

function nsPer(work: () => unknown): number {
  const started = performance.now();
  for (let i = 0; i < ROUTINGS; i++) work();
  return ((performance.now() - started) * 1e6) / ROUTINGS;
}

const rounds: Record<string, number[]> = {};
const record = (key: string, value: number): void => void (rounds[key] ??= []).push(Math.round(value * 10) / 10);
for (let round = 0; round < ROUNDS; round++) {
  const smooth = new AliasRouting(resolve, 'smooth');
  const random = new AliasRouting(resolve, 'random');
  let picks = 0;
  const floorNs = nsPer(() => (Math.random() < WEIGHT ? (picks += 1) : picks));
  const smoothNs = nsPer(() => smooth.route(resolve('fn', 'live')));
  const randomNs = nsPer(() => random.route(resolve('fn', 'live')));
  record('floorNs', floorNs);
  record('smoothNs', smoothNs);
  record('randomNs', randomNs);
  process.stdout.write(`round ${round + 1}/${ROUNDS}: draw ${floorNs.toFixed(1)} ns, resolve + route smooth ${smoothNs.toFixed(1)} ns, random ${randomNs.toFixed(1)} ns\n`);
}
registry.close();
rmSync(dataDir, { recursive: true, force: true });
writeReport('routing', { ROUNDS, ROUTINGS, WEIGHT }, rounds);
