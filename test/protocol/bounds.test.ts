/**
 * The WebSocket protocol's bounds against a real daemon (protocol/README.md, "Limits"): a frame is refused
 * by its structure before it is decoded (values, depth, extension types), one connection runs at most 32
 * requests at once, and a client that does not read its responses holds a bounded amount of the daemon's
 * memory and is closed (1008). Each attack runs while a well-behaved client keeps being served.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { strToU8, zipSync } from 'fflate';
import { Packr } from 'msgpackr';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdadClient } from '../../dist/clients/node/index.js';
import { FRAME_LIMITS } from '../../dist/protocol/frame-limits.js';
import { msgpackCodec, protobufCodec } from '../../dist/protocol/codec.js';
import { FLOW_LIMITS } from '../../dist/daemon/transport/ws-flow.js';
import { LIMITS } from '../../dist/daemon/limits.js';
import { ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { parsePrometheus } from '../helpers/prometheus.js';

const MSGPACK = 'lambdad.v1.msgpack';
const PROTOBUF = 'lambdad.v1.protobuf';
/** Generous: a refused frame is answered within milliseconds; the bound is for a loaded 2-core machine. */
const REFUSED_WITHIN_MS = 2_000;
const MiB = 1024 * 1024;

/** The function of these tests: waits `ms`, logs `lines` lines of 1 KiB, returns a string of `bytes` or `{}`. */
const FUNCTION_SOURCE = `exports.handler = async (event) => {
  if (event.ms) await new Promise((resolve) => setTimeout(resolve, event.ms));
  for (let i = 0; i < (event.lines ?? 0); i++) console.log(String(i).padStart(1024, '.'));
  return event.bytes ? 'x'.repeat(event.bytes) : {};
};`;
const FUNCTION = 'bounds';
const encoder = new TextEncoder();
const event = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));
/** Packs anything msgpackr can, dates as its timestamp extension type. */
const packr = new Packr({ useRecords: false });

// A forced collection before each memory reading, so that it counts what is held, not garbage.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
function heldMiB(): number {
  collectGarbage();
  collectGarbage();
  const { rss } = process.memoryUsage();
  return rss / MiB;
}

type Event = { readonly type: 'message'; readonly data: Buffer } | { readonly type: 'close'; readonly code: number; readonly reason: string };

/** A raw WebSocket whose messages and close are read one at a time. */
class Connection {
  readonly #events: Event[] = [];
  #waiter: (() => void) | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.#push({ type: 'message', data }));
    ws.on('close', (code: number, reason: Buffer) => this.#push({ type: 'close', code, reason: reason.toString() }));
    ws.on('error', () => undefined);
  }

  static open(url: string, protocol = MSGPACK): Promise<Connection> {
    const ws = new WebSocket(url, protocol, { perMessageDeflate: false, maxPayload: 256 * MiB });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Connection(ws)));
      ws.once('error', reject);
    });
  }

  #push(event: Event): void {
    this.#events.push(event);
    this.#waiter?.();
  }

  /** The next message or close, or null after `timeoutMs`. */
  async next(timeoutMs = 10_000): Promise<Event | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.#events.length === 0 && Date.now() < deadline) {
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, deadline - Date.now());
        this.#waiter = () => {
          clearTimeout(timer);
          wake();
        };
      });
      this.#waiter = null;
    }
    return this.#events.shift() ?? null;
  }

  /** Reads until the close, counting the messages before it. */
  async untilClose(timeoutMs = 30_000): Promise<{ messages: number; code: number; reason: string } | null> {
    let messages = 0;
    for (;;) {
      const next = await this.next(timeoutMs);
      if (next === null) return null;
      if (next.type === 'close') return { messages, code: next.code, reason: next.reason };
      messages += 1;
    }
  }
}

function response(codec: typeof msgpackCodec, event: Event | null): Record<string, any> {
  expect(event?.type).toBe('message');
  return codec.decodeServerMessage((event as { data: Buffer }).data).response as Record<string, any>;
}

let harness: TestDaemon;
let url: string;
let steady: LambdadClient;

/** The daemon's /metrics, on a connection of its own (a kept-alive one may be closed under the request). */
function scrapeMetrics(): Promise<ReturnType<typeof parsePrometheus>> {
  return new Promise((resolve, reject) => {
    get(`${harness.daemon.url}/metrics`, { agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(parsePrometheus(body)));
      response.on('error', reject);
    }).on('error', reject);
  });
}

/** Execution contexts in a state, or live ones (idle and busy), as /metrics counts them. */
async function contexts(state?: 'busy'): Promise<number> {
  const { samples } = await scrapeMetrics();
  return samples
    .filter((sample) => sample.name === 'lambda_execution_environments' && (state === undefined ? sample.labels.state !== 'spare' : sample.labels.state === state))
    .reduce((total, sample) => total + sample.value, 0);
}

/** A round of real work on the well-behaved connection: must keep succeeding whatever the others do. */
async function steadyRound(): Promise<void> {
  const configuration = await steady.getFunctionConfiguration({ FunctionName: FUNCTION });
  expect(configuration.State).toBe('Active');
  expect((await steady.invoke(FUNCTION, {})).StatusCode).toBe(200);
}

beforeAll(async () => {
  // Room for the ~1 MiB of log lines the slow readers ask for (the default keeps 1 MiB per function).
  harness = await startDaemon({ isolation: 'thread', 'log-bytes-per-function': String(4 * MiB) });
  url = `${harness.daemon.url.replace(/^http/, 'ws')}/ws`;
  steady = await LambdadClient.connect({ url: harness.daemon.url, requestTimeoutMs: 10_000, invokeTimeoutMs: 10_000 });
  await steady.createFunction({ FunctionName: FUNCTION, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zipSync({ 'index.js': strToU8(FUNCTION_SOURCE) }) }, Timeout: 60 });
  while ((await steady.getFunctionConfiguration({ FunctionName: FUNCTION })).State !== 'Active') await new Promise((resolve) => setTimeout(resolve, 50));
  await steadyRound();
});

afterAll(async () => {
  steady?.close();
  await harness?.stop();
});

describe('frames refused by their structure', () => {
  /** `{id, Invoke: <value>}` in msgpack, with `value` as raw bytes. */
  const invokeWith = (id: number, value: Uint8Array): Buffer => Buffer.concat([Buffer.from([0x82, 0xa2, 0x69, 0x64]), packr.pack(id), packr.pack('Invoke'), value]);
  /** An array32 of `count` nils: 5 bytes of header, then one byte per value. */
  const nils = (count: number): Buffer => {
    const frame = Buffer.alloc(5 + count, 0xc0);
    frame[0] = 0xdd;
    frame.writeUInt32BE(count, 1);
    return frame;
  };

  it('closes with 1007 on a 50 MB frame of 50 million nils within milliseconds of reading it, and keeps serving', async () => {
    const connection = await Connection.open(url);
    const started = performance.now();
    connection.ws.send(nils(50_000_000));
    const closed = await connection.untilClose(REFUSED_WITHIN_MS * 5);
    const elapsedMs = performance.now() - started;
    expect(closed).toMatchObject({ messages: 0, code: 1007 });
    // Sending and unmasking 50 MB is most of this; decoding the nils took 3 s before they were bounded.
    expect(elapsedMs).toBeLessThan(REFUSED_WITHIN_MS);
    await steadyRound();
  });

  it('answers SerializationException under the id when the nils are inside a request, and the connection stays open', async () => {
    const connection = await Connection.open(url);
    const started = performance.now();
    connection.ws.send(invokeWith(7, nils(50_000_000)));
    const answer = response(msgpackCodec, await connection.next(REFUSED_WITHIN_MS * 5));
    expect(performance.now() - started).toBeLessThan(REFUSED_WITHIN_MS);
    expect(answer).toEqual({ id: 7, Error: { Code: 'SerializationException', Status: 400, Message: expect.stringContaining(`at most ${FRAME_LIMITS.maxValues} values`) } });
    connection.ws.send(msgpackCodec.encodeRequest({ id: 8, GetFunctionConfiguration: { FunctionName: FUNCTION } }));
    expect(response(msgpackCodec, await connection.next())).toMatchObject({ id: 8, GetFunctionConfiguration: { FunctionName: FUNCTION } });
    connection.ws.terminate();
  });

  it('refuses a frame nested deeper than the limit: typed under the id, or a close without one', async () => {
    const connection = await Connection.open(url);
    const deep = (levels: number): Buffer => Buffer.concat([Buffer.alloc(levels, 0x91), Buffer.from([0xc0])]);
    connection.ws.send(invokeWith(9, deep(1_000)));
    expect(response(msgpackCodec, await connection.next())).toEqual({ id: 9, Error: { Code: 'SerializationException', Status: 400, Message: expect.stringContaining(`at most ${FRAME_LIMITS.maxDepth} maps and arrays deep`) } });
    // Within the limit (the request's map and 31 arrays): read, then checked against the schema as usual.
    connection.ws.send(invokeWith(10, deep(FRAME_LIMITS.maxDepth - 1)));
    expect(response(msgpackCodec, await connection.next())).toMatchObject({ id: 10, Error: { Code: 'ValidationException', Message: expect.stringContaining("'functionName'") } });
    connection.ws.send(deep(100_000));
    expect(await connection.untilClose()).toMatchObject({ messages: 0, code: 1007 });
  });

  it('refuses msgpack extension types (a date is the timestamp extension): typed under an id read before it, else a close', async () => {
    const connection = await Connection.open(url);
    connection.ws.send(packr.pack({ id: 11, Invoke: { FunctionName: FUNCTION, Payload: new Date() } }));
    expect(response(msgpackCodec, await connection.next())).toEqual({ id: 11, Error: { Code: 'SerializationException', Status: 400, Message: expect.stringContaining('extension types are not accepted') } });
    // The same with the id after the date: nothing the frame holds can be attributed to a request.
    connection.ws.send(packr.pack({ Invoke: { FunctionName: FUNCTION, Payload: new Date() }, id: 12 }));
    expect(await connection.untilClose()).toMatchObject({ messages: 0, code: 1007 });
  });

  it('refuses a protobuf frame with a million repeated elements, under its id', async () => {
    // FilterLogEvents (47) {FunctionName (1): "bounds", LogStreamNames (2): "" × 1,000,000}: 2 MB.
    const names = Buffer.alloc(2 * 1_000_000);
    for (let i = 0; i < names.length; i += 2) names[i] = 0x12;
    const input = Buffer.concat([Buffer.from([0x0a, FUNCTION.length]), Buffer.from(FUNCTION), names]);
    const length: number[] = [];
    for (let rest = input.length; ; rest = Math.floor(rest / 128)) {
      if (rest < 128) {
        length.push(rest);
        break;
      }
      length.push((rest & 0x7f) | 0x80);
    }
    const connection = await Connection.open(url, PROTOBUF);
    const started = performance.now();
    connection.ws.send(Buffer.concat([Buffer.from([0x08, 13, 0xfa, 0x02, ...length]), input]));
    const answer = response(protobufCodec, await connection.next());
    expect(performance.now() - started).toBeLessThan(REFUSED_WITHIN_MS);
    expect(answer).toMatchObject({ id: 13, Error: { Code: 'SerializationException', Status: 400, Message: expect.stringContaining(`at most ${FRAME_LIMITS.maxValues} values`) } });
    // Within the limits, the same operation is served on the same connection.
    connection.ws.send(protobufCodec.encodeRequest({ id: 14, FilterLogEvents: { FunctionName: FUNCTION, LogStreamNames: ['a', 'b'], Limit: 1 } }));
    expect(response(protobufCodec, await connection.next())).toMatchObject({ id: 14, FilterLogEvents: {} });
    connection.ws.terminate();
  });

  it.each(['msgpack', 'protobuf'] as const)('still takes the largest legitimate frame, a zip of almost 50 MB (%s)', async (codecName) => {
    const blob = randomBytes(LIMITS.zippedCodeMaxBytes - 64 * 1024);
    const zip = zipSync({ 'index.js': strToU8(FUNCTION_SOURCE), 'blob.bin': [blob, { level: 0 }] });
    expect(zip.length).toBeGreaterThan(LIMITS.zippedCodeMaxBytes - 128 * 1024);
    expect(zip.length).toBeLessThanOrEqual(LIMITS.zippedCodeMaxBytes);
    const client = await LambdadClient.connect({ url: harness.daemon.url, codec: codecName, requestTimeoutMs: 60_000 });
    try {
      const name = `large-${codecName}`;
      const created = await client.createFunction({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zip } });
      expect(created.CodeSize).toBe(zip.length);
      await expect.poll(async () => (await client.getFunctionConfiguration({ FunctionName: name })).State, { timeout: 30_000 }).toBe('Active');
      expect((await client.invoke(name, {})).StatusCode).toBe(200);
      await client.deleteFunction({ FunctionName: name });
    } finally {
      client.close();
    }
  }, 120_000);
});

describe('a client that does not read', () => {
  it('holds a bounded share of memory per connection, is closed with 1008, and others are served meanwhile', async () => {
    const READERS = 3;
    const REQUESTS = 100;
    // ~1 MiB of log lines: every GetLogEvents below answers all of them.
    expect((await steady.invoke(FUNCTION, { lines: 1_000 })).StatusCode).toBe(200);
    const logs = await steady.getLogEvents({ FunctionName: FUNCTION, Limit: 10_000 });
    expect(msgpackCodec.encodeServerMessage({ response: { id: 1, GetLogEvents: logs } }).length).toBeGreaterThan(MiB);
    const baseline = heldMiB();
    const readers = await Promise.all(Array.from({ length: READERS }, () => Connection.open(url)));
    for (const reader of readers) {
      reader.ws.pause();
      for (let id = 1; id <= REQUESTS; id++) reader.ws.send(msgpackCodec.encodeRequest({ id, GetLogEvents: { FunctionName: FUNCTION, Limit: 10_000 } }));
    }
    // Unread: up to 100 MiB each if the daemon answered them all.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await steadyRound();
    const held = heldMiB() - baseline;
    console.log(`${READERS} slow readers of ${REQUESTS} × ~1 MiB: the daemon holds ${held.toFixed(1)} MiB more (RSS)`);
    // The bound: the 8 MiB where a connection stops being read, one response past it, and the allocator's
    // slack (measured: about 14 MiB each; without the bounds, about 100 MiB each).
    expect(held / READERS).toBeLessThan(FLOW_LIMITS.sendHighWaterBytes / MiB + 24);

    // Over the high-water mark for longer than backedUpMaxMs: closed, its responses after the close dropped.
    await new Promise((resolve) => setTimeout(resolve, FLOW_LIMITS.backedUpMaxMs + 2_000));
    await steadyRound();
    for (const reader of readers) {
      reader.ws.resume();
      const closed = await reader.untilClose();
      expect(closed).toMatchObject({ code: 1008, reason: expect.stringContaining('stayed unread') });
      expect(closed!.messages).toBeLessThan(REQUESTS / 2);
    }
  }, 60_000);

  it(`is closed with 1008 when its unsent responses would pass ${FLOW_LIMITS.sendMaxBytes / MiB} MiB`, async () => {
    const RESULT_BYTES = 6_000_000;
    const INVOCATIONS = Math.ceil(FLOW_LIMITS.sendMaxBytes / RESULT_BYTES) + 3;
    expect(RESULT_BYTES).toBeLessThan(LIMITS.syncResponseMaxBytes);
    const reader = await Connection.open(url);
    reader.ws.pause();
    for (let id = 1; id <= INVOCATIONS; id++) reader.ws.send(msgpackCodec.encodeRequest({ id, Invoke: { FunctionName: FUNCTION, Payload: event({ bytes: RESULT_BYTES, ms: 200 }) } }));
    // Every invocation has finished once the contexts are idle again.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await expect.poll(() => contexts('busy'), { timeout: 30_000 }).toBe(0);
    await steadyRound();
    reader.ws.resume();
    const closed = await reader.untilClose();
    expect(closed).toMatchObject({ code: 1008, reason: expect.stringContaining(`would pass ${FLOW_LIMITS.sendMaxBytes / MiB} MiB`) });
    // What was unsent when it closed (at most sendMaxBytes), and what the kernel's buffers had taken.
    expect(closed!.messages).toBeLessThan(INVOCATIONS - 1);
  }, 60_000);

  it('is not closed when it reads: a burst of large results on a connection that takes them', async () => {
    const client = await LambdadClient.connect({ url: harness.daemon.url, invokeTimeoutMs: 30_000 });
    try {
      const results = await Promise.all(Array.from({ length: 8 }, () => client.invoke(FUNCTION, { bytes: 6_000_000, ms: 20 })));
      for (const result of results) expect(result.Payload.length).toBe(6_000_002);
    } finally {
      client.close();
    }
  }, 60_000);
});

describe('requests in flight on one connection', () => {
  it(`runs at most ${FLOW_LIMITS.maxInFlight} of 5,000 pipelined invocations at once, and answers every one`, async () => {
    const INVOCATIONS = 5_000;
    const before = await contexts();
    const connection = await Connection.open(url);
    // All at once: the daemon reads them as fast as the cap lets it.
    for (let id = 1; id <= INVOCATIONS; id++) connection.ws.send(msgpackCodec.encodeRequest({ id, Invoke: { FunctionName: FUNCTION, Payload: event({ ms: 20 }) } }));

    let most = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, await contexts());
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const answered = new Set<number>();
    const failures: string[] = [];
    try {
      while (answered.size < INVOCATIONS) {
        const next = await connection.next(60_000);
        if (next?.type !== 'message') throw new Error(`after ${answered.size} answers: ${JSON.stringify(next)}`);
        const answer = msgpackCodec.decodeServerMessage(next.data).response!;
        if (answer.Invoke?.StatusCode !== 200 && failures.length < 5) failures.push(JSON.stringify(answer).slice(0, 300));
        answered.add(answer.id);
      }
    } finally {
      sampling = false;
      await sampler;
    }
    connection.ws.terminate();
    most = Math.max(most, await contexts());
    expect(failures).toEqual([]);
    console.log(`${INVOCATIONS} pipelined invocations on one connection: ${most - before} execution contexts at most`);
    // Every context this flood made is still warm: none beyond the cap were ever made for it.
    expect(most - before).toBeLessThanOrEqual(FLOW_LIMITS.maxInFlight);
    // And the cap was what bounded it, not a lack of demand.
    expect(most - before).toBeGreaterThan(FLOW_LIMITS.maxInFlight / 2);
    await steadyRound();
  }, 180_000);
});

describe('protocol/README.md', () => {
  it('states every bound the daemon enforces', () => {
    const readme = readFileSync(new URL('../../protocol/README.md', import.meta.url), 'utf8');
    expect(readme).toContain(`at most ${FRAME_LIMITS.maxValues.toLocaleString('en-US')} values`);
    expect(readme).toContain(`at most ${FRAME_LIMITS.maxDepth} levels of nesting`);
    expect(readme).toContain(`${FLOW_LIMITS.maxInFlight} requests in flight`);
    expect(readme).toContain(`${FLOW_LIMITS.sendHighWaterBytes / MiB} MiB unsent stops reading`);
    expect(readme).toContain(`under ${FLOW_LIMITS.sendLowWaterBytes / MiB} MiB again`);
    expect(readme).toContain(`${FLOW_LIMITS.sendMaxBytes / MiB} MiB unsent at most`);
    expect(readme).toContain(`${FLOW_LIMITS.backedUpMaxMs / 1000} s over ${FLOW_LIMITS.sendHighWaterBytes / MiB} MiB`);
  });
});
