/**
 * Runs one handler call to completion by the rules of Lambda's Node.js runtime (spec/runtime.md §3):
 * promise handlers finish when the promise settles; callback handlers when the callback is called, after the
 * event loop empties if `callbackWaitsForEmptyEventLoop`; a handler that does neither finishes with `null`
 * once the loop is empty; an async handler whose promise can no longer settle fails as Runtime.NodeJsExit.
 */
import type { Handler } from './handler-loader.js';
import { isEventLoopEmpty, whenEventLoopEmpty, type EmptyLoopWait } from './event-loop.js';

const EXIT_CONFIRM_MS = 20;

export type Completion = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: unknown };

export interface ClientContext {
  client?: unknown;
  env?: unknown;
  custom?: unknown;
}

export interface ContextFields {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly awsRequestId: string;
  readonly invokedFunctionArn: string;
  readonly clientContext: ClientContext | undefined;
  readonly deadlineMs: number;
}

export class NodeJsExitError extends Error {
  override readonly name = 'Runtime.NodeJsExit';
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value != null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Calls the handler and reports how it completed to `done`, once. The caller may end the invocation before then
 * (an interrupt): `done` is a promise's resolve, and only its first call counts.
 */
export function runHandler(handler: Handler, event: unknown, fields: ContextFields, done: (completion: Completion) => void): void {
  let settled = false;
  const waits: EmptyLoopWait[] = [];
  const untilEmpty = (): Promise<void> => {
    const wait = whenEventLoopEmpty();
    waits.push(wait);
    return wait.done;
  };
  const finish = (completion: Completion): void => {
    if (settled) return;
    settled = true;
    for (const wait of waits) wait.stop();
    done(completion);
  };

  // A callback result waits for the event loop to empty unless the function says not to.
  let callbackResult: { readonly result: unknown } | null = null;
  const callback = (error?: unknown, result?: unknown): void => {
    if (settled || callbackResult !== null) return;
    if (error !== undefined && error !== null) finish({ ok: false, error });
    else if (!context.callbackWaitsForEmptyEventLoop) finish({ ok: true, result });
    else {
      callbackResult = { result };
      void untilEmpty().then(() => finish({ ok: true, result }));
    }
  };

  const context = {
    functionName: fields.functionName,
    functionVersion: fields.functionVersion,
    memoryLimitInMB: fields.memoryLimitInMB,
    logGroupName: fields.logGroupName,
    logStreamName: fields.logStreamName,
    awsRequestId: fields.awsRequestId,
    invokedFunctionArn: fields.invokedFunctionArn,
    clientContext: fields.clientContext,
    identity: undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: (): number => Math.max(0, fields.deadlineMs - Date.now()),
    // Legacy completion methods of the Node.js runtime.
    succeed: (result?: unknown): void => callback(null, result),
    fail: (error?: unknown): void => callback(error ?? new Error('handled')),
    done: (error?: unknown, result?: unknown): void => callback(error, result),
  };

  let returned: unknown;
  try {
    returned = handler(event, context, callback);
  } catch (error) {
    finish({ ok: false, error });
    return;
  }

  if (isPromiseLike(returned)) {
    // Only the first completion counts: a callback called before the promise settled wins.
    returned.then(
      (result) => callbackResult === null && finish({ ok: true, result }),
      (error: unknown) => callbackResult === null && finish({ ok: false, error: error ?? new Error('Promise rejected') }),
    );
    // Watched only if the promise is still pending a microtask later: most settle before, and need no watch.
    queueMicrotask(() => {
      if (settled || callbackResult !== null) return;
      void untilEmpty().then(() =>
        // Nothing is left that could settle the promise (checked twice, a moment apart): on Lambda the
        // runtime process would exit here.
        setTimeout(() => {
          if (isEventLoopEmpty()) finish({ ok: false, error: new NodeJsExitError('Runtime exited without providing a reason') });
        }, EXIT_CONFIRM_MS).unref(),
      );
    });
  } else {
    // A handler that returns no promise finishes through its callback, or with null once the loop is empty.
    void untilEmpty().then(() => finish({ ok: true, result: callbackResult === null ? null : callbackResult.result }));
  }
}
