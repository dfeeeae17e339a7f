/**
 * One attacker of the hostile-client benchmark (bench/hostile.ts), in its own process (its own descriptors, its
 * own event loop). It attacks until stopped, bounded in count as well, then answers with what it saw:
 * - `uploads`: unsigned `POST /2015-03-31/functions` declaring and streaming a large body, so many at once
 *   (each finished one is replaced, up to a total);
 * - `idle`: TCP connections to the daemon's port that send nothing or half a request header, from several
 *   loopback source addresses (as many clients would), opened a bounded number at a time; each one the daemon
 *   sheds is replaced, up to a total of attempts;
 * - `flood`: one signed WebSocket connection pipelining Invokes of a no-op as fast as it can write them;
 * - `slow-readers`: signed WebSocket connections asking for large responses and never reading their socket.
 */
import { randomBytes } from 'node:crypto';
import { request, type ClientRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { WebSocket } from 'ws';
import { CODECS, SUBPROTOCOLS } from '../protocol/codec.js';
import { childSide, type Figures } from './hostile-child.js';
import { median } from './stats.js';

export type AttackSettings = { readonly url: string; readonly credentials: { accessKeyId: string; secretAccessKey: string } } & (
  | { readonly attack: 'uploads'; readonly concurrent: number; readonly total: number; readonly bodyBytes: number; readonly localAddress: string }
  | { readonly attack: 'idle'; readonly connections: number; readonly attempts: number; readonly localAddresses: readonly string[]; readonly connectingAtOnce: number }
  | { readonly attack: 'flood'; readonly requests: number; readonly functionName: string }
  | { readonly attack: 'slow-readers'; readonly connections: number; readonly requestsEach: number; readonly intervalMs: number; readonly functionName: string; readonly responseBytes: number }
);

const { settings, ready, onStop } = childSide<AttackSettings>();
const target = new URL(settings.url);
const codec = CODECS[SUBPROTOCOLS.msgpack];
const encoder = new TextEncoder();
let stopping = false;
const startedAt = performance.now();
const elapsedMs = (): number => Math.round(performance.now() - startedAt);
const count = (figures: Figures, key: string): void => void (figures[key] = (figures[key] ?? 0) + 1);
const errorKey = (error: unknown): string => `error.${(error as NodeJS.ErrnoException).code ?? (error as Error).name}`;

/** Headers that sign a WebSocket upgrade to the daemon's /ws as an AWS SDK would (SigV4, header form). */
async function signedUpgradeHeaders(): Promise<Record<string, string>> {
  const signer = new SignatureV4({ credentials: settings.credentials, region: 'us-east-1', service: 'lambda', sha256: Sha256 });
  const signed = await signer.sign({ method: 'GET', protocol: 'http:', hostname: target.hostname, port: Number(target.port), path: '/ws', query: {}, headers: { host: target.host } });
  const { host: _host, ...headers } = signed.headers;
  return headers;
}

function uploads(options: Extract<AttackSettings, { attack: 'uploads' }>): () => Figures {
  const figures: Figures = { started: 0, answered: 0, sentMb: 0 };
  const answerMs: number[] = [];
  const sentMbAtAnswer: number[] = [];
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const live = new Set<ClientRequest>();
  const upload = (): Promise<void> =>
    new Promise((resolve) => {
      const started = performance.now();
      let sent = 0;
      let ended = false;
      const end = (key: string): void => {
        if (ended) return;
        ended = true;
        count(figures, key);
        live.delete(req);
        req.destroy();
        resolve();
      };
      const req = request({ host: target.hostname, port: target.port, method: 'POST', path: '/2015-03-31/functions', localAddress: options.localAddress, agent: false, headers: { 'content-type': 'application/json', 'content-length': options.bodyBytes } });
      live.add(req);
      figures.started! += 1;
      req.once('response', (response) => {
        figures.answered! += 1;
        answerMs.push(performance.now() - started);
        sentMbAtAnswer.push(sent / 2 ** 20);
        end(`status${response.statusCode}`);
      });
      req.once('error', (error) => end(errorKey(error)));
      req.once('close', () => end('closedUnanswered'));
      // Writes as fast as the daemon takes it, until it answers or the body is all sent.
      const write = (): void => {
        while (!ended && sent < options.bodyBytes) {
          const piece = Math.min(chunk.length, options.bodyBytes - sent);
          sent += piece;
          figures.sentMb! += piece / 2 ** 20;
          if (!req.write(piece === chunk.length ? chunk : chunk.subarray(0, piece))) return void req.once('drain', write);
        }
        if (!ended) req.end();
      };
      write();
    });
  const lane = async (): Promise<void> => {
    while (!stopping && figures.started! < options.total) await upload();
  };
  for (let i = 0; i < options.concurrent; i++) void lane();
  return () => {
    stopping = true;
    figures.unansweredAtStop = live.size;
    for (const req of live) req.destroy();
    if (answerMs.length === 0) return figures;
    return { ...figures, firstAnswerMs: Math.min(...answerMs), answerP50Ms: median(answerMs), answerMaxMs: Math.max(...answerMs), sentMbAtAnswerP50: median(sentMbAtAnswer) };
  };
}

function idle(options: Extract<AttackSettings, { attack: 'idle' }>): () => Figures {
  const figures: Figures = { attempted: 0, connected: 0, shed: 0, open: 0, peakOpen: 0 };
  const sockets = new Set<Socket>(); // connecting or open
  const partialHeader = `POST /2015-03-31/functions HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\n`;
  const open = (index: number): Promise<void> =>
    new Promise((resolve) => {
      const socket = connect({ host: target.hostname, port: Number(target.port), localAddress: options.localAddresses[index % options.localAddresses.length]! });
      sockets.add(socket);
      figures.attempted! += 1;
      let connected = false;
      // A connect the daemon's backlog never completes is given up, so the next one can start.
      const timer = setTimeout(() => socket.destroy(Object.assign(new Error('connect timed out'), { code: 'CONNECT_TIMEOUT' })), 5_000);
      socket.once('connect', () => {
        clearTimeout(timer);
        connected = true;
        figures.connected! += 1;
        figures.open! += 1;
        figures.peakOpen = Math.max(figures.peakOpen!, figures.open!);
        if (figures.open === options.connections) figures.allOpenMs ??= elapsedMs();
        if (index % 2 === 1) socket.write(partialHeader);
        resolve();
      });
      socket.on('data', () => undefined); // whatever the daemon answers (a 408, a 400) is read and dropped
      socket.once('error', (error) => {
        if (!stopping) count(figures, errorKey(error));
      });
      socket.once('close', () => {
        clearTimeout(timer);
        sockets.delete(socket);
        if (stopping) return;
        if (connected) {
          figures.open! -= 1;
          figures.shed! += 1; // closed by the daemon: this side never closes one before the stop
          figures.firstShedMs ??= elapsedMs();
        }
        resolve();
      });
    });
  let next = 0;
  const opener = async (): Promise<void> => {
    while (!stopping && next < options.attempts) {
      if (sockets.size >= options.connections) await new Promise((resolve) => setTimeout(resolve, 50));
      else await open(next++);
    }
  };
  for (let i = 0; i < options.connectingAtOnce; i++) void opener();
  return () => {
    stopping = true;
    const result = { ...figures };
    for (const socket of sockets) socket.destroy();
    return result;
  };
}

function flood(options: Extract<AttackSettings, { attack: 'flood' }>, headers: Record<string, string>): Promise<() => Figures> {
  const figures: Figures = { sent: 0, answered: 0, ok: 0 };
  const socket = new WebSocket(`ws://${target.host}/ws`, SUBPROTOCOLS.msgpack, { headers });
  socket.on('message', (data: Buffer) => {
    const message = codec.decodeServerMessage(data);
    if (message.response === undefined) return;
    figures.answered! += 1;
    if (message.response.Error === undefined) figures.ok! += 1;
    else count(figures, `error.${message.response.Error.Code}`);
    if (figures.answered === options.requests) figures.allAnsweredMs = elapsedMs();
  });
  socket.on('close', (code) => {
    if (!stopping) figures.closedWithCode = code;
  });
  socket.on('error', (error) => count(figures, errorKey(error)));
  const stop = (): Figures => {
    stopping = true;
    socket.terminate();
    return figures;
  };
  return new Promise((resolve) => {
    // A refused upgrade is one of the daemon's answers to record, not a failure of the benchmark.
    socket.once('unexpected-response', (request, response) => {
      count(figures, `upgradeRefused${response.statusCode}`);
      request.destroy();
      resolve(stop);
    });
    socket.once('close', () => resolve(stop));
    socket.once('open', () => {
      const payload = encoder.encode('{}');
      for (let id = 1; id <= options.requests && socket.readyState === WebSocket.OPEN; id++) {
        socket.send(codec.encodeRequest({ id, Invoke: { FunctionName: options.functionName, Payload: payload } }));
        figures.sent! += 1;
      }
      figures.allWrittenMs = elapsedMs();
      resolve(stop);
    });
  });
}

/** A masked binary WebSocket frame, as a client sends it. */
function clientFrame(payload: Uint8Array): Buffer {
  const lengthBytes = payload.length < 126 ? 0 : payload.length < 65_536 ? 2 : 8;
  const header = 2 + lengthBytes;
  const frame = Buffer.allocUnsafe(header + 4 + payload.length);
  frame[0] = 0x82; // FIN, binary
  frame[1] = 0x80 | (lengthBytes === 0 ? payload.length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) frame.writeUInt16BE(payload.length, 2);
  if (lengthBytes === 8) frame.writeBigUInt64BE(BigInt(payload.length), 2);
  const mask = randomBytes(4);
  mask.copy(frame, header);
  for (let i = 0; i < payload.length; i++) frame[header + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

function slowReaders(options: Extract<AttackSettings, { attack: 'slow-readers' }>, headers: Record<string, string>): Promise<() => Figures> {
  const figures: Figures = { upgraded: 0, sent: 0, closedByDaemon: 0 };
  const sockets: Socket[] = [];
  const timers: ReturnType<typeof setInterval>[] = [];
  const payload = encoder.encode(JSON.stringify({ bytes: options.responseBytes }));
  let nextId = 1;
  // A raw upgrade: the socket it gives is never read (no 'data' listener, paused), so the daemon's answers
  // fill the kernel's buffers and then whatever the daemon keeps for this connection.
  const reader = (): Promise<void> =>
    new Promise((resolve) => {
      const upgrade = request({ host: target.hostname, port: target.port, path: '/ws', headers: { ...headers, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'), 'sec-websocket-protocol': SUBPROTOCOLS.msgpack } });
      // A refused upgrade is one of the daemon's answers to record, not a failure of the benchmark.
      upgrade.once('response', (response) => {
        count(figures, `upgradeRefused${response.statusCode}`);
        upgrade.destroy();
        resolve();
      });
      upgrade.once('error', (error) => {
        count(figures, errorKey(error));
        resolve();
      });
      upgrade.once('upgrade', (_response, socket) => {
        socket.pause();
        sockets.push(socket);
        figures.upgraded! += 1;
        socket.on('error', (error) => count(figures, errorKey(error)));
        socket.once('close', () => {
          if (!stopping) figures.closedByDaemon! += 1;
        });
        let sent = 0;
        const timer = setInterval(() => {
          if (stopping || socket.destroyed || sent >= options.requestsEach) return void clearInterval(timer);
          sent += 1;
          figures.sent! += 1;
          socket.write(clientFrame(codec.encodeRequest({ id: nextId++, Invoke: { FunctionName: options.functionName, Payload: payload } })));
        }, options.intervalMs);
        timers.push(timer);
        resolve();
      });
      upgrade.end();
    });
  return Promise.all(Array.from({ length: options.connections }, reader)).then(() => () => {
    stopping = true;
    for (const timer of timers) clearInterval(timer);
    for (const socket of sockets) socket.destroy();
    return figures;
  });
}

async function start(): Promise<() => Figures> {
  switch (settings.attack) {
    case 'uploads':
      return uploads(settings);
    case 'idle':
      return idle(settings);
    case 'flood':
      return flood(settings, await signedUpgradeHeaders());
    case 'slow-readers':
      return slowReaders(settings, await signedUpgradeHeaders());
  }
}

const stop = await start();
ready();
onStop(stop);
