/**
 * The segments Lambda sends X-Ray for a sampled invocation (spec xray-and-vpc.md §1, §3): the service segment
 * (`AWS::Lambda`, under the caller's Parent) and the function segment (`AWS::Lambda::Function`, whose id is the
 * Parent in `_X_AMZN_TRACE_ID`) with its Initialization (cold starts only), Invocation and Overhead subsegments.
 */
import type { TraceHeader } from '../trace-header.js';

export interface InvocationSpan {
  readonly header: TraceHeader;
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
const MESSAGE_MAX_CHARS = 4096;

/** Both documents, service segment first; `newId` makes the 16-hex ids lambdad chooses. */
export function invocationSegments(span: InvocationSpan, newId: () => string): [SegmentDocument, SegmentDocument] {
  const { header } = span;
  const init = span.initDurationMs ?? 0;
  // Whatever the handler and init did not take was lambdad's: hand-off, result transfer, log and metric writes.
  const overhead = Math.max(0, span.elapsedMs - init - span.durationMs);
  const start = span.startMs;
  const invocationStart = start + init;
  const invocationEnd = invocationStart + span.durationMs;
  const end = invocationEnd + overhead;
  const accountId = span.functionArn.split(':')[4] ?? '';
  const failure = span.error === undefined ? {} : { fault: true };
  const cause = span.error === undefined ? {} : { cause: { exceptions: [{ id: newId(), type: span.error.type, message: span.error.message.slice(0, MESSAGE_MAX_CHARS) }] } };

  const serviceId = newId();
  const service: SegmentDocument = {
    id: serviceId,
    trace_id: header.root,
    name: span.functionName,
    origin: 'AWS::Lambda',
    start_time: seconds(start),
    end_time: seconds(end),
    ...(header.caller === undefined ? {} : { parent_id: header.caller }),
    // A function error is still a 200 to the caller: the invoke itself succeeded.
    http: { response: { status: 200 } },
    aws: { request_id: span.requestId },
    resource_arn: span.functionArn,
  };
  const subsegment = (name: string, from: number, to: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id: newId(),
    name,
    start_time: seconds(from),
    end_time: seconds(to),
    ...extra,
  });
  const fn: SegmentDocument = {
    id: header.parent,
    trace_id: header.root,
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
