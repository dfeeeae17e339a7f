/**
 * The messages of the daemon ↔ runner channel, version 1. The daemon sends requests, each with an id; the
 * runner answers each once (in any order), says hello when it is ready, and reports a context that died on its
 * own. What a runner sends is checked here, field by field, before the daemon uses it: a runner runs a
 * function's code and may have been taken over by it.
 */
import type { InitResult, RunReport, RunResult, RunTask } from '../execution-context.js';
import type { ContextShape } from '../index.js';
import type { ContextBinding, InvokeOutcome, LogRecord } from '../messages.js';

export const RUNNER_PROTOCOL_VERSION = 1;

export type RunnerRequest =
  /** Starts a context (a thread with the runtime loaded) with this id. */
  | { readonly op: 'start'; readonly id: number; readonly context: number; readonly shape: ContextShape }
  | { readonly op: 'initialize'; readonly id: number; readonly context: number; readonly versionKey: string; readonly binding: ContextBinding; readonly limitMs: number }
  | { readonly op: 'run'; readonly id: number; readonly context: number; readonly versionKey: string; readonly binding: ContextBinding | null; readonly task: RunTask; readonly timeoutMs: number }
  | { readonly op: 'destroy'; readonly id: number; readonly context: number };

export type RunnerMessage =
  | { readonly op: 'hello'; readonly version: number }
  /** `alive`: the context can serve again. */
  | { readonly op: 'reply'; readonly id: number; readonly ok: true; readonly alive: boolean; readonly value: unknown }
  | { readonly op: 'reply'; readonly id: number; readonly ok: false; readonly error: string }
  | { readonly op: 'death'; readonly context: number };

/** What a runner sent does not follow the protocol: the daemon ends that runner. */
export class RunnerProtocolError extends Error {
  override readonly name = 'RunnerProtocolError';
}

type Shape = Record<string, unknown>;

function fail(path: string, expected: string): never {
  throw new RunnerProtocolError(`${path} must be ${expected}`);
}

function object(value: unknown, path: string): Shape {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) fail(path, 'a map');
  return value as Shape;
}

function string(value: unknown, path: string): string {
  return typeof value === 'string' ? value : fail(path, 'a string');
}

function number(value: unknown, path: string): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fail(path, 'a finite number ≥ 0');
}

function integer(value: unknown, path: string): number {
  return Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : fail(path, 'a non-negative integer');
}

function boolean(value: unknown, path: string): boolean {
  return typeof value === 'boolean' ? value : fail(path, 'a boolean');
}

function bytes(value: unknown, path: string): Uint8Array {
  return value instanceof Uint8Array ? value : fail(path, 'bytes');
}

function logs(value: unknown, path: string): LogRecord[] {
  if (!Array.isArray(value)) fail(path, 'an array');
  return value.map((item, index) => {
    const record = object(item, `${path}[${index}]`);
    return { timestamp: number(record.timestamp, `${path}[${index}].timestamp`), message: string(record.message, `${path}[${index}].message`) };
  });
}

function optionalNumber(shape: Shape, key: string, path: string): { [key: string]: number } {
  return shape[key] === undefined ? {} : { [key]: number(shape[key], `${path}.${key}`) };
}

export function parseRunnerMessage(value: unknown): RunnerMessage {
  const message = object(value, 'message');
  switch (message.op) {
    case 'hello':
      return { op: 'hello', version: integer(message.version, 'hello.version') };
    case 'death':
      return { op: 'death', context: integer(message.context, 'death.context') };
    case 'reply': {
      const id = integer(message.id, 'reply.id');
      if (boolean(message.ok, 'reply.ok')) return { op: 'reply', id, ok: true, alive: boolean(message.alive, 'reply.alive'), value: message.value };
      return { op: 'reply', id, ok: false, error: string(message.error, 'reply.error') };
    }
    default:
      return fail('message.op', 'hello, reply or death');
  }
}

function outcome(value: unknown, path: string): InvokeOutcome {
  const shape = object(value, path);
  switch (shape.kind) {
    case 'success':
      return { kind: 'success', payload: bytes(shape.payload, `${path}.payload`) };
    case 'error':
      return { kind: 'error', errorType: string(shape.errorType, `${path}.errorType`), payload: bytes(shape.payload, `${path}.payload`) };
    case 'invalid-request':
      return { kind: 'invalid-request', message: string(shape.message, `${path}.message`) };
    default:
      return fail(`${path}.kind`, 'success, error or invalid-request');
  }
}

function runResult(value: unknown, path: string): RunResult {
  const shape = object(value, path);
  switch (shape.kind) {
    case 'reply': {
      const reply = object(shape.reply, `${path}.reply`);
      return {
        kind: 'reply',
        reply: {
          outcome: outcome(reply.outcome, `${path}.reply.outcome`),
          durationMs: number(reply.durationMs, `${path}.reply.durationMs`),
          peakMemoryBytes: number(reply.peakMemoryBytes, `${path}.reply.peakMemoryBytes`),
          discard: boolean(reply.discard, `${path}.reply.discard`),
        },
      };
    }
    case 'timeout':
    case 'out-of-memory':
      return { kind: shape.kind };
    case 'exit':
      return { kind: 'exit', exitCode: Number.isSafeInteger(shape.exitCode) ? (shape.exitCode as number) : fail(`${path}.exitCode`, 'an integer') };
    case 'crash': {
      const error = object(shape.error, `${path}.error`);
      return { kind: 'crash', error: Object.assign(new Error(string(error.message, `${path}.error.message`)), { name: string(error.name, `${path}.error.name`) }) };
    }
    default:
      return fail(`${path}.kind`, 'reply, timeout, out-of-memory, exit or crash');
  }
}

/** A `run` reply's value. */
export function parseRunReport(value: unknown): RunReport {
  const shape = object(value, 'report');
  return {
    result: runResult(shape.result, 'report.result'),
    initLogs: logs(shape.initLogs, 'report.initLogs'),
    logs: logs(shape.logs, 'report.logs'),
    droppedLogs: integer(shape.droppedLogs, 'report.droppedLogs'),
    peakMemoryBytes: number(shape.peakMemoryBytes, 'report.peakMemoryBytes'),
    ...optionalNumber(shape, 'initDurationMs', 'report'),
  };
}

/** An `initialize` reply's value. */
export function parseInitResult(value: unknown): InitResult {
  const shape = object(value, 'init');
  const reply = object(shape.reply, 'init.reply');
  return {
    reply: boolean(reply.ok, 'init.reply.ok')
      ? { ok: true }
      : { ok: false, errorType: string(reply.errorType, 'init.reply.errorType'), errorMessage: string(reply.errorMessage, 'init.reply.errorMessage') },
    initLogs: logs(shape.initLogs, 'init.initLogs'),
    ...optionalNumber(shape, 'initDurationMs', 'init'),
  };
}

/** A run result as it crosses the channel: an Error becomes its name and message. */
export function encodableRunReport(report: RunReport): unknown {
  const { result } = report;
  return result.kind === 'crash' ? { ...report, result: { kind: 'crash', error: { name: result.error.name, message: result.error.message } } } : report;
}
