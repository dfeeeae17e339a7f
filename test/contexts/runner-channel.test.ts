/**
 * The daemon ↔ runner channel treats a runner as untrusted: frames fed as hand-built bytes, messages fuzzed,
 * and a real process that speaks garbage — the daemon refuses what breaks the protocol and ends that runner,
 * and never throws anything else.
 */
import { createRequire } from 'node:module';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { ChannelError, encodeFrame, FRAME_MAX_BYTES, FrameReader } from '../../dist/daemon/contexts/runner/channel.js';
import { parseInitResult, parseRunnerMessage, parseRunReport, RunnerProtocolError } from '../../dist/daemon/contexts/runner/protocol.js';
import { Runner, RunnerExited } from '../../dist/daemon/contexts/runner/runner.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

function frame(body: Uint8Array): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.byteLength);
  return Buffer.concat([header, body]);
}

/** A deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('frames', () => {
  it('cuts a stream into messages however it is split', () => {
    const bytes = Buffer.concat([encodeFrame({ op: 'hello', version: 1 }), encodeFrame({ op: 'death', context: 7 })]);
    for (let cut = 0; cut <= bytes.byteLength; cut++) {
      const reader = new FrameReader();
      expect([...reader.push(bytes.subarray(0, cut)), ...reader.push(bytes.subarray(cut))]).toEqual([
        { op: 'hello', version: 1 },
        { op: 'death', context: 7 },
      ]);
    }
  });

  it('refuses a frame declared over the limit from its header alone, and a body that is cut short', () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(FRAME_MAX_BYTES + 1);
    expect(() => new FrameReader().push(header)).toThrow(ChannelError);
    expect(() => new FrameReader().push(frame(Buffer.from([0x92, 0x01])))).toThrow(ChannelError);
  });
});

describe('messages', () => {
  const report = {
    result: { kind: 'reply', reply: { outcome: { kind: 'success', payload: new Uint8Array([123, 125]) }, durationMs: 1.5, peakMemoryBytes: 1024, discard: false } },
    initLogs: [],
    logs: [{ timestamp: 1, message: 'hello' }],
    droppedLogs: 0,
    peakMemoryBytes: 1024,
    initDurationMs: 3,
  };

  it('accepts what a runner sends', () => {
    expect(parseRunnerMessage({ op: 'reply', id: 3, ok: true, alive: true, value: null })).toMatchObject({ id: 3, ok: true });
    expect(parseRunReport(packr.unpack(packr.pack(report)))).toMatchObject({ logs: [{ message: 'hello' }], initDurationMs: 3 });
    expect(parseInitResult({ reply: { ok: false, errorType: 'Runtime.InitError', errorMessage: 'x' }, initLogs: [] })).toMatchObject({ reply: { ok: false } });
  });

  it('refuses every mutation of a valid message with RunnerProtocolError, or accepts it well-typed (10,000 seeded cases)', () => {
    const next = random(20261203);
    const garbage = [null, -1, 1.5, Number.NaN, 'x', true, [], {}, new Uint8Array(2), { kind: 'exit' }, 2 ** 60];
    const mutate = (value: unknown, depth: number): unknown => {
      if (next() < 0.15 || depth > 4) return garbage[Math.floor(next() * garbage.length)];
      if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return value;
      const copy: Record<string, unknown> = Array.isArray(value) ? ([...value] as unknown as Record<string, unknown>) : { ...value };
      const keys = Object.keys(copy);
      if (keys.length > 0) {
        const key = keys[Math.floor(next() * keys.length)]!;
        if (next() < 0.2) delete copy[key];
        else copy[key] = mutate(copy[key], depth + 1);
      }
      return copy;
    };
    let refused = 0;
    for (let i = 0; i < 10_000; i++) {
      const candidate = mutate(report, 0);
      try {
        const parsed = parseRunReport(candidate);
        expect(Array.isArray(parsed.logs)).toBe(true);
        expect(Number.isFinite(parsed.peakMemoryBytes)).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(RunnerProtocolError);
        refused += 1;
      }
      try {
        parseRunnerMessage(mutate({ op: 'reply', id: 1, ok: false, error: 'e' }, 0));
      } catch (error) {
        expect(error).toBeInstanceOf(RunnerProtocolError);
      }
    }
    expect(refused).toBeGreaterThan(1_000);
  });
});

describe('a runner that breaks the protocol', () => {
  it('is killed, and what waited on it fails', async () => {
    // A real process on the other end of the channel: says hello, then answers a request with garbage.
    const script = `
      const { Socket } = require('node:net');
      const { Packr } = require(${JSON.stringify(createRequire(import.meta.url).resolve('msgpackr'))});
      const packr = new Packr({ useRecords: false });
      const socket = new Socket({ fd: 3, readable: true, writable: true });
      const send = (value) => { const body = packr.pack(value); const head = Buffer.alloc(4); head.writeUInt32BE(body.length); socket.write(Buffer.concat([head, body])); };
      send({ op: 'hello', version: 1 });
      socket.once('data', () => send({ op: 'reply', id: 'not a number', ok: true }));
      setInterval(() => undefined, 1000);
    `;
    let ended: unknown = null;
    const runner = new Runner({ command: process.execPath, args: ['-e', script], inputs: [], env: {}, cwd: '/', cgroup: null, exitCodeCarriesSignal: false }, (end) => (ended = end));
    await runner.ready();
    const request = runner.request({ op: 'destroy', context: 1 });
    await expect(request).rejects.toBeInstanceOf(RunnerProtocolError);
    await runner.exited;
    expect(ended).toMatchObject({ signal: 'killed' });
    await expect(runner.request({ op: 'destroy', context: 1 })).rejects.toBeInstanceOf(RunnerExited);
  });
});
