/**
 * The segments Lambda sends X-Ray for a sampled invocation (spec xray-and-vpc.md §1, §3): the service segment
 * (`AWS::Lambda`, under the caller's Parent) and the function segment (`AWS::Lambda::Function`, whose id is the
 * Parent in `_X_AMZN_TRACE_ID`) with its Initialization (cold starts only), Invocation and Overhead subsegments.
 * They are made from an InvocationSpan — a few plain fields, cheap to keep — whenever they are needed: the ids
 * lambdad chooses besides the function segment's are derived from it, so the same span always gives the same
 * documents.
 */
import { createHash } from 'node:crypto';

export interface InvocationSpan {
  /** The trace's Root. */
  readonly traceId: string;
  /** The function segment's id: the Parent the handler sees. */
  readonly segmentId: string;
  /** The caller's Parent, the service segment's parent. */
  readonly caller?: string;
  readonly functionName: string;
  /** The ARN the caller invoked (with its qualifier, if any). */
  readonly functionArn: string;
  readonly requestId: string;
  /** Wall-clock start of the invocation, epoch milliseconds. */
  readonly startMs: number;
  /** From the request reaching the invoker to its result. */
  readonly elapsedMs: number;
  readonly initDurationMs?: number;
  /** The handler's run. */
  readonly durationMs: number;
  /** Set when the function failed: the error type and message it reported. */
  readonly error?: { readonly type: string; readonly message: string };
}

export type SegmentDocument = Record<string, unknown> & { readonly id: string; readonly trace_id: string };

const seconds = (ms: number): number => ms / 1000;
/** Keeps a document well inside a 64 kB datagram whatever the function's error message. */
export const MESSAGE_MAX_CHARS = 4096;

/** Epoch milliseconds the invocation's segments end at: init, handler and lambdad's overhead after the start. */
export function spanEndMs(span: InvocationSpan): number {
  return span.startMs + Math.max(span.elapsedMs, (span.initDurationMs ?? 0) + span.durationMs);
}

/** A 16-hex id of the function segment's `part`: stable, and as unique as the function segment's own. */
function derivedId(segmentId: string, part: string): string {
  return createHash('sha256').update(`${segmentId}/${part}`).digest('hex').slice(0, 16);
}

/** Both documents, service segment first. */
export function invocationSegments(span: InvocationSpan): [SegmentDocument, SegmentDocument] {
  const init = span.initDurationMs ?? 0;
  const start = span.startMs;
  const invocationStart = start + init;
  const invocationEnd = invocationStart + span.durationMs;
  // Whatever init and the handler did not take was lambdad's: hand-off, result transfer, log and metric writes.
  const end = spanEndMs(span);
  const accountId = span.functionArn.split(':')[4] ?? '';
  const failure = span.error === undefined ? {} : { fault: true };
  const cause = span.error === undefined ? {} : { cause: { exceptions: [{ id: derivedId(span.segmentId, 'cause'), type: span.error.type, message: span.error.message }] } };

  const serviceId = derivedId(span.segmentId, 'service');
  const service: SegmentDocument = {
    id: serviceId,
    trace_id: span.traceId,
    name: span.functionName,
    origin: 'AWS::Lambda',
    start_time: seconds(start),
    end_time: seconds(end),
    ...(span.caller === undefined ? {} : { parent_id: span.caller }),
    // A function error is still a 200 to the caller: the invoke itself succeeded.
    http: { response: { status: 200 } },
    aws: { request_id: span.requestId },
    resource_arn: span.functionArn,
  };
  const subsegment = (name: string, from: number, to: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id: derivedId(span.segmentId, name),
    name,
    start_time: seconds(from),
    end_time: seconds(to),
    ...extra,
  });
  const fn: SegmentDocument = {
    id: span.segmentId,
    trace_id: span.traceId,
    parent_id: serviceId,
    name: span.functionName,
    origin: 'AWS::Lambda::Function',
    start_time: seconds(start),
    end_time: seconds(end),
    ...failure,
    aws: { account_id: accountId, function_arn: span.functionArn, resource_names: [span.functionName] },
    resource_arn: span.functionArn,
    subsegments: [
      ...(span.initDurationMs === undefined ? [] : [subsegment('Initialization', start, invocationStart, { aws: { function_arn: span.functionArn } })]),
      subsegment('Invocation', invocationStart, invocationEnd, { ...failure, ...cause }),
      subsegment('Overhead', invocationEnd, end),
    ],
  };
  return [service, fn];
}
