/**
 * A runner process: hosts the execution contexts (Piscina worker threads, exactly as in `thread` isolation) of
 * one function version, inside its sandbox, and serves the daemon's requests over the channel on fd 3. It
 * holds nothing of the daemon's: no credentials, no data directory, no environment but its own.
 */
import { Socket } from 'node:net';
import { ContextState, ThreadContext, type RunReport } from '../execution-context.js';
import { LIMITS } from '../../limits.js';
import { ChannelError, frameWriter, readFrames } from './channel.js';
import { encodableRunReport, RUNNER_PROTOCOL_VERSION, type RunnerRequest } from './protocol.js';

/** Every context of the runner uses the sandbox's /tmp, which outlives any one of them (and their resets). */
const SANDBOX_TMP = process.env.TMPDIR ?? '/tmp';

const channel = new Socket({ fd: 3, readable: true, writable: true });
const contexts = new Map<number, ThreadContext>();

const send = frameWriter(channel);

function context(id: number): ThreadContext {
  const found = contexts.get(id);
  if (found === undefined) throw new Error(`no context ${id} in this runner`);
  return found;
}

async function handle(request: RunnerRequest): Promise<{ value?: unknown; alive: boolean }> {
  switch (request.op) {
    case 'start': {
      const started = new ThreadContext({
        shape: request.shape,
        tmpDirectory: SANDBOX_TMP,
        ownsDirectory: false,
        onDeath: () => {
          // A context that dies outside a request (its thread failed while idle) is reported; one a request
          // ended is reported by that request's reply.
          if (contexts.delete(request.context) && !busy.has(request.context)) send({ op: 'death', context: request.context });
        },
      });
      contexts.set(request.context, started);
      await started.warmUp();
      return { alive: true };
    }
    case 'initialize': {
      const target = context(request.context);
      const value = await target.initialize(request.versionKey, request.binding, request.limitMs);
      return { value, alive: target.state === ContextState.Frozen };
    }
    case 'run': {
      const target = context(request.context);
      const report = await target.run(request.versionKey, request.binding, request.task, request.timeoutMs);
      return { value: encodableRunReport(report), alive: target.state === ContextState.Frozen };
    }
    case 'destroy':
      await contexts.get(request.context)?.destroy();
      return { alive: false };
  }
}

/** Contexts with a request under way: their death is told by the reply. */
const busy = new Set<number>();

readFrames(
  channel,
  (message) => {
    const request = message as RunnerRequest;
    busy.add(request.context);
    handle(request).then(
      ({ value, alive }) => {
        busy.delete(request.context);
        if (!alive) contexts.delete(request.context);
        try {
          send({ op: 'reply', id: request.id, ok: true, alive, value });
        } catch (error) {
          if (!(error instanceof ChannelError)) throw error;
          // A result too large for a frame is far past Lambda's response limit: what crosses is enough for the
          // daemon to answer Function.ResponseSizeTooLarge.
          send({ op: 'reply', id: request.id, ok: true, alive, value: withinFrame(value as RunReport) });
        }
      },
      (error: unknown) => {
        busy.delete(request.context);
        contexts.delete(request.context);
        send({ op: 'reply', id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) });
      },
    );
  },
  // The daemon never sends a broken frame: whatever sent one is not the daemon.
  () => process.exit(70),
);
// The daemon went away: nothing is left to serve.
channel.on('close', () => process.exit(0));
channel.on('error', () => process.exit(0));
send({ op: 'hello', version: RUNNER_PROTOCOL_VERSION });

/** A run report whose result payload is cut to one byte over Lambda's response limit. */
function withinFrame(report: RunReport): RunReport {
  const { result } = report;
  if (result.kind !== 'reply' || result.reply.outcome.kind === 'invalid-request') return report;
  const outcome = { ...result.reply.outcome, payload: result.reply.outcome.payload.subarray(0, LIMITS.syncResponseMaxBytes + 1) };
  return { ...report, result: { kind: 'reply', reply: { ...result.reply, outcome } } };
}
