/**
 * X-Ray as Lambda does it: lambdad continues the caller's trace, sends the service and function segments of
 * sampled invocations to its collector, and the real aws-xray-sdk-core in a handler adds its subsegments to the
 * same trace. The collector answers trace queries through the SDK and the CLI, and forwards what it receives.
 */
import { createSocket, type Socket } from 'node:dgram';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdadClient } from '../../dist/clients/node/index.js';
import { bundleFunction } from '../helpers/bundle.js';
import { runCli } from '../helpers/cli.js';
import { event, FIXTURES, json, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';

const HEADER = /^Root=(1-[0-9a-f]{8}-[0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=([01])$/;

let harness: TestDaemon;
let client: LambdadClient;
/** The instrumented handler with aws-xray-sdk-core bundled in. */
let traced: string;

function newRoot(): string {
  const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  return `1-${Math.floor(Date.now() / 1000).toString(16)}-${hex(24)}`;
}

type Doc = { id: string; name: string; parent_id?: string; origin?: string; trace_id?: string; fault?: boolean; annotations?: Record<string, unknown>; subsegments?: Doc[] };

/** The trace's segments once `ready` holds for them (documents arrive over UDP, stored within ~50 ms). */
async function traceOf(traceId: string, ready: (docs: Doc[]) => boolean): Promise<Doc[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { Traces } = await client.batchGetTraces({ TraceIds: [traceId] });
    const docs = (Traces?.[0]?.Segments ?? []).map((segment) => JSON.parse(segment.Document) as Doc);
    if (ready(docs) || Date.now() > deadline) return docs;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const functionSegment = (docs: Doc[]): Doc | undefined => docs.find((doc) => doc.origin === 'AWS::Lambda::Function');
const withUserWork = (docs: Doc[]): boolean => functionSegment(docs)?.subsegments?.some((sub) => sub.name === 'user-work') === true;

beforeAll(async () => {
  traced = await bundleFunction(join(FIXTURES, 'xray', 'index.js'));
  harness = await startDaemon();
  harness.daemon.service.createFunction({ FunctionName: 'traced', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: traced } });
  harness.daemon.service.createFunction({ FunctionName: 'active', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: traced }, TracingConfig: { Mode: 'Active' } });
  client = await LambdadClient.connect({ url: harness.daemon.url });
});
afterAll(async () => {
  client.close();
  await harness.stop();
  rmSync(traced, { recursive: true, force: true });
});

describe('a traced invocation', () => {
  it("continues the caller's trace: same Root, a new Parent that is the function segment, under the caller's segment", async () => {
    const root = newRoot();
    const callerParent = '53995c3f42cd8ad8';
    const result = await client.invoke('traced', {}, { traceHeader: `Root=${root};Parent=${callerParent};Sampled=1`, logType: 'Tail' });
    expect(result.FunctionError).toBeUndefined();
    const [, headerRoot, parent, sampled] = HEADER.exec(result.TraceHeader ?? '') ?? [];
    expect(headerRoot).toBe(root);
    expect(sampled).toBe('1');
    expect(parent).not.toBe(callerParent);
    const seen = json(result.Payload!);
    expect(seen.traceId).toBe(result.TraceHeader);
    expect(seen.daemon).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(seen.missing).toBe('LOG_ERROR');
    expect(Buffer.from(result.LogResult!, 'base64').toString()).toContain(`\nXRAY TraceId: ${root}\tSegmentId: ${parent}\tSampled: true\t`);

    const docs = await traceOf(root, withUserWork);
    const service = docs.find((doc) => doc.origin === 'AWS::Lambda');
    const fn = functionSegment(docs);
    expect(service).toMatchObject({ name: 'traced', parent_id: callerParent, trace_id: root });
    expect(fn).toMatchObject({ id: parent, name: 'traced', parent_id: service!.id, trace_id: root });
    // The first invocation of a context was a cold start: Initialization comes first.
    const names = fn!.subsegments!.map((sub) => sub.name);
    expect(names.slice(0, 3)).toEqual(['Initialization', 'Invocation', 'Overhead']);
    // The SDK's own subsegment, sent by the handler on its own, sits under the function segment.
    const userWork = fn!.subsegments!.find((sub) => sub.name === 'user-work');
    expect(userWork?.annotations).toEqual({ answer: 42 });
  });

  it('marks a failed invocation as a fault, and the trace summary says so', async () => {
    const root = newRoot();
    const result = await client.invoke('traced', { fail: true }, { traceHeader: `Root=${root};Sampled=1` });
    expect(result.FunctionError).toBe('Unhandled');
    const docs = await traceOf(root, withUserWork);
    const invocation = functionSegment(docs)!.subsegments!.find((sub) => sub.name === 'Invocation') as Doc & { cause?: { exceptions: { type: string; message: string }[] } };
    expect(invocation.fault).toBe(true);
    expect(invocation.cause?.exceptions[0]).toMatchObject({ type: 'Error', message: 'asked to fail' });
    // A warm invocation has no Initialization.
    expect(functionSegment(docs)!.subsegments!.map((sub) => sub.name)).not.toContain('Initialization');

    const { TraceSummaries } = await client.getTraceSummaries({ StartTime: Date.now() / 1000 - 60, EndTime: Date.now() / 1000 + 1 });
    const summary = TraceSummaries?.find((s) => s.Id === root);
    expect(summary).toMatchObject({ HasFault: true, HasError: false, IsPartial: false });
    expect(summary!.ServiceIds?.map((s) => s.Type).sort()).toEqual(['AWS::Lambda', 'AWS::Lambda::Function']);
    expect(summary!.Duration).toBeGreaterThan(0);
  });

  it('records nothing for an unsampled trace; an Active function samples a call without a header', async () => {
    const unsampled = newRoot();
    const result = await client.invoke('traced', {}, { traceHeader: `Root=${unsampled};Sampled=0` });
    expect(result.TraceHeader).toMatch(new RegExp(`^Root=${unsampled};Parent=[0-9a-f]{16};Sampled=0$`));
    // PassThrough without a header: a new trace, not sampled.
    const passThrough = await client.invoke('traced', {});
    const [, newRootId, , sampled] = HEADER.exec(passThrough.TraceHeader ?? '') ?? [];
    expect(sampled).toBe('0');
    // Active without a header: the default rule takes the first request of each second.
    let active = await client.invoke('active', {});
    for (let tries = 0; tries < 20 && !active.TraceHeader!.endsWith('Sampled=1'); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
      active = await client.invoke('active', {});
    }
    const activeRoot = HEADER.exec(active.TraceHeader!)![1]!;
    expect(withUserWork(await traceOf(activeRoot, withUserWork))).toBe(true);
    const none = await client.batchGetTraces({ TraceIds: [unsampled, newRootId!] });
    expect(none.Traces).toEqual([]);
    expect(none.UnprocessedTraceIds).toEqual([unsampled, newRootId]);
  });
});

describe('the collector', () => {
  it('keeps documents sent by anyone in the daemon format, ignores malformed datagrams, and stays up', async () => {
    const address = /^(.+):(\d+)$/.exec(json((await client.invoke('traced', {})).Payload!).daemon)!;
    const sender = createSocket('udp4');
    const root = newRoot();
    const send = (text: string): Promise<void> => new Promise((resolve) => sender.send(Buffer.from(text), Number(address[2]), address[1], () => resolve()));
    await send('not a segment');
    await send('{"format":"json","version":1}\n{"trace_id":"nope"}');
    await send(`{"format":"json","version":1}\n${JSON.stringify({ trace_id: root, id: 'abcdef0123456789', name: 'client', start_time: Date.now() / 1000, end_time: Date.now() / 1000 + 0.01, http: { response: { status: 429 } }, throttle: true })}`);
    sender.close();
    const docs = await traceOf(root, (d) => d.length > 0);
    expect(docs.map((doc) => doc.name)).toEqual(['client']);
    const { TraceSummaries } = await client.getTraceSummaries({ StartTime: Date.now() / 1000 - 60, EndTime: Date.now() / 1000 + 1 });
    expect(TraceSummaries?.find((s) => s.Id === root)).toMatchObject({ HasThrottle: true, Http: { HttpStatus: 429 } });
  });

  it('refuses a query whose range ends before it starts', async () => {
    await expect(client.getTraceSummaries({ StartTime: 100, EndTime: 50 })).rejects.toMatchObject({ code: 'InvalidRequestException' });
  });

  it('forwards every datagram to another X-Ray daemon; with its port taken, lambdad sends its segments there', async () => {
    const received: string[] = [];
    const listen = (): Promise<Socket> =>
      new Promise((resolve) => {
        const socket = createSocket('udp4');
        socket.on('message', (datagram) => received.push(datagram.toString()));
        socket.bind(0, '127.0.0.1', () => resolve(socket));
      });
    const other = await listen();
    const forwarding = await startDaemon({ 'xray-forward': `127.0.0.1:${other.address().port}` });
    // A daemon whose collector port is taken: it still starts, and its segments go to whoever holds the port.
    const taken = await startDaemon({ 'xray-address': `127.0.0.1:${other.address().port}` });
    try {
      for (const daemon of [forwarding, taken]) {
        daemon.daemon.service.createFunction({ FunctionName: 'fn', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zipOf('exports.handler = async () => 1;') } });
      }
      const forwardedRoot = newRoot();
      const takenRoot = newRoot();
      await forwarding.daemon.service.invoke({ functionName: 'fn', payload: event({}), traceHeader: `Root=${forwardedRoot};Sampled=1` });
      await taken.daemon.service.invoke({ functionName: 'fn', payload: event({}), traceHeader: `Root=${takenRoot};Sampled=1` });
      const deadline = Date.now() + 10_000;
      const count = (root: string): number => received.filter((text) => text.includes(root)).length;
      while ((count(forwardedRoot) < 2 || count(takenRoot) < 2) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(count(forwardedRoot)).toBe(2);
      expect(count(takenRoot)).toBe(2);
      expect(received.every((text) => text.startsWith('{"format":"json","version":1}\n'))).toBe(true);
    } finally {
      other.close();
      await forwarding.stop();
      await taken.stop();
    }
  });
});

describe('lambdad xray', () => {
  const lambdad = (args: string[]) => runCli(args, harness.daemon.url);

  it('get-trace-summaries lists recent traces and batch-get-traces prints one whole', async () => {
    const root = newRoot();
    await client.invoke('traced', {}, { traceHeader: `Root=${root};Sampled=1` });
    await traceOf(root, withUserWork);
    const summaries = await lambdad(['xray', 'get-trace-summaries', '--start-time', '5m']);
    expect(summaries.stderr).toBe('');
    expect(summaries.code).toBe(0);
    expect(JSON.parse(summaries.stdout).TraceSummaries.map((s: { Id: string }) => s.Id)).toContain(root);
    const traces = await lambdad(['xray', 'batch-get-traces', '--trace-ids', root]);
    expect(traces.code).toBe(0);
    const documents = JSON.parse(traces.stdout).Traces[0].Segments.map((s: { Document: string }) => JSON.parse(s.Document) as Doc);
    expect(withUserWork(documents)).toBe(true);
    const bad = await lambdad(['xray', 'get-trace-summaries', '--start-time', 'yesterday-ish']);
    expect(bad.code).toBe(252);
    expect(bad.stderr).toContain("Error parsing parameter '--start-time'");
  });
});

function zipOf(source: string): Uint8Array {
  return zipSync({ 'index.js': new TextEncoder().encode(source) });
}
