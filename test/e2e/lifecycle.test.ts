/** Context and daemon lifecycle, in both isolation modes: keep-warm reaping, and a stop that lets running invocations finish. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { event, FIXTURES, ISOLATIONS, json, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';

let harness: TestDaemon | null = null;
afterEach(async () => {
  await harness?.stop();
  harness = null;
});

function create(daemon: TestDaemon, name: string, handler: string): void {
  daemon.daemon.service.createFunction({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: handler, Code: { Directory: `${FIXTURES}/behaviours` } });
}

describe.each(ISOLATIONS)('%s isolation', (isolation) => {
  describe('keep-warm', () => {
    it('reaps a context idle past the keep-warm period: the next call is cold and its /tmp is gone, as is a reset one', async () => {
      harness = await startDaemon({ isolation, 'keep-warm-seconds': '1', 'spare-workers': '0' });
      create(harness, 'counter', 'counter.handler');
      create(harness, 'tmp-user', 'tmp.handler');
      create(harness, 'tmp-reset', 'tmp.handler');
      expect(json((await harness.daemon.service.invoke({ functionName: 'counter', payload: event({}) })).payload).count).toBe(1);
      const { tmpdir } = json((await harness.daemon.service.invoke({ functionName: 'tmp-user', payload: event({ write: 'x' }) })).payload);
      // A thread context's /tmp is a directory of the daemon's; a runner's is in its sandbox, gone with the runner.
      const tmpOnHost = isolation === 'thread' ? tmpdir : join(harness.dataDir, 'contexts');
      if (isolation === 'thread') expect(existsSync(tmpdir)).toBe(true);
      // A context its invocation reset leaves its /tmp for the next init; unclaimed, it goes after the same period.
      const reset = json((await harness.daemon.service.invoke({ functionName: 'tmp-reset', payload: event({ write: 'x' }) })).payload).tmpdir as string;
      await harness.daemon.service.invoke({ functionName: 'tmp-reset', payload: event({ then: 'exit' }) });
      if (isolation === 'thread') expect(existsSync(join(reset, 'note.txt'))).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const after = await harness.daemon.service.invoke({ functionName: 'counter', payload: event({}) });
      expect(json(after.payload).count).toBe(1);
      expect(after.log).toMatch(/\tInit Duration: /);
      // Removal follows the thread's exit; wait on it rather than on a guess.
      if (isolation === 'thread') {
        await expect.poll(() => existsSync(tmpOnHost), { timeout: 5_000 }).toBe(false);
        await expect.poll(() => existsSync(reset), { timeout: 5_000 }).toBe(false);
      } else {
        // Only the counter's new runner is left: the reaped ones and the reset one's, kept for its /tmp, are gone.
        await expect.poll(() => readdirSync(tmpOnHost).length, { timeout: 5_000 }).toBe(1);
      }
    });

    it('counts the keep-warm period from the last invocation, not the first', async () => {
      harness = await startDaemon({ isolation, 'keep-warm-seconds': '1' });
      create(harness, 'counter', 'counter.handler');
      const invoke = async (): Promise<number> => json((await harness!.daemon.service.invoke({ functionName: 'counter', payload: event({}) })).payload).count as number;
      expect(await invoke()).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(await invoke()).toBe(2);
      // 1.4 s after the first invocation, 0.7 s after the last: still the same warm context.
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(await invoke()).toBe(3);
    });
  });

  describe('stopping', () => {
    it('lets a running invocation finish before the contexts close', async () => {
      harness = await startDaemon({ isolation });
      create(harness, 'slow', 'slow.handler');
      // A reset context's directory, kept for the next init, goes with the stop too.
      create(harness, 'tmp-reset', 'tmp.handler');
      await harness.daemon.service.invoke({ functionName: 'tmp-reset', payload: event({ write: 'x', then: 'exit' }) });
      const running = harness.daemon.service.invoke({ functionName: 'slow', payload: event({ ms: 300 }) });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const stopped = harness.daemon.stop();
      const result = await running;
      await stopped;
      expect(result.functionError).toBeUndefined();
      expect(json(result.payload)).toEqual({ slept: 300 });
      // Every context's thread and temporary directory is gone once stop() resolves.
      expect(readdirSync(join(harness.dataDir, 'contexts'))).toEqual([]);
      harness = await startDaemon({ isolation }, harness.dataDir);
      // The finished invocation's log was flushed before the stores closed.
      const events = harness.daemon.service.getLogEvents({ logGroupName: '/aws/lambda/slow' });
      expect(events.some((stored) => stored.message.startsWith(`REPORT RequestId: ${result.requestId}`))).toBe(true);
    });
  });

  describe('stopping while a context is still starting', () => {
    it('finishes or refuses every invocation, and never crashes on the way out', async () => {
      harness = await startDaemon({ isolation, 'spare-workers': '0', 'shutdown-grace-seconds': '5' });
      create(harness, 'slow', 'slow.handler');
      // No spare is ready: this invocation is starting its thread when the stop begins.
      const running = harness.daemon.service.invoke({ functionName: 'slow', payload: event({ ms: 10 }) });
      const stopped = harness.daemon.stop();
      const late = harness.daemon.service.invoke({ functionName: 'slow', payload: event({ ms: 10 }) });
      await expect(late).rejects.toMatchObject({ code: 'ServiceException', message: 'lambdad is stopping: the invocation was not started' });
      expect(json((await running).payload)).toEqual({ slept: 10 });
      await stopped;
    });
  });
});
