/**
 * Function logs as CloudWatch shows them: the platform's START / END / REPORT lines in Lambda's exact format,
 * console output prefixed like the Node.js runtime's, one stream per execution context, a bounded store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endLine, reportLine, startLine, timeoutLine } from '../../dist/daemon/observability/report.js';
import { event, FIXTURES, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const START = new RegExp(`^START RequestId: (${UUID}) Version: (\\$LATEST|\\d+)$`);
const END = new RegExp(`^END RequestId: (${UUID})$`);
const REPORT = new RegExp(
  `^REPORT RequestId: (${UUID})\\tDuration: (\\d+\\.\\d{2}) ms\\tBilled Duration: (\\d+) ms\\tMemory Size: (\\d+) MB\\tMax Memory Used: (\\d+) MB\\t(?:Init Duration: (\\d+\\.\\d{2}) ms\\t)?(?:Status: (timeout|error)\\t(?:Error Type: ([\\w.]+)\\t)?)?$`,
);
const CONSOLE = new RegExp(`^(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z)\\t(${UUID}|undefined)\\t(INFO|WARN|ERROR|DEBUG|TRACE)\\t(.*)$`, 's');

describe('platform lines', () => {
  it('formats START, END and REPORT exactly as Lambda does', () => {
    const id = '8f507cfc-1a2b-4697-b07a-ac58fc914c95';
    expect(startLine(id, '$LATEST')).toBe(`START RequestId: ${id} Version: $LATEST`);
    expect(endLine(id)).toBe(`END RequestId: ${id}`);
    expect(reportLine({ requestId: id, durationMs: 15.742, memorySizeMb: 128, maxMemoryUsedMb: 56, initDurationMs: 130.49 })).toBe(
      `REPORT RequestId: ${id}\tDuration: 15.74 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB\tMax Memory Used: 56 MB\tInit Duration: 130.49 ms\t`,
    );
    expect(reportLine({ requestId: id, durationMs: 1000.4, memorySizeMb: 128, maxMemoryUsedMb: 128, status: { kind: 'error', errorType: 'Runtime.OutOfMemory' } })).toBe(
      `REPORT RequestId: ${id}\tDuration: 1000.40 ms\tBilled Duration: 1001 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory\t`,
    );
    expect(timeoutLine(Date.UTC(2024, 3, 8, 16, 56, 23, 120), id, 3)).toBe(`2024-04-08T16:56:23.120Z ${id} Task timed out after 3.00 seconds`);
  });
});

describe('an invocation\'s log', () => {
  let harness: TestDaemon;
  beforeAll(async () => {
    harness = await startDaemon({ 'log-bytes-per-function': '4096' });
    harness.daemon.service.createFunction({ FunctionName: 'logger', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'logs.handler', Code: { Directory: `${FIXTURES}/behaviours` } });
  });
  afterAll(async () => harness.stop());

  it('is init output, START, console output, END, REPORT — parsed line by line', async () => {
    const result = await harness.daemon.service.invoke({ functionName: 'logger', payload: event({ name: 'reader' }) });
    const lines = result.log.split('\n');
    expect(lines.pop()).toBe(''); // every line ends with a newline
    expect(lines).toHaveLength(8);
    expect(CONSOLE.exec(lines[0]!)?.slice(2)).toEqual(['undefined', 'INFO', 'loading module']);
    expect(START.exec(lines[1]!)?.slice(1)).toEqual([result.requestId, '$LATEST']);
    expect(CONSOLE.exec(lines[2]!)?.slice(2)).toEqual([result.requestId, 'INFO', "hello { from: 'reader' }"]);
    expect(CONSOLE.exec(lines[3]!)?.slice(2)).toEqual([result.requestId, 'WARN', 'careful']);
    expect(CONSOLE.exec(lines[4]!)?.slice(2)).toEqual([result.requestId, 'ERROR', 'broken']);
    expect(lines[5]).toBe('raw line');
    expect(END.exec(lines[6]!)?.[1]).toBe(result.requestId);
    const fields = REPORT.exec(lines[7]!);
    expect(fields).not.toBeNull();
    const [, id, duration, billed, memory, maxUsed, init] = fields!;
    expect(id).toBe(result.requestId);
    expect(Number(billed)).toBe(Math.max(1, Math.ceil(Number(duration))));
    expect(memory).toBe('128');
    expect(Number(maxUsed)).toBeGreaterThan(0);
    expect(Number(maxUsed)).toBeLessThanOrEqual(128);
    expect(init).toBeDefined();
  });

  it('is kept in the log group /aws/lambda/<name>, in the context\'s stream, across a restart', async () => {
    const result = await harness.daemon.service.invoke({ functionName: 'logger', payload: event({ name: 'kept' }) });
    harness = await harness.restart();
    const events = harness.daemon.service.getLogEvents({ logGroupName: '/aws/lambda/logger' });
    const mine = events.filter((stored) => stored.message.includes(result.requestId));
    expect(mine.map((stored) => stored.message.split('\t')[0]!.split(' ')[0])).toEqual(['START', expect.any(String), expect.any(String), expect.any(String), 'END', 'REPORT']);
    expect(new Set(mine.map((stored) => stored.logStreamName)).size).toBe(1);
    expect(mine[0]!.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
  });

  it('keeps at most the configured bytes per function, dropping the oldest events', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await harness.daemon.service.invoke({ functionName: 'logger', payload: event({ name: `n${i}` }) })).requestId);
    const events = harness.daemon.service.getLogEvents({ logGroupName: '/aws/lambda/logger' });
    const bytes = events.reduce((sum, stored) => sum + Buffer.byteLength(stored.message) + 26, 0);
    expect(bytes).toBeLessThanOrEqual(4096);
    expect(events.some((stored) => stored.message.includes(ids.at(-1)!))).toBe(true);
    expect(events.some((stored) => stored.message.includes(ids[0]!))).toBe(false);
  });
});
