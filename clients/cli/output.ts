/**
 * What the CLI prints: results as the AWS CLI's JSON, errors in its words with its exit codes, and help.
 */
import { LambdadError } from '../node/index.js';
import { UsageError, type Flag, type Flags } from './args.js';
import { GLOBAL_FLAGS, OPERATIONS, type OperationSpec } from './operations.js';
import { Interrupted } from './tail.js';

/** The AWS CLI's exit codes. */
export const EXIT = Object.freeze({ ok: 0, interrupted: 130, usage: 252, service: 254, other: 255 });

/** A result as JSON indented by 4, as the AWS CLI prints it; an empty result prints nothing. */
export function printResult(result: unknown): void {
  if (result === undefined || (typeof result === 'object' && result !== null && Object.keys(result).length === 0)) return;
  process.stdout.write(`${JSON.stringify(result, null, 4)}\n`);
}

const USAGE_HINT = ['usage: lambdad <operation> [parameters]', 'To see help text, you can run:', '', '  lambdad --help', '  lambdad <operation> --help', ''];

/** Prints `error` to stderr the way the AWS CLI words it, and returns the exit code. */
export function reportError(error: unknown, operation: string | undefined, endpoint: string): number {
  const write = (lines: string[]): void => void process.stderr.write(`${lines.join('\n')}\n`);
  if (error instanceof Interrupted) return EXIT.interrupted;
  if (error instanceof UsageError) {
    write(error.showUsage ? [...USAGE_HINT, `lambdad: error: ${error.message}`] : [error.message]);
    return EXIT.usage;
  }
  if (error instanceof LambdadError && error.status > 0) {
    write([`An error occurred (${error.code}) when calling the ${operation} operation: ${error.message}`]);
    return EXIT.service;
  }
  if (error instanceof LambdadError && error.code === 'ConnectionFailedException') {
    write([`Could not connect to the endpoint URL: "${endpoint}"`]);
    return EXIT.other;
  }
  write([(error as Error).message]);
  return EXIT.other;
}

function valueLabel(flag: Flag): string {
  if (flag.choices !== undefined) return flag.choices.join('|');
  if (flag.type === 'list') return '<value> [<value> ...]';
  return typeof flag.type === 'object' ? '<structure>' : `<${flag.type}>`;
}

function synopsis(name: string, flag: Flag): string {
  const text = flag.type === 'boolean' ? `--${name} | --no-${name}` : `--${name} ${valueLabel(flag)}`;
  return flag.required === true ? text : `[${text}]`;
}

/** Required flags first, then the rest in the table's order. */
function ordered(flags: Flags): [string, Flag][] {
  const entries = Object.entries(flags);
  return [...entries.filter(([, flag]) => flag.required === true), ...entries.filter(([, flag]) => flag.required !== true)];
}

function describeFlags(flags: Flags): string[] {
  return ordered(flags).map(([name, flag]) => {
    const label = flag.type === 'boolean' ? `--[no-]${name}` : `--${name} ${valueLabel(flag)}`;
    return `  ${label.padEnd(44)} ${flag.required === true ? '(required) ' : ''}${flag.help}`;
  });
}

const GLOBALS_HELP = ['global parameters (every operation):', ...describeFlags(GLOBAL_FLAGS)];

/** The list of operations, for `lambdad --help`. */
export function overview(): string {
  const names = [...OPERATIONS.values()].map((spec) => `  ${spec.name.padEnd(30)} ${spec.summary}`);
  const lines = [
    'usage: lambdad <operation> [parameters]      calls the daemon as `aws lambda <operation>` calls Lambda',
    '',
    'operations (`lambdad <operation> --help` lists its parameters):',
    ...names,
    '',
    ...GLOBALS_HELP,
  ];
  return `${lines.join('\n')}\n`;
}

/** `lambdad <operation> --help`. */
export function operationHelp(spec: OperationSpec): string {
  const positionals = spec.positionals ?? [];
  const usage = [`lambdad ${spec.name}`, ...ordered(spec.flags).map(([name, flag]) => synopsis(name, flag)), ...positionals.map((word) => `<${word.name}>`)];
  const lines = [
    `usage: ${usage.join(' ')}`,
    '',
    spec.summary,
    '',
    'parameters:',
    ...describeFlags(spec.flags),
    ...positionals.map((word) => `  ${word.name.padEnd(44)} (required) ${word.help}`),
    '',
    ...GLOBALS_HELP,
  ];
  return `${lines.join('\n')}\n`;
}
