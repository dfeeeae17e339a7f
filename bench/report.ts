/** Writes a benchmark's rounds and their medians to bench/results/<name>-<time>.json and prints the medians. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';

export function writeReport(name: string, parameters: Record<string, unknown>, rounds: Record<string, number[]>): void {
  const report = {
    when: new Date().toISOString(),
    node: process.version,
    parameters,
    medians: Object.fromEntries(Object.entries(rounds).map(([key, values]) => [key, median(values)])),
    rounds,
  };
  const directory = fileURLToPath(new URL('../../bench/results', import.meta.url));
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${name}-${report.when.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${JSON.stringify(report.medians, null, 2)}\nwritten to ${file}\n`);
}
