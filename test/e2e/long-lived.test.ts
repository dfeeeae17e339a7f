/**
 * A warm context keeps nothing of finished invocations: many large events through one context leave its memory
 * where it was (a pending event-loop check once kept each invocation's event alive, 6 MB a call, until the
 * context ran out of memory).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { zipOf } from '../helpers/zip.js';

let harness: TestDaemon;
beforeAll(async () => {
  harness = await startDaemon();
  harness.daemon.service.createFunction({ FunctionName: 'ignores', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zipOf('exports.handler = async () => "ok";') }, MemorySize: 512 });
});
afterAll(async () => harness.stop());

it('holds 60 invocations of 6 MB events in one context without its memory growing', async () => {
  const text = JSON.stringify('x'.repeat(6 * 1024 * 1024 - 100));
  const used: number[] = [];
  for (let i = 0; i < 60; i++) {
    const result = await harness.daemon.service.invoke({ functionName: 'ignores', payload: new TextEncoder().encode(text) });
    expect(result.functionError).toBeUndefined();
    used.push(Number(/Max Memory Used: (\d+) MB/.exec(result.log)?.[1]));
  }
  // Kept events would add 6 MB a call: 360 MB by the end.
  expect(Math.max(...used.slice(-10))).toBeLessThan(Math.max(...used.slice(0, 10)) + 60);
});
