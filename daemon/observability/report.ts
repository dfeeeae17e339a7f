/** The platform's log lines around each invocation, exactly as Lambda writes them (spec/runtime.md §4). */

export interface ReportFields {
  readonly requestId: string;
  readonly durationMs: number;
  readonly memorySizeMb: number;
  readonly maxMemoryUsedMb: number;
  /** Present on the first invocation of an execution context only. */
  readonly initDurationMs?: number;
  /** `timeout`, or `error` with the error type, when the runtime failed. */
  readonly status?: { readonly kind: 'timeout' } | { readonly kind: 'error'; readonly errorType: string };
  /** A sampled, traced invocation: its trace and function segment. */
  readonly xray?: { readonly traceId: string; readonly segmentId: string };
}

export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

export function reportLine(fields: ReportFields): string {
  const parts = [
    `REPORT RequestId: ${fields.requestId}`,
    `Duration: ${fields.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${Math.max(1, Math.ceil(fields.durationMs))} ms`,
    `Memory Size: ${fields.memorySizeMb} MB`,
    `Max Memory Used: ${fields.maxMemoryUsedMb} MB`,
  ];
  if (fields.initDurationMs !== undefined) parts.push(`Init Duration: ${fields.initDurationMs.toFixed(2)} ms`);
  if (fields.status?.kind === 'timeout') parts.push('Status: timeout');
  if (fields.status?.kind === 'error') parts.push('Status: error', `Error Type: ${fields.status.errorType}`);
  // Lambda ends the REPORT line with a tab, and adds the X-Ray line to the same event.
  const xray = fields.xray === undefined ? '' : `\nXRAY TraceId: ${fields.xray.traceId}\tSegmentId: ${fields.xray.segmentId}\tSampled: true\t`;
  return `${parts.join('\t')}\t${xray}`;
}

/** `2024-04-08T16:56:23.120Z <request id> Task timed out after 3.00 seconds` */
export function timeoutLine(now: number, requestId: string, timeoutSeconds: number): string {
  return `${new Date(now).toISOString()} ${requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;
}
