#!/usr/bin/env node
/** The `lambdad` command. */
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import { ConfigError, DEFAULTS, OPTIONS, loadConfig, type Config } from './config.js';
import { Daemon } from './daemon.js';
import { consoleDaemonLog } from './observability/daemon-log.js';
import { daemonCredentials } from './transport/credentials.js';

function usage(): string {
  const lines = [
    'usage: lambdad start [options]',
    '       lambdad credentials [--env] [options]   print the daemon credentials (--env: as export lines)',
    '',
    'options (each also read from its environment variable):',
  ];
  for (const option of OPTIONS) {
    lines.push(`  --${option.flag.padEnd(26)} ${option.help} (${option.env}, default ${DEFAULTS[option.key]})`);
  }
  return `${lines.join('\n')}\n`;
}

function configFrom(args: string[], extra: Record<string, { type: 'boolean' }> = {}): { config: Config; values: Record<string, unknown> } {
  const { values } = parseArgs({
    args,
    options: { ...Object.fromEntries(OPTIONS.map((option) => [option.flag, { type: 'string' as const }])), ...extra },
    strict: true,
    allowPositionals: false,
  });
  const flags = Object.fromEntries(Object.entries(values).filter(([name]) => !(name in extra))) as Record<string, string | undefined>;
  return { config: loadConfig(flags, process.env), values };
}

/** The credentials of the daemon of this data directory, for clients on other machines or in other tools. */
function credentials(args: string[]): void {
  const { config, values } = configFrom(args, { env: { type: 'boolean' } });
  // The same credentials the daemon of this data directory uses: made now if it never ran.
  mkdirSync(config.dataDir, { recursive: true });
  const { accessKeyId, secretAccessKey } = daemonCredentials(config);
  if (values.env === true) {
    const scheme = config.tlsCert === '' ? 'http' : 'https';
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const lines = [
      `export AWS_ACCESS_KEY_ID=${accessKeyId}`,
      `export AWS_SECRET_ACCESS_KEY=${secretAccessKey}`,
      `export AWS_DEFAULT_REGION=${config.region}`,
      `export AWS_ENDPOINT_URL=${scheme}://${host}:${config.port}`,
      `export LAMBDAD_ACCESS_KEY_ID=${accessKeyId}`,
      `export LAMBDAD_SECRET_ACCESS_KEY=${secretAccessKey}`,
      `export LAMBDAD_ENDPOINT_URL=${scheme}://${host}:${config.port}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return;
  }
  process.stdout.write(`${JSON.stringify({ AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey, Region: config.region }, null, 4)}\n`);
}

async function start(args: string[]): Promise<void> {
  const { config } = configFrom(args);
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
  if (command === 'credentials') return credentials(rest);
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
