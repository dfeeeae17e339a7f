/**
 * The runtime inside one execution context's worker thread (Piscina task entry). The first invocation binds
 * the thread to one function version: environment, TMPDIR, log capture, memory guard, handler. Later
 * invocations reuse all of it (warm start). Between tasks Piscina blocks the thread in Atomics.wait, so the
 * function's timers and callbacks stay frozen until the next task thaws them.
 */
import Module from 'node:module';
import { workerData } from 'node:worker_threads';
import { Journal } from '../journal.js';
import type { ContextBinding, InitReply, InvokeOutcome, InvokeReply, InvokeTask, WorkerTask } from '../messages.js';
import { runHandler, type ClientContext, type Completion } from './completion.js';
import { captureBaseline, needsThaw, thaw } from './event-loop.js';
import { loadHandler, type Handler } from './handler-loader.js';
import { LogCapture } from './log-capture.js';
import { MemoryGuard } from './memory-guard.js';
import { installNetworkGuard } from './network-guard.js';
import { parseEvent } from '../../invoke/payload.js';

interface BoundRuntime {
  readonly binding: ContextBinding;
  readonly logs: LogCapture;
  readonly memory: MemoryGuard;
  readonly handler: Handler;
}

const encoder = new TextEncoder();

/** Shared with the main thread, which reads it after each task — even one that killed this thread. */
const journal = new Journal((workerData as { journal: SharedArrayBuffer }).journal);
let runtime: BoundRuntime | null = null;
/** Ends the running invocation early with an error: set while a handler runs. */
let interrupt: ((error: Error) => void) | null = null;

const FATAL_ERROR_TYPES = new Set(['Runtime.OutOfMemory', 'Runtime.UnhandledPromiseRejection', 'Runtime.NodeJsExit']);

function runtimeError(errorType: string, message: string): Error {
  return Object.assign(new Error(message), { name: errorType });
}

function errorBody(error: unknown): { errorType: string; body: Uint8Array } {
  let shape: { errorType: string; errorMessage: string; trace: string[] };
  if (error instanceof Error) {
    shape = { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  } else {
    shape = { errorType: typeof error, errorMessage: String(error), trace: [] };
  }
  return { errorType: shape.errorType, body: encoder.encode(JSON.stringify(shape)) };
}

function applyEnvironment(environment: Readonly<Record<string, string>>): void {
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, environment);
  // The thread may have started before it knew its function: read NODE_PATH (the layers' modules) again.
  (Module as unknown as { _initPaths(): void })._initPaths();
}

async function bind(binding: ContextBinding): Promise<BoundRuntime> {
  captureBaseline();
  applyEnvironment(binding.environment);
  // A runner process is the function's alone: process.abort() ends it, as it ends Lambda's runtime (a
  // worker thread of the daemon cannot, so there it stays Node's refusal).
  if (binding.ownsProcess) process.abort = () => process.kill(process.pid, 'SIGABRT') as never;
  const logs = new LogCapture(journal);
  installNetworkGuard(binding.network, (message) => logs.warn(message));
  const memory = new MemoryGuard(
    binding.memoryLimitBytes,
    () => interrupt?.(runtimeError('Runtime.OutOfMemory', 'memory limit exceeded')),
    (bytes) => journal.recordPeakMemory(bytes),
  );
  memory.begin(false);
  const started = performance.now();
  try {
    const handler = await loadHandler(binding.codeDirectory, binding.handler);
    journal.recordInitDuration(performance.now() - started);
    return { binding, logs, memory, handler };
  } catch (error) {
    journal.recordInitDuration(performance.now() - started);
    // Lambda logs a failed init as an uncaught exception, with request id `undefined`.
    const now = Date.now();
    journal.write(now, `${new Date(now).toISOString()}\tundefined\tERROR\tUncaught Exception \t${Buffer.from(errorBody(error).body).toString('utf8')}`);
    throw new InitFailure(error, memory.end());
  }
}

class InitFailure extends Error {
  constructor(
    readonly failure: unknown,
    readonly peakMemoryBytes: number,
  ) {
    super('init failed');
  }
}

/** Results smaller than this are copied with the reply: handing the buffer over costs more than the copy. */
const MOVE_MIN_BYTES = 16 * 1024;

/**
 * Piscina's main module, loaded by the first context that hands a result over: most never do, and it is a whole
 * pool implementation that every context's heap would otherwise hold.
 */
let piscina: Promise<Pick<typeof import('piscina'), 'move' | 'transferableSymbol' | 'valueSymbol'>> | null = null;

/** The reply as it is, or, for a large result, wrapped to hand its bytes over (after loading Piscina's module). */
function reply(fields: InvokeReply): InvokeReply | Promise<InvokeReply> {
  const outcome = fields.outcome;
  if (outcome.kind === 'invalid-request' || outcome.payload.byteLength < MOVE_MIN_BYTES) return fields;
  return handingOver(fields, outcome.payload);
}

async function handingOver(fields: InvokeReply, bytes: Uint8Array): Promise<InvokeReply> {
  const { move, transferableSymbol, valueSymbol } = await (piscina ??= import('piscina'));
  // Hand the result bytes to the main thread without copying them.
  const movable = {
    get [transferableSymbol]() {
      return [bytes.buffer];
    },
    get [valueSymbol]() {
      return fields;
    },
  };
  return move(movable as unknown as Parameters<typeof move>[0]) as unknown as InvokeReply;
}

function parseClientContext(text: string | undefined): ClientContext | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as ClientContext;
  } catch {
    return undefined;
  }
}

async function invoke(task: InvokeTask): Promise<InvokeReply> {
  // Checked before anything else: a refused event must not be the one that binds (and so warms) a context.
  const parsed = parseEvent(task.payload);
  if (!parsed.ok) return { outcome: { kind: 'invalid-request', message: parsed.message }, durationMs: 0, peakMemoryBytes: 0, discard: runtime === null };

  const coldStart = runtime === null;
  if (runtime === null) {
    if (task.binding === undefined) throw new Error('an unbound context was invoked without its binding');
    try {
      runtime = await bind(task.binding);
    } catch (error) {
      if (!(error instanceof InitFailure)) throw error;
      const { errorType, body } = errorBody(error.failure);
      journal.markInvocationStart();
      return reply({ outcome: { kind: 'error', errorType, payload: body }, durationMs: 0, peakMemoryBytes: error.peakMemoryBytes, discard: true });
    }
  }

  const { binding, logs, memory, handler } = runtime;
  // As Lambda's runtime does: the invocation's trace header for the X-Ray SDK, removed when there is none.
  if (task.traceId === undefined) delete process.env['_X_AMZN_TRACE_ID'];
  else process.env['_X_AMZN_TRACE_ID'] = task.traceId;
  journal.markInvocationStart();
  logs.setRequestId(task.requestId);
  memory.begin(coldStart);
  const started = performance.now();
  const deadlineMs = Date.now() + task.timeoutMs;
  // The handler's completion or an interrupt, whichever comes first. Interrupts are on before the thaw: timers
  // that fire then belong to this invocation, rejections included.
  let complete!: (completion: Completion) => void;
  const completed = new Promise<Completion>((resolve) => (complete = resolve));
  interrupt = (error) => complete({ ok: false, error });
  if (needsThaw()) await thaw();

  const env = binding.environment;
  runHandler(
    handler,
    parsed.event,
    {
      functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
      functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '',
      memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '',
      logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
      logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
      awsRequestId: task.requestId,
      invokedFunctionArn: task.invokedFunctionArn,
      clientContext: parseClientContext(task.clientContext),
      deadlineMs,
    },
    complete,
  );
  let completion = await completed;
  interrupt = null;
  const durationMs = performance.now() - started;

  const peakMemoryBytes = memory.end();
  if (memory.exceeded) {
    completion = { ok: false, error: runtimeError('Runtime.OutOfMemory', `RequestId: ${task.requestId} Error: Runtime exited with error: signal: killed`) };
  }
  const outcome = toOutcome(completion);
  // These end the environment on Lambda: its runtime process is killed or exits.
  const discard = outcome.kind === 'error' && FATAL_ERROR_TYPES.has(outcome.errorType);
  return reply({ outcome, durationMs, peakMemoryBytes, discard });
}

function toOutcome(completion: Completion): InvokeOutcome {
  if (completion.ok) {
    try {
      return { kind: 'success', payload: encoder.encode(JSON.stringify(completion.result === undefined ? null : completion.result)) };
    } catch (error) {
      completion = { ok: false, error };
    }
  }
  const { errorType, body } = errorBody(completion.error);
  return { kind: 'error', errorType, payload: body };
}

// As on Lambda, an unhandled rejection fails the running invocation at once and the environment is reset.
process.on('unhandledRejection', (reason) => {
  const message = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  interrupt?.(runtimeError('Runtime.UnhandledPromiseRejection', message));
});

/** Provisioned concurrency: the function's init runs now, so its invocations are warm from the first. */
async function initialize(binding: ContextBinding): Promise<InitReply> {
  try {
    runtime = await bind(binding);
    return { ok: true };
  } catch (error) {
    if (!(error instanceof InitFailure)) throw error;
    const failure = error.failure;
    return { ok: false, errorType: failure instanceof Error ? failure.name : typeof failure, errorMessage: failure instanceof Error ? failure.message : String(failure) };
  }
}

export default function run(task: WorkerTask): Promise<InvokeReply | InitReply | null> | null {
  if (task.kind === 'warm-up') return null;
  if (task.kind === 'init') return initialize(task.binding);
  return invoke(task);
}
