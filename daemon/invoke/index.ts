/**
 * The synchronous invoke path, top to bottom: check the request, run it in an execution context, turn what
 * the context reported into the caller's result and the function's log lines.
 */
import type { Clock, Ids } from '../clock.js';
import { JOURNAL_LOG_BYTES, type ContextRun, type ExecutionContexts, type LogRecord } from '../contexts/index.js';
import { LambdaError } from '../errors.js';
import { LIMITS } from '../limits.js';
import type { LogStore } from '../observability/log-store.js';
import type { MetricsRecorder } from '../observability/metrics.js';
import { formatTraceHeader, TraceHeaders, type TraceHeader } from '../observability/trace-header.js';
import type { SpanSink } from '../observability/xray/index.js';
import { MESSAGE_MAX_CHARS } from '../observability/xray/segments.js';
import { endLine, reportLine, startLine, timeoutLine, type ReportFields } from '../observability/report.js';
import type { InvokeTarget } from '../registry/index.js';

export interface InvokeRequest {
  readonly target: InvokeTarget;
  /** The event bytes; their buffer is handed over to the execution context. */
  readonly payload: Uint8Array;
  /** Decoded client context JSON. */
  readonly clientContext?: string;
  /** An asynchronous event's request id, the same on every attempt; a new one otherwise. */
  readonly requestId?: string;
  /** The caller's X-Ray trace header (`X-Amzn-Trace-Id`), continued when it carries a Root. */
  readonly traceHeader?: string;
}

export interface InvokeResult {
  readonly requestId: string;
  readonly executedVersion: string;
  /** The function's result bytes, or the error JSON when `functionError` is set. */
  readonly payload: Uint8Array;
  readonly functionError?: 'Unhandled';
  /** The trace header the invocation ran under (its `_X_AMZN_TRACE_ID`). */
  readonly traceHeader: string;
  /** This invocation's log, as the lines written to its log stream. */
  readonly log: string;
}

interface Settled {
  readonly payload: Uint8Array;
  readonly failed: boolean;
  readonly logs: readonly LogRecord[];
  readonly initLogs: readonly LogRecord[];
  readonly durationMs: number;
  readonly peakMemoryBytes: number;
  readonly initDurationMs?: number;
  readonly status?: ReportFields['status'];
}

const encoder = new TextEncoder();
const MIB = 1024 * 1024;

function errorPayload(errorType: string, errorMessage: string): Uint8Array {
  return encoder.encode(JSON.stringify({ errorType, errorMessage }));
}

export class Invoker {
  readonly #contexts: ExecutionContexts;
  readonly #logs: LogStore;
  readonly #clock: Clock;
  readonly #ids: Ids;
  readonly #metrics: MetricsRecorder;
  readonly #traces: TraceHeaders;
  readonly #spans: SpanSink | null;
  readonly #running = new Set<Promise<unknown>>();
  #closing = false;

  constructor(options: { contexts: ExecutionContexts; logs: LogStore; clock: Clock; ids: Ids; metrics: MetricsRecorder; spans: SpanSink | null }) {
    this.#contexts = options.contexts;
    this.#spans = options.spans;
    this.#metrics = options.metrics;
    this.#traces = new TraceHeaders(options.clock, options.ids);
    this.#logs = options.logs;
    this.#clock = options.clock;
    this.#ids = options.ids;
  }

  invoke(request: InvokeRequest): Promise<InvokeResult> {
    if (this.#closing) return Promise.reject(new LambdaError('ServiceException', 'lambdad is stopping: the invocation was not started'));
    const running = this.#invoke(request);
    this.#running.add(running);
    const forget = (): boolean => this.#running.delete(running);
    running.then(forget, forget);
    return running;
  }

  /** True once close() began: what ends now may have been cut short by the stop. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Refuses new invocations and waits up to `graceMs` for the running ones to finish. */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.allSettled([...this.#running]), grace]);
    clearTimeout(timer);
  }

  async #invoke(request: InvokeRequest): Promise<InvokeResult> {
    if (request.payload.byteLength > LIMITS.syncPayloadMaxBytes) {
      throw new LambdaError('RequestEntityTooLargeException', `Request must be smaller than ${LIMITS.syncPayloadMaxBytes} bytes for the InvokeFunction operation`);
    }
    const { target } = request;
    const requestId = request.requestId ?? this.#ids.uuid();
    const started = performance.now();
    const trace = this.#traces.forInvocation(request.traceHeader, target.configuration.TracingConfig.Mode);
    const traceHeader = formatTraceHeader(trace);
    const run = await this.#contexts.run(target, { requestId, payload: request.payload, traceId: traceHeader, ...(request.clientContext === undefined ? {} : { clientContext: request.clientContext }) });
    const elapsedMs = performance.now() - started;
    const settled = this.#settle(run, target, requestId, elapsedMs);
    const now = this.#clock.now();
    const traced = trace.sampled && this.#spans !== null;
    if (traced) this.#traceSpan(trace, target, requestId, now - elapsedMs, elapsedMs, settled);

    const records: LogRecord[] = [...settled.initLogs, { timestamp: now, message: startLine(requestId, target.executedVersion) }, ...settled.logs];
    if (run.report.droppedLogs > 0) {
      records.push({ timestamp: now, message: `${new Date(now).toISOString()}\t${requestId}\tWARN\tlambdad: ${run.report.droppedLogs} log records dropped: this invocation's log buffer (${JOURNAL_LOG_BYTES} bytes) was full` });
    }
    if (settled.status?.kind === 'timeout') records.push({ timestamp: now, message: timeoutLine(now, requestId, target.configuration.Timeout) });
    records.push(
      { timestamp: now, message: endLine(requestId) },
      {
        timestamp: now,
        message: reportLine({
          requestId,
          durationMs: settled.durationMs,
          memorySizeMb: target.configuration.MemorySize,
          maxMemoryUsedMb: Math.ceil(settled.peakMemoryBytes / MIB),
          ...(settled.initDurationMs === undefined ? {} : { initDurationMs: settled.initDurationMs }),
          ...(settled.status === undefined ? {} : { status: settled.status }),
          ...(traced ? { xray: { traceId: trace.root, segmentId: trace.parent } } : {}),
        }),
      },
    );
    this.#logs.append(target.configuration.LoggingConfig.LogGroup, run.logStreamName, records);
    if (run.placement !== 'on-demand') this.#metrics.placed(target.configuration.FunctionName, resourceOf(target), run.placement);
    this.#metrics.invoked(
      { functionName: target.configuration.FunctionName, resource: resourceOf(target), executedVersion: target.executedVersion },
      {
        durationMs: settled.durationMs,
        maxMemoryUsedBytes: Math.ceil(settled.peakMemoryBytes / MIB) * MIB,
        ...(settled.initDurationMs === undefined ? {} : { initDurationMs: settled.initDurationMs }),
        ...(settled.failed ? { errorType: settled.status?.kind === 'timeout' ? 'Sandbox.Timedout' : settled.status?.kind === 'error' ? settled.status.errorType : 'Function' } : {}),
      },
    );

    return {
      requestId,
      executedVersion: target.executedVersion,
      payload: settled.payload,
      traceHeader,
      ...(settled.failed ? { functionError: 'Unhandled' as const } : {}),
      // Joined only when someone reads it (Tail, in-process callers): most invocations never need it.
      get log(): string {
        return records.map((record) => `${record.message}\n`).join('');
      },
    };
  }

  /** Hands a sampled invocation to X-Ray: the facts its segments are made from. */
  #traceSpan(trace: TraceHeader, target: InvokeTarget, requestId: string, startMs: number, elapsedMs: number, settled: Settled): void {
    const error = settled.failed ? reportedError(settled.payload) : undefined;
    this.#spans?.send({
      traceId: trace.root,
      segmentId: trace.parent,
      ...(trace.caller === undefined ? {} : { caller: trace.caller }),
      functionName: target.configuration.FunctionName,
      functionArn: target.invokedFunctionArn,
      requestId,
      startMs,
      elapsedMs,
      durationMs: settled.durationMs,
      ...(settled.initDurationMs === undefined ? {} : { initDurationMs: settled.initDurationMs }),
      ...(error === undefined ? {} : { error }),
    });
  }

  /** What the caller gets and the REPORT line says, for each way an invocation can end. */
  #settle(run: ContextRun, target: InvokeTarget, requestId: string, elapsedMs: number): Settled {
    const { result, initLogs, logs } = run.report;
    // A cold start's thread start-up, when no spare context was ready, is part of its init.
    const initDurationMs = run.report.initDurationMs === undefined ? undefined : run.report.initDurationMs + run.threadStartMs;
    const memoryBytes = target.configuration.MemorySize * MIB;
    const failure = (errorType: string, errorMessage: string, status: ReportFields['status'], peakMemoryBytes = run.report.peakMemoryBytes): Settled => ({
      payload: errorPayload(errorType, errorMessage),
      failed: true,
      logs,
      initLogs,
      durationMs: elapsedMs,
      peakMemoryBytes,
      status,
      ...(initDurationMs === undefined ? {} : { initDurationMs }),
    });
    switch (result.kind) {
      case 'timeout':
        return failure('Sandbox.Timedout', `RequestId: ${requestId} Error: Task timed out after ${target.configuration.Timeout.toFixed(2)} seconds`, { kind: 'timeout' });
      case 'out-of-memory':
        return failure('Runtime.OutOfMemory', `RequestId: ${requestId} Error: Runtime exited with error: signal: killed`, { kind: 'error', errorType: 'Runtime.OutOfMemory' }, memoryBytes);
      case 'exit': {
        // Lambda has no reason to give for a runtime that exits cleanly in the middle of an invocation.
        const reason = result.exitCode === 0 ? 'Runtime exited without providing a reason' : `Runtime exited with error: exit status ${result.exitCode}`;
        return failure('Runtime.ExitError', `RequestId: ${requestId} Error: ${reason}`, { kind: 'error', errorType: 'Runtime.ExitError' });
      }
      case 'signal':
        // The runner process died: of its memory limit, or of a signal (a native crash, an abort, a kill).
        if (result.outOfMemory) return failure('Runtime.OutOfMemory', `RequestId: ${requestId} Error: Runtime exited with error: signal: ${result.signal}`, { kind: 'error', errorType: 'Runtime.OutOfMemory' }, memoryBytes);
        return failure('Runtime.ExitError', `RequestId: ${requestId} Error: Runtime exited with error: signal: ${result.signal}`, { kind: 'error', errorType: 'Runtime.ExitError' });
      case 'crash':
        return failure(result.error.name, result.error.message, { kind: 'error', errorType: result.error.name });
      case 'reply':
        break;
    }
    const { reply } = result;
    const common = { logs, initLogs, durationMs: reply.durationMs, peakMemoryBytes: reply.peakMemoryBytes, ...(initDurationMs === undefined ? {} : { initDurationMs }) };
    const { outcome } = reply;
    switch (outcome.kind) {
      case 'invalid-request':
        throw new LambdaError('InvalidRequestContentException', outcome.message);
      case 'success':
        if (outcome.payload.byteLength > LIMITS.syncResponseMaxBytes) {
          return {
            ...common,
            payload: errorPayload('Function.ResponseSizeTooLarge', `Response payload size exceeded maximum allowed payload size (${LIMITS.syncResponseMaxBytes} bytes).`),
            failed: true,
          };
        }
        return { ...common, payload: outcome.payload, failed: false };
      case 'error': {
        // Errors that ended the environment show in REPORT, as the platform reports them.
        const status = reply.discard ? { kind: 'error' as const, errorType: outcome.errorType } : undefined;
        return { ...common, payload: outcome.payload, failed: true, ...(status === undefined ? {} : { status }) };
      }
    }
  }
}

/** The error type and message of a failed invocation's `{errorType, errorMessage}` payload. */
function reportedError(payload: Uint8Array): { type: string; message: string } {
  try {
    const reported = JSON.parse(new TextDecoder().decode(payload)) as { errorType?: unknown; errorMessage?: unknown };
    return { type: String(reported.errorType ?? 'Error'), message: String(reported.errorMessage ?? '').slice(0, MESSAGE_MAX_CHARS) };
  } catch {
    return { type: 'Error', message: '' };
  }
}

/** The qualifier the caller named (metrics' `resource`): `$LATEST` when unqualified. */
export function resourceOf(target: InvokeTarget): string {
  return target.invokedFunctionArn.split(':')[7] ?? '$LATEST';
}
