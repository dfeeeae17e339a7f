/**
 * Command-line parameters as the AWS CLI reads them: `--kebab-case` flags naming the API's PascalCase
 * members, `file://` and `fileb://` values read from files, integers, `--flag` / `--no-flag` booleans,
 * lists as several words, and structured values as JSON or shorthand (./shorthand.ts).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readStructured, ShapeError, type Shape } from './shorthand.js';

export type FlagType =
  | 'string'
  | 'integer'
  | 'boolean'
  /** Bytes: `fileb://path`, `file://path`, or the text itself. */
  | 'blob'
  /** A directory, sent as an absolute path. */
  | 'directory'
  /** One or more words. */
  | 'list'
  | { readonly shape: Shape };

export interface Flag {
  readonly type: FlagType;
  readonly help: string;
  readonly required?: boolean;
  readonly choices?: readonly string[];
  /** The input member it sets, when not the flag's name in PascalCase. */
  readonly member?: string;
}

export type Flags = Readonly<Record<string, Flag>>;

/** A command line the CLI cannot run (the AWS CLI's exit code 252). `showUsage`: print the usage hint too. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly showUsage = true,
  ) {
    super(message);
  }
}

function parameterError(flag: string, detail: string): UsageError {
  return new UsageError(`Error parsing parameter '--${flag}': ${detail}`, false);
}

/** `memory-size` → `MemorySize`, `code-sha256` → `CodeSha256`. */
export function memberName(flag: string): string {
  return flag.replace(/(^|-)([a-z0-9])/g, (_match, _dash: string, char: string) => char.toUpperCase());
}

/** The bytes of a `file://` or `fileb://` value (a leading `~/` is the home directory), else null. */
function readParamFile(flag: string, value: string): Buffer | null {
  const prefix = /^fileb?:\/\//.exec(value)?.[0];
  if (prefix === undefined) return null;
  const path = value.slice(prefix.length).replace(/^~(?=\/|$)/, homedir());
  try {
    return readFileSync(path);
  } catch (error) {
    throw parameterError(flag, `Unable to load paramfile ${value}: ${(error as Error).message}`);
  }
}

function convert(flag: string, spec: Flag, words: readonly string[]): unknown {
  const [text] = words as [string];
  const type = spec.type;
  if (type === 'list') return words;
  if (type === 'blob') return readParamFile(flag, text) ?? Buffer.from(text);
  if (type === 'directory') return resolve(text);
  const value = readParamFile(flag, text)?.toString('utf8') ?? text;
  if (type === 'string') {
    if (spec.choices !== undefined && !spec.choices.includes(value)) {
      throw new UsageError(`argument --${flag}: Invalid choice '${value}', valid choices are: ${spec.choices.join(', ')}`);
    }
    return value;
  }
  if (type === 'integer') {
    const number = /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(number)) throw parameterError(flag, `expected an integer, got '${value}'`);
    return number;
  }
  try {
    return readStructured(value, (type as { shape: Shape }).shape, spec.member ?? memberName(flag));
  } catch (error) {
    if (error instanceof ShapeError) throw parameterError(flag, error.message);
    throw error;
  }
}

export interface Parsed {
  /** Values by flag name, converted to their types; absent flags are absent. */
  readonly values: ReadonlyMap<string, unknown>;
  readonly positionals: readonly string[];
}

/** Parses `args` against `flags`; throws UsageError naming the flag at fault. */
export function parseFlags(args: readonly string[], flags: Flags): Parsed {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [name, spec] of Object.entries(flags)) {
    options[name] = { type: spec.type === 'boolean' ? 'boolean' : 'string' };
    if (spec.type === 'boolean') options[`no-${name}`] = { type: 'boolean' };
  }
  const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });

  const words = new Map<string, string[]>();
  const booleans = new Map<string, boolean>();
  const positionals: string[] = [];
  const unknown: string[] = [];
  let list: string[] | null = null;
  for (const token of tokens) {
    if (token.kind === 'positional') {
      (list ?? positionals).push(token.value);
      continue;
    }
    list = null;
    if (token.kind === 'option-terminator') continue;
    const negated = flags[token.name] === undefined && token.name.startsWith('no-') && flags[token.name.slice(3)]?.type === 'boolean';
    const name = negated ? token.name.slice(3) : token.name;
    const spec = flags[name];
    if (spec === undefined) {
      unknown.push(token.rawName);
    } else if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`argument ${token.rawName}: ignored explicit argument '${token.value}'`);
      booleans.set(name, !negated);
    } else if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) {
      throw new UsageError(`argument --${name}: expected one argument`);
    } else {
      const value = [token.value];
      words.set(name, value);
      if (spec.type === 'list') list = value;
    }
  }
  if (unknown.length > 0) throw new UsageError(`Unknown options: ${unknown.join(', ')}`);

  const values = new Map<string, unknown>(booleans);
  for (const [name, given] of words) values.set(name, convert(name, flags[name]!, given));
  const missing = Object.entries(flags).filter(([name, spec]) => spec.required === true && !values.has(name));
  if (missing.length > 0) throw new UsageError(`the following arguments are required: ${missing.map(([name]) => `--${name}`).join(', ')}`);
  return { values, positionals };
}

/** The operation's input: each given flag under its member name. */
export function toInput(values: ReadonlyMap<string, unknown>, flags: Flags): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(flags)) {
    if (values.has(name)) input[spec.member ?? memberName(name)] = values.get(name);
  }
  return input;
}
