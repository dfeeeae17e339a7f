/** Writes a benchmark's rounds and their medians to bench/results/<name>-<time>.json and prints the medians. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';

export function writeReport(name: string, parameters: Record<string, unknown>, rounds: Record<string, number[]>): void {
  const report = {
    when: new Date().toISOString(),
    node: process.version,
    // The machine is shared and noisy: what it was, and how busy, when the figures were taken.
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), loadAverage: loadavg().map((load) => Math.round(load * 100) / 100) },
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
