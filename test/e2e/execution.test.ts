/**
 * Execution contexts end to end: a real daemon, real worker threads, code zipped from a directory, stored,
 * extracted and run, in both isolation modes. Each test names the Lambda behaviour it holds the daemon to.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, FIXTURES, ISOLATIONS, json, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';

let harness: TestDaemon;
const behaviours = `${FIXTURES}/behaviours`;

function create(name: string, handler: string, extra: Record<string, unknown> = {}) {
  return harness.daemon.service.createFunction({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: handler, Code: { Directory: behaviours }, ...extra });
}

async function invoke(name: string, payload: unknown = {}, qualifier?: string) {
  return harness.daemon.service.invoke({ functionName: name, payload: event(payload), ...(qualifier === undefined ? {} : { qualifier }) });
}

const isColdStart = (log: string): boolean => /\tInit Duration: \d+\.\d{2} ms/.test(log);

describe.each(ISOLATIONS)('%s isolation', (isolation) => {
  beforeAll(async () => {
    harness = await startDaemon({ isolation });
  });

  afterAll(async () => {
    await harness.stop();
  });

  describe('warm and cold starts', () => {
    it('keeps module state between warm invocations: a counter returns 1, 2, 3', async () => {
      create('counter', 'counter.handler');
      const counts = [];
      for (let i = 0; i < 3; i++) counts.push(json((await invoke('counter')).payload).count);
      expect(counts).toEqual([1, 2, 3]);
    });

    it('reports Init Duration on the cold start only', async () => {
      create('cold-then-warm', 'counter.handler');
      const first = await invoke('cold-then-warm');
      const second = await invoke('cold-then-warm');
      expect(isColdStart(first.log)).toBe(true);
      expect(isColdStart(second.log)).toBe(false);
    });

    it('keeps published versions warm when $LATEST changes', async () => {
      create('versioned', 'counter.handler');
      harness.daemon.service.publishVersion('versioned');
      await invoke('versioned', {}, '1');
      harness.daemon.service.updateFunctionConfiguration('versioned', { Description: 'changed' });
      expect(json((await invoke('versioned', {}, '1')).payload).count).toBe(2);
    });

    it('starts fresh contexts for new code: an updated function forgets the old module state', async () => {
      create('redeployed', 'counter.handler');
      await invoke('redeployed');
      await invoke('redeployed');
      harness.daemon.service.updateFunctionConfiguration('redeployed', { Description: 'v2' });
      const after = await invoke('redeployed');
      expect(json(after.payload).count).toBe(1);
      expect(isColdStart(after.log)).toBe(true);
    });
  });

  describe('freeze and thaw', () => {
    it('does not run a 10 ms interval while the context is idle, and runs it again once invoked', async () => {
      create('freezer', 'freeze.handler');
      await invoke('freezer', { action: 'start' });
      const frozenFrom = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const frozenUntil = Date.now();

      const thawed = json((await invoke('freezer', { action: 'wait', ms: 100 })).payload) as { ticks: number[] };
      const duringIdle = thawed.ticks.filter((tick) => tick > frozenFrom + 5 && tick < frozenUntil);
      const afterThaw = thawed.ticks.filter((tick) => tick >= frozenUntil);
      expect(duringIdle).toEqual([]);
      // 100 ms of a 10 ms interval: it ticks again (loosely bounded: the machine is shared and noisy).
      expect(afterThaw.length).toBeGreaterThanOrEqual(3);
    });
  });

  describe('per-context temporary directory', () => {
    it('keeps /tmp files between warm invocations, in a directory of the context\'s own', async () => {
      create('tmp-user', 'tmp.handler');
      const written = json((await invoke('tmp-user', { write: 'kept' })).payload);
      const read = json((await invoke('tmp-user', {})).payload);
      expect(read).toEqual({ tmpdir: written.tmpdir, content: 'kept', invocations: 2 });
      // Thread contexts each have a directory of the daemon's; a runner's contexts share its sandbox's /tmp.
    if (isolation === 'thread') expect(written.tmpdir.startsWith(harness.dataDir)).toBe(true);
    else expect(written.tmpdir).toBe('/tmp');
    });

    it('keeps /tmp across a reset, as Lambda re-runs the init in the same sandbox: after a timeout and after an exit', async () => {
      create('tmp-reset', 'tmp.handler', { Timeout: 1 });
      const first = json((await invoke('tmp-reset', { write: 'before' })).payload);
      const timedOut = await invoke('tmp-reset', { write: 'written before the timeout', then: 'hang' });
      expect(json(timedOut.payload).errorType).toBe('Sandbox.Timedout');
      const afterTimeout = await invoke('tmp-reset');
      expect(isColdStart(afterTimeout.log)).toBe(true);
      // Module state is gone, the files are not, and they are where they were.
      expect(json(afterTimeout.payload)).toEqual({ tmpdir: first.tmpdir, content: 'written before the timeout', invocations: 1 });

      const exited = await invoke('tmp-reset', { write: 'written before the exit', then: 'exit' });
      expect(json(exited.payload).errorType).toBe('Runtime.ExitError');
      expect(json((await invoke('tmp-reset')).payload)).toEqual({ tmpdir: first.tmpdir, content: 'written before the exit', invocations: 1 });
    });

    it('starts new code with an empty /tmp: a reset sandbox is not kept across a configuration change', async () => {
      create('tmp-changed', 'tmp.handler', { Timeout: 1 });
      const { tmpdir } = json((await invoke('tmp-changed', { write: 'old' })).payload);
      await invoke('tmp-changed', { then: 'exit' });
      harness.daemon.service.updateFunctionConfiguration('tmp-changed', { Description: 'changed' });
      // The old version's kept directory goes with the change, not only after the keep-warm period (a runner's
      // /tmp lives in its sandbox, gone with it).
      if (isolation === 'thread') await expect.poll(() => existsSync(tmpdir), { timeout: 5_000 }).toBe(false);
      expect(json((await invoke('tmp-changed')).payload)).toMatchObject({ content: null, invocations: 1 });
    });
  });

  describe('environment and context object', () => {
    it('sets Lambda\'s reserved variables and the function\'s own, and never the daemon\'s', async () => {
      process.env.LAMBDAD_TEST_DAEMON_SECRET = 'must-not-leak';
      try {
        const created = create('env-reader', 'env.handler', { Environment: { Variables: { GREETING: 'hi', PATH: '/opt/custom/bin:/usr/bin' } }, MemorySize: 256, Timeout: 7 });
        const result = await invoke('env-reader');
        const { env, context } = json(result.payload);
        expect(env.LAMBDAD_TEST_DAEMON_SECRET).toBeUndefined();
        // A sandbox has a HOME of its own; a thread context has none (and would find the host user's).
        if (isolation === 'process') expect(env.HOME).toBe('/home/sbx_user1051');
        else expect(env.HOME).toBeUndefined();
        // The execution role's session, never the daemon's keys, and where the AWS SDK finds lambdad.
        expect(env.AWS_ACCESS_KEY_ID).toMatch(/^ASIA[A-Z2-7]{16}$/);
        expect(env.AWS_SESSION_TOKEN.length).toBeGreaterThan(100);
        expect(env.AWS_ENDPOINT_URL).toBe(harness.daemon.url);
        expect(env).toMatchObject({
          GREETING: 'hi',
          PATH: '/opt/custom/bin:/usr/bin',
          _HANDLER: 'env.handler',
          AWS_REGION: 'us-east-1',
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
          AWS_LAMBDA_FUNCTION_NAME: 'env-reader',
          AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
          AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/env-reader',
          AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
          TZ: ':UTC',
        });
        expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
        if (isolation === 'process') expect(env.LAMBDA_TASK_ROOT).toBe('/var/task');
        else expect(existsSync(env.LAMBDA_TASK_ROOT)).toBe(true);
        expect(context).toMatchObject({
          functionName: 'env-reader',
          functionVersion: '$LATEST',
          memoryLimitInMB: '256',
          logGroupName: '/aws/lambda/env-reader',
          logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
          awsRequestId: result.requestId,
          invokedFunctionArn: created.FunctionArn,
          callbackWaitsForEmptyEventLoop: true,
        });
        expect(context.remaining).toBeGreaterThan(5_000);
        expect(context.remaining).toBeLessThanOrEqual(7_000);
      } finally {
        delete process.env.LAMBDAD_TEST_DAEMON_SECRET;
      }
    });
  });

  describe('completion rules of the Node.js runtime', () => {
    it('answers a callback after the event loop empties, unless callbackWaitsForEmptyEventLoop is false', async () => {
      create('cb-waits', 'callbacks.waits');
      create('cb-no-wait', 'callbacks.noWait');
      const waited = await invoke('cb-waits');
      expect(json(waited.payload)).toEqual({ waited: true });
      // It waited for the 100 ms timer (libuv's millisecond loop clock can fire it a fraction early).
      expect(Number(/\tDuration: ([\d.]+) ms/.exec(waited.log)?.[1])).toBeGreaterThanOrEqual(95);
      const noWait = await invoke('cb-no-wait');
      expect(json(noWait.payload)).toEqual({ late: 0 });
      expect(Number(/\tDuration: ([\d.]+) ms/.exec(noWait.log)?.[1])).toBeLessThan(100);
      // Its 100 ms timer was frozen with the context; the next invocation thaws it before the handler runs.
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(json((await invoke('cb-no-wait')).payload)).toEqual({ late: 1 });
    });

    it('answers null when a handler neither returns a promise nor calls back', async () => {
      create('cb-never', 'callbacks.neverCalls');
      const result = await invoke('cb-never');
      expect(result.functionError).toBeUndefined();
      expect(json(result.payload)).toBeNull();
    });

    it('fails with Runtime.NodeJsExit when an async handler\'s promise can never settle', async () => {
      create('cb-pending', 'callbacks.pendingForever');
      const result = await invoke('cb-pending');
      expect(result.functionError).toBe('Unhandled');
      expect(json(result.payload).errorType).toBe('Runtime.NodeJsExit');
    });

    it('fails with the callback\'s error, and keeps the legacy succeed/fail of the context object', async () => {
      create('cb-error', 'callbacks.errorFirst');
      create('legacy-succeed', 'callbacks.legacySucceed');
      create('legacy-fail', 'callbacks.legacyFail');
      const failed = await invoke('cb-error');
      expect(failed.functionError).toBe('Unhandled');
      expect(json(failed.payload)).toMatchObject({ errorType: 'Error', errorMessage: 'callback error' });
      expect(json((await invoke('legacy-succeed')).payload)).toEqual({ legacy: 'succeed' });
      expect(json((await invoke('legacy-fail')).payload)).toMatchObject({ errorType: 'Error', errorMessage: 'legacy failure' });
    });

    it('tells the handler how much time it has left', async () => {
      create('remaining', 'callbacks.remaining', { Timeout: 5 });
      const remaining = json((await invoke('remaining')).payload) as number;
      expect(remaining).toBeGreaterThan(4_000);
      expect(remaining).toBeLessThanOrEqual(5_000);
    });

    it('lets a callback called inside an async handler win, as the first completion counts', async () => {
      create('cb-in-async', 'callbacks.asyncWithCallback');
      expect(json((await invoke('cb-in-async')).payload)).toBe('from-callback');
    });

    it('does not count a slow init against the function timeout', async () => {
      create('slow-init', 'slow-init.handler', { Timeout: 1 });
      const result = await invoke('slow-init');
      expect(result.functionError).toBeUndefined();
      expect(json(result.payload).remaining).toBeGreaterThan(800);
      expect(Number(/\tInit Duration: ([\d.]+) ms/.exec(result.log)?.[1])).toBeGreaterThan(1400);
    });

    it('runs ESM handlers from nested paths and nested exports', async () => {
      create('esm-nested', 'esm/nested/deep.handlers.main');
      expect(json((await invoke('esm-nested', { x: 1 })).payload)).toEqual({ esm: true, echo: { x: 1 } });
    });
  });

  describe('failures stay inside their context', () => {
    it('stops a for(;;){} handler at its timeout; the daemon keeps serving and the next call is a cold start', async () => {
      create('spinner', 'failures.busyLoop', { Timeout: 1 });
      create('bystander', 'counter.handler');
      const started = Date.now();
      const [timedOut, bystander] = await Promise.all([invoke('spinner'), invoke('bystander')]);
      expect(Date.now() - started).toBeLessThan(2_000); // timeout + 1 s
      expect(timedOut.functionError).toBe('Unhandled');
      expect(json(timedOut.payload)).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${timedOut.requestId} Error: Task timed out after 1.00 seconds` });
      expect(timedOut.log).toContain(`${timedOut.requestId} Task timed out after 1.00 seconds`);
      expect(timedOut.log).toMatch(/\tStatus: timeout\t/);
      // Measured by the thread before it was stopped, not made up.
      expect(Number(/\tMax Memory Used: (\d+) MB\t/.exec(timedOut.log)?.[1])).toBeGreaterThan(0);
      expect(json(bystander.payload)).toEqual({ count: 1 });
      const next = await invoke('spinner');
      expect(isColdStart(next.log)).toBe(true);
    });

    it('fails a heap hog as Runtime.OutOfMemory', async () => {
      create('heap-hog', 'failures.heapHog', { Timeout: 30 });
      const result = await invoke('heap-hog');
      expect(json(result.payload).errorType).toBe('Runtime.OutOfMemory');
      expect(result.log).toMatch(/\tStatus: error\tError Type: Runtime.OutOfMemory\t/);
      expect(result.log).toMatch(/\tMax Memory Used: 128 MB\t/);
    });

    it('fails a Buffer hog as Runtime.OutOfMemory, with the real peak in REPORT', async () => {
      create('buffer-hog', 'failures.bufferHog', { Timeout: 30 });
      const result = await invoke('buffer-hog');
      expect(json(result.payload).errorType).toBe('Runtime.OutOfMemory');
      const used = Number(/\tMax Memory Used: (\d+) MB\t/.exec(result.log)?.[1]);
      expect(used).toBeGreaterThan(128);
      // The hog wanted 16 GB; it was stopped a few allocations past its limit.
      expect(used).toBeLessThan(256);
    });

    it('fails a hog of Buffer.from copies as Runtime.OutOfMemory before it takes the machine', async () => {
      create('buffer-from-hog', 'failures.bufferFromHog', { Timeout: 30 });
      const result = await invoke('buffer-from-hog');
      expect(json(result.payload).errorType).toBe('Runtime.OutOfMemory');
      expect(Number(/\tMax Memory Used: (\d+) MB\t/.exec(result.log)?.[1])).toBeLessThan(256);
    });

    it('fails an unhandled rejection as Runtime.UnhandledPromiseRejection and resets the context', async () => {
      create('rejecter', 'failures.unhandledRejection');
      const result = await invoke('rejecter');
      expect(json(result.payload)).toMatchObject({ errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: 'RangeError: nobody caught me' });
      expect(isColdStart((await invoke('rejecter')).log)).toBe(true);
    });

    it('gives each failure its error type: throw, import error, missing export, process.exit', async () => {
      create('thrower', 'failures.thrower');
      create('import-error', 'broken-import.handler');
      create('missing-export', 'failures.nothingHere');
      create('exiter', 'failures.exiter');
      const thrown = json((await invoke('thrower')).payload);
      expect(thrown).toMatchObject({ errorType: 'TypeError', errorMessage: 'the event was not what I expected' });
      expect(thrown.trace[0]).toBe('TypeError: the event was not what I expected');
      expect(json((await invoke('import-error')).payload).errorType).toBe('Runtime.ImportModuleError');
      expect(json((await invoke('missing-export')).payload)).toMatchObject({ errorType: 'Runtime.HandlerNotFound', errorMessage: 'failures.nothingHere is undefined or not exported' });
      create('not-a-function', 'failures.notAFunction');
      expect(json((await invoke('not-a-function')).payload)).toMatchObject({ errorType: 'Runtime.HandlerNotFound', errorMessage: 'failures.notAFunction is not a function' });
      const exited = await invoke('exiter');
      expect(json(exited.payload)).toEqual({ errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${exited.requestId} Error: Runtime exited with error: exit status 3` });
      // None of it touched the daemon: another function still answers.
      create('after-failures', 'counter.handler');
      expect(json((await invoke('after-failures')).payload)).toEqual({ count: 1 });
    });

    it('refuses an event that is not JSON with InvalidRequestContentException', async () => {
      create('strict-json', 'counter.handler');
      await expect(harness.daemon.service.invoke({ functionName: 'strict-json', payload: new TextEncoder().encode('{not json') })).rejects.toMatchObject({
        code: 'InvalidRequestContentException',
        message: expect.stringMatching(/^Could not parse request body into json: Could not parse payload into json: /),
      });
    });
  });
});
