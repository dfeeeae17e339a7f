/**
 * `npm run bench [-- <name>… --option=value…]`: runs the benchmarks (all, or the named ones) one after another,
 * each in its own process with the `--option=value`s given, then sums them up (bench/summary.ts).
 * `npm run bench:scale` runs the 1,000-in-flight one apart: it needs ~9 GB of memory. `hostile` runs only when
 * named: it attacks a daemon until it holds gigabytes, today.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHMARKS: Readonly<Record<string, string>> = {
  invoke: 'in-process.js',
  protocol: 'protocol.js',
  http: 'http.js',
  sweep: 'sweep.js',
  concurrency: 'concurrency.js',
  async: 'async.js',
  metrics: 'metrics.js',
  telemetry: 'telemetry.js',
  network: 'network.js',
  memory: 'memory.js',
  routing: 'routing.js',
  payload: 'payload.js',
  isolation: 'isolation.js',
  scale: 'scale.js',
  'context-cost': 'context-cost.js',
  hostile: 'hostile.js',
};
/** Run when named only: scale needs ~9 GB; context-cost measures a constant of the code, not a goal; hostile takes ~5 minutes of attacks. */
const RUN_WHEN_NAMED = new Set(['scale', 'context-cost', 'hostile']);
const DEFAULT = Object.keys(BENCHMARKS).filter((name) => !RUN_WHEN_NAMED.has(name));

const flags = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const asked = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const unknown = asked.filter((name) => BENCHMARKS[name] === undefined);
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}: choose from ${Object.keys(BENCHMARKS).join(', ')}\n`);
  process.exit(2);
}
const run = (file: string, args: string[] = []): number => spawnSync(process.execPath, [fileURLToPath(new URL(`./${file}`, import.meta.url)), ...args], { stdio: 'inherit' }).status ?? 1;
let failed = 0;
for (const name of asked.length > 0 ? asked : DEFAULT) {
  const started = Date.now();
  process.stdout.write(`\n== ${name} ==\n`);
  if (run(BENCHMARKS[name]!, flags) !== 0) failed += 1;
  process.stdout.write(`== ${name}: ${((Date.now() - started) / 1000).toFixed(0)} s ==\n`);
}
process.exit(run('summary.js') !== 0 || failed > 0 ? 1 : 0);
