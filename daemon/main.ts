#!/usr/bin/env node
/** The `lambdad` command. */
import { parseArgs } from 'node:util';
import { ConfigError, DEFAULTS, OPTIONS, loadConfig } from './config.js';
import { Daemon } from './daemon.js';
import { consoleDaemonLog } from './observability/daemon-log.js';

function usage(): string {
  const lines = ['usage: lambdad start [options]', '', 'options (each also read from its environment variable):'];
  for (const option of OPTIONS) {
    lines.push(`  --${option.flag.padEnd(26)} ${option.help} (${option.env}, default ${DEFAULTS[option.key]})`);
  }
  return `${lines.join('\n')}\n`;
}

async function start(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: Object.fromEntries(OPTIONS.map((option) => [option.flag, { type: 'string' as const }])),
    strict: true,
    allowPositionals: false,
  });
  const config = loadConfig(values as Record<string, string | undefined>, process.env);
  const log = consoleDaemonLog();
  const daemon = await Daemon.start(config, { log });
  process.stdout.write(`lambdad listening on ${daemon.url} (data in ${config.dataDir})\n`);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      log('forced-exit', { signal });
      process.exit(130);
    }
    log('signal', { signal });
    void daemon.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const { overview } = await import('../clients/cli/index.js');
    process.stdout.write(`${usage()}\n${overview()}`);
    return;
  }
  if (command === 'start') return start(rest);
  // Every other command is an operation of the CLI (clients/cli), loaded only when one is run.
  const { runCli } = await import('../clients/cli/index.js');
  process.exitCode = await runCli(argv);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const known = error instanceof ConfigError || String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`lambdad: ${(error as Error).message}\n`);
  if (!known && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(known ? 2 : 1);
});
