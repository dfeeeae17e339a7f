/**
 * The front door under attack, at a small scale, against a real daemon: unsigned uploads get their 403 without
 * the daemon reading (or keeping) their bodies, idle connections cannot keep out `/healthz` or a signed
 * client, SigV4 is applied as AWS applies it, and malformed or deeply nested input is a typed 400.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, get as httpGet, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionTable } from '../../dist/daemon/transport/connections.js';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { signedHeaders } from '../helpers/sigv4.js';
import { zipOf } from '../helpers/zip.js';

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
const MB = 1024 * 1024;
const UPLOAD_BYTES = 66 * MB;

interface Answer {
  status: number;
  type: string | null;
  connection: string | null;
  body: any;
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  return { status: response.status, type: response.headers.get('x-amzn-errortype'), connection: response.headers.get('connection'), body: text === '' ? null : JSON.parse(text) };
}

/** The headers an AWS SDK sends for this request, signed with `credentials` (`x-amz-content-sha256` included). */
async function sign(url: URL, credentials: { accessKeyId: string; secretAccessKey: string }, options: { method?: string; body?: string; headers?: Record<string, string>; service?: string } = {}): Promise<Record<string, string>> {
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service: options.service ?? 'lambda', sha256: Sha256 });
  const signed = await signer.sign({
    method: options.method ?? 'GET',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { host: url.host, ...options.headers },
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  const { host: _host, ...headers } = signed.headers;
  return headers;
}

/** Bytes of JSON nesting arrays `depth` deep. */
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: any;
}

/** A raw HTTP/1.1 answer: status, headers (lower-case names), JSON body. */
function parseAnswer(raw: string): RawAnswer {
  const [head = '', body = ''] = raw.split('\r\n\r\n', 2);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: IncomingHttpHeaders = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: body === '' ? null : JSON.parse(body) };
}

/**
 * A POST over a raw socket that declares `declared` bytes and streams up to `streamed` of them whatever the
 * answer, past the daemon's half-close, as an attacker would (one 64 KiB buffer written again and again: the
 * client holds nothing). Resolves with the answer and the bytes written once the daemon has closed its side
 * and the writing is over (all written, or the daemon closed the connection).
 */
function upload(port: number, path: string, declared: number, streamed: number, headers: Record<string, string> = {}): Promise<RawAnswer & { sent: number }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let received = '';
    let sent = 0;
    let ended = false;
    let written = false;
    const finish = (): void => {
      if (ended && written) socket.destroy();
    };
    socket.on('data', (data: Buffer) => (received += data.toString()));
    socket.on('error', () => undefined);
    socket.once('end', () => {
      ended = true;
      finish();
    });
    socket.once('close', () => resolve({ ...parseAnswer(received), sent }));
    const head = Object.entries({ host: `127.0.0.1:${port}`, 'content-length': String(declared), ...headers }).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(`POST ${path} HTTP/1.1\r\n${head.join('')}\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = (): void => {
      while (sent < streamed && !socket.destroyed) {
        sent += chunk.byteLength;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
      written = true;
      finish();
    };
    pump();
  });
}

function rssBytes(): number {
  return process.memoryUsage().rss;
}

/** Opens a TCP connection that sends nothing (and reads, so that it sees the daemon close it); resolves once connected. */
function idleConnection(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    socket.resume();
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A signed WebSocket to the daemon; resolves once open. */
async function signedWebSocket(harness: TestDaemon): Promise<WebSocket> {
  const url = `${harness.daemon.url.replace('http', 'ws')}/ws`;
  const ws = new WebSocket(url, 'lambdad.v1.msgpack', { headers: await signedHeaders(url, harness.credentials()) });
  await once(ws, 'open');
  return ws;
}

describe('unauthenticated requests: refused from their headers, bodies unread', () => {
  let harness: TestDaemon;
  let port: number;
  beforeAll(async () => {
    harness = await startDaemon({ auth: 'sigv4', 'max-connections': '64' });
    port = Number(new URL(harness.daemon.url).port);
  });
  afterAll(async () => harness.stop());

  it('answers 66 MB-declared uploads 403 at once, any route, and closes their connections', async () => {
    const paths = ['/2015-03-31/functions', '/2015-03-31/functions/f/invocations', '/no/such/route'];
    const answers = await Promise.all(Array.from({ length: 24 }, (_, index) => upload(port, paths[index % paths.length]!, UPLOAD_BYTES, MB)));
    for (const refused of answers) {
      expect(refused).toMatchObject({ status: 403, headers: { 'x-amzn-errortype': 'MissingAuthenticationTokenException', connection: 'close' }, body: { message: 'Missing Authentication Token' } });
    }
  });

  it('answers 66 MB actually streamed 403 without the daemon growing by the bodies', async () => {
    const clients = 8;
    const before = rssBytes();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes())), 20);
    try {
      const answers = await Promise.all(Array.from({ length: clients }, () => upload(port, '/2015-03-31/functions', UPLOAD_BYTES, UPLOAD_BYTES)));
      for (const refused of answers) expect(refused).toMatchObject({ status: 403, headers: { 'x-amzn-errortype': 'MissingAuthenticationTokenException' } });
      
    } finally {
      clearInterval(sampler);
    }
    // Buffered, the bodies alone would be 528 MB.
    expect(peak - before).toBeLessThan(200 * MB);
  });

  it("refuses with a signature of an unknown key before the body, an unknown route included", async () => {
    const url = new URL(`${harness.daemon.url}/no/such/route`);
    const headers = await sign(url, { accessKeyId: 'LKUNKNOWNKEY00000000', secretAccessKey: 'whatever-secret-it-is' }, { method: 'POST' });
    const refused = await upload(port, url.pathname, UPLOAD_BYTES, MB, headers);
    expect(refused).toMatchObject({ status: 403, headers: { 'x-amzn-errortype': 'UnrecognizedClientException', connection: 'close' } });
  });

  it('delivers the 403 to a client that writes its whole body before reading, as botocore does', async () => {
    // Reading nothing until it has written all, the client loses an answer the daemon closes on at once.
    const raw = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.pause();
      socket.on('error', () => undefined);
      let received = '';
      const bodyBytes = 8 * MB;
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const readAnswer = (): void => {
        socket.on('data', (data: Buffer) => (received += data.toString()));
        socket.resume();
      };
      const pump = (): void => {
        while (sent < bodyBytes && !socket.destroyed) {
          sent += chunk.byteLength;
          if (!socket.write(chunk)) {
            socket.once('drain', pump);
            return;
          }
        }
        readAnswer();
      };
      socket.once('close', () => resolve(received));
      socket.once('connect', () => {
        socket.write(`POST /2015-03-31/functions HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: ${bodyBytes}\r\n\r\n`);
        pump();
      });
    });
    expect(raw).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(raw).toContain('Missing Authentication Token');
  });

  it('sends 100 Continue only to a request whose headers authenticate', async () => {
    const url = new URL(`${harness.daemon.url}/2015-03-31/functions`);
    const body = JSON.stringify({ FunctionName: 'continued', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: Buffer.from(zipOf('exports.handler = async () => 1;')).toString('base64') } });
    const attempt = (headers: Record<string, string>): Promise<{ status: number; continued: boolean }> =>
      new Promise((resolve, reject) => {
        let continued = false;
        const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: url.pathname, headers: { ...headers, expect: '100-continue', 'content-length': String(Buffer.byteLength(body)) } }, (response) => {
          response.resume();
          response.on('end', () => resolve({ status: response.statusCode ?? 0, continued }));
        });
        request.on('continue', () => {
          continued = true;
          request.end(body);
        });
        request.on('error', reject);
      });
    expect(await attempt({ 'content-type': 'application/json' })).toEqual({ status: 403, continued: false });
    expect(await attempt(await sign(url, harness.credentials(), { method: 'POST', body, headers: { 'content-type': 'application/json', expect: '100-continue' } }))).toEqual({ status: 201, continued: true });
  });
});

describe('connection limits: idle connections give way to /healthz and signed clients', () => {
  let harness: TestDaemon;
  let port: number;
  const held: Socket[] = [];
  beforeAll(async () => {
    harness = await startDaemon({ auth: 'sigv4', 'max-connections': '64', 'max-connections-per-address': '32' });
    port = Number(new URL(harness.daemon.url).port);
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await harness.stop();
  });

  async function flood(count: number, localAddress: string): Promise<Socket[]> {
    const sockets: Socket[] = [];
    for (let index = 0; index < count; index += 1) sockets.push(await idleConnection(port, localAddress));
    held.push(...sockets);
    return sockets;
  }

  async function signedList(): Promise<Answer> {
    const url = new URL(`${harness.daemon.url}/2015-03-31/functions`);
    return answer(await fetch(url, { headers: await sign(url, harness.credentials()) }));
  }

  it('sheds the longest-idle unauthenticated connections of a full address, and serves the newcomers', async () => {
    const ws = await signedWebSocket(harness);
    let wsClosed = false;
    ws.once('close', () => (wsClosed = true));
    const sockets = await flood(100, '127.0.0.1');
    await settle(200);
    const open = sockets.filter((socket) => !socket.destroyed && socket.readyState === 'open');
    // The daemon's side of the shed ones is gone: at most the address's share, less the WebSocket, stay open.
    expect(open.length).toBeLessThanOrEqual(31);
    expect(open.length).toBeGreaterThan(0);
    // The survivors are the newest: shedding takes the oldest first.
    expect(sockets.slice(-open.length).every((socket) => open.includes(socket))).toBe(true);

    expect(await answer(await fetch(`${harness.daemon.url}/healthz`))).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await signedList()).toMatchObject({ status: 200, body: { Functions: [] } });
    // The authenticated WebSocket was never shed.
    expect(wsClosed).toBe(false);
    ws.close();
  });

  it('sheds from the whole port when many addresses fill it', async () => {
    for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) await flood(30, address);
    await settle(200);
    const open = held.filter((socket) => !socket.destroyed && socket.readyState === 'open');
    expect(open.length).toBeLessThanOrEqual(64);
    expect(await answer(await fetch(`${harness.daemon.url}/healthz`))).toMatchObject({ status: 200 });
    expect(await signedList()).toMatchObject({ status: 200 });
  });
});

describe('connection limits: nothing to shed', () => {
  let harness: TestDaemon;
  beforeAll(async () => {
    harness = await startDaemon({ auth: 'sigv4', 'max-connections-per-address': '4' });
  });
  afterAll(async () => harness.stop());

  it('refuses a new connection while the address holds only authenticated ones, and accepts one again when one goes', async () => {
    const sockets = await Promise.all(Array.from({ length: 4 }, () => signedWebSocket(harness)));
    const refused = await fetch(`${harness.daemon.url}/healthz`).then(
      () => 'served',
      () => 'refused',
    );
    expect(refused).toBe('refused');
    sockets[0]!.close();
    await once(sockets[0]!, 'close');
    await settle(100);
    expect((await fetch(`${harness.daemon.url}/healthz`)).status).toBe(200);
    for (const ws of sockets) ws.close();
  });
});

describe('connection limits: a signed scrape', () => {
  let harness: TestDaemon;
  beforeAll(async () => {
    harness = await startDaemon({ auth: 'sigv4', 'metrics-auth': 'sigv4', 'max-connections-per-address': '2' });
  });
  afterAll(async () => harness.stop());

  it('keeps the connection of a signed /metrics scrape while idle connections of its address are shed', async () => {
    const url = new URL(`${harness.daemon.url}/metrics`);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const scraped = await new Promise<{ status: number; socket: Socket }>((resolve, reject) => {
      void signedHeaders(url.toString(), harness.credentials()).then((headers) => {
        const request = httpGet(url, { agent, headers }, (response) => {
          // The agent takes the socket back once the answer has ended.
          const socket = response.socket as Socket;
          response.resume();
          response.once('end', () => resolve({ status: response.statusCode ?? 0, socket }));
        });
        request.once('error', reject);
      }, reject);
    });
    expect(scraped.status).toBe(200);
    // Two idle connections from the same address: the second needs room, and the scrape's connection is not it.
    const idle = [await idleConnection(Number(url.port)), await idleConnection(Number(url.port))];
    await settle(200);
    expect(scraped.socket.destroyed).toBe(false);
    expect(idle.filter((socket) => socket.destroyed)).toHaveLength(1);
    for (const socket of idle) socket.destroy();
    agent.destroy();
  });
});

describe('connection limits over TLS', () => {
  let dir: string;
  let harness: TestDaemon;
  let certificate: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lambdad-front-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    certificate = readFileSync(join(dir, 'cert.pem'), 'utf8');
    harness = await startDaemon({ auth: 'sigv4', 'tls-cert': join(dir, 'cert.pem'), 'tls-key': join(dir, 'key.pem'), 'max-connections-per-address': '3' });
  });
  afterAll(async () => {
    await harness.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps an authenticated wss connection while idle TCP connections from its address are shed', async () => {
    const url = `${harness.daemon.url.replace('https', 'wss')}/ws`;
    const ws = new WebSocket(url, 'lambdad.v1.msgpack', { headers: await signedHeaders(url, harness.credentials()), ca: certificate });
    await once(ws, 'open');
    let closed = false;
    ws.once('close', () => (closed = true));
    const port = Number(new URL(harness.daemon.url).port);
    const sockets: Socket[] = [];
    for (let index = 0; index < 10; index += 1) sockets.push(await idleConnection(port));
    await settle(200);
    expect(closed).toBe(false);
    expect(sockets.filter((socket) => !socket.destroyed && socket.readyState === 'open').length).toBeLessThanOrEqual(2);
    for (const socket of sockets) socket.destroy();
    ws.close();
  });
});

describe('timeouts', () => {
  let harness: TestDaemon;
  beforeAll(async () => {
    harness = await startDaemon({ auth: 'sigv4' });
  });
  afterAll(async () => harness.stop());

  it('closes a connection that sends nothing, and one whose headers never end, within about 10 s', async () => {
    const port = Number(new URL(harness.daemon.url).port);
    const started = Date.now();
    const silent = await idleConnection(port);
    const slow = await idleConnection(port);
    slow.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n');
    let slowAnswer = '';
    slow.on('data', (data: Buffer) => (slowAnswer += data.toString()));
    const closedAfter = (socket: Socket): Promise<number> => new Promise((resolve) => socket.once('close', () => resolve(Date.now() - started)));
    const [silentMs, slowMs] = await Promise.all([closedAfter(silent), closedAfter(slow)]);
    expect(silentMs).toBeGreaterThanOrEqual(9_000);
    expect(silentMs).toBeLessThan(14_000);
    expect(slowMs).toBeLessThan(14_000);
    expect(slowAnswer === '' || slowAnswer.startsWith('HTTP/1.1 408')).toBe(true);
  }, 20_000);
});

describe('the connection table (fake clock)', () => {
  let server: Server;
  let port: number;
  let now = 0;
  let table: ConnectionTable;
  const admitted: Socket[] = [];
  beforeAll(async () => {
    table = new ConnectionTable({ maxConnections: 4, maxConnectionsPerAddress: 3, unauthenticatedIdleMs: 10_000 }, () => now);
    server = createServer((socket) => {
      if (table.admit(socket)) admitted.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of admitted) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sweeps idle unauthenticated connections, never authenticated or busy ones', async () => {
    const clients = [await idleConnection(port), await idleConnection(port), await idleConnection(port)];
    await settle(50);
    const [idle, authenticated, busy] = admitted.slice(-3) as [Socket, Socket, Socket];
    table.authenticated(authenticated);
    table.requestStarted(busy);
    now += 9_999;
    table.sweep();
    expect(idle.destroyed).toBe(false);
    now += 1;
    table.sweep();
    expect(idle.destroyed).toBe(true);
    expect(authenticated.destroyed || busy.destroyed).toBe(false);
    // A busy connection's idle time starts when its last request ends.
    table.requestEnded(busy);
    now += 9_999;
    table.sweep();
    expect(busy.destroyed).toBe(false);
    now += 1;
    table.sweep();
    expect(busy.destroyed).toBe(true);
    for (const client of clients) client.destroy();
    await settle(50);
    expect(table.size).toBe(0);
  });
});

describe('SigV4 as AWS applies it', () => {
  let harness: TestDaemon;
  beforeAll(async () => {
    harness = await startDaemon({ auth: 'sigv4' });
    const url = new URL(`${harness.daemon.url}/2015-03-31/functions`);
    const body = JSON.stringify({ FunctionName: 'echo', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: Buffer.from(zipOf('exports.handler = async (event) => ({ got: event });')).toString('base64') } });
    const created = await fetch(url, { method: 'POST', headers: await sign(url, harness.credentials(), { method: 'POST', body, headers: { 'content-type': 'application/json' } }), body });
    expect(created.status).toBe(201);
  });
  afterAll(async () => harness.stop());

  const invokeUrl = (): URL => new URL(`${harness.daemon.url}/2015-03-31/functions/echo/invocations`);

  it('serves an Invoke whose x-amz-* headers are all signed', async () => {
    const body = '{"a":1}';
    const headers = await sign(invokeUrl(), harness.credentials(), { method: 'POST', body, headers: { 'x-amz-log-type': 'Tail' } });
    const response = await fetch(invokeUrl(), { method: 'POST', headers: { ...headers, 'user-agent': 'unsigned/1.0', 'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793' }, body });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ got: { a: 1 } });
  });

  it('refuses an x-amz-* header added after signing, naming it', async () => {
    const body = '{"a":1}';
    const headers = await sign(invokeUrl(), harness.credentials(), { method: 'POST', body });
    const refused = await answer(await fetch(invokeUrl(), { method: 'POST', headers: { ...headers, 'x-amz-invocation-type': 'DryRun' }, body }));
    expect(refused).toMatchObject({ status: 403, type: 'InvalidSignatureException' });
    expect(refused.body.message).toContain("'x-amz-invocation-type' is not signed");
  });

  it('refuses UNSIGNED-PAYLOAD on a Lambda request, with the signed body or a swapped one', async () => {
    const body = '{"a":1}';
    const headers = await sign(invokeUrl(), harness.credentials(), { method: 'POST', body, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    for (const sent of [body, '{"swapped":true}']) {
      const refused = await answer(await fetch(invokeUrl(), { method: 'POST', headers, body: sent }));
      expect(refused).toMatchObject({ status: 403, type: 'InvalidSignatureException' });
      expect(refused.body.message).toContain('UNSIGNED-PAYLOAD is accepted by S3 alone');
    }
  });

  it('refuses a body whose hash is not the signed x-amz-content-sha256', async () => {
    const headers = await sign(invokeUrl(), harness.credentials(), { method: 'POST', body: '{"a":1}' });
    expect(headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
    const refused = await answer(await fetch(invokeUrl(), { method: 'POST', headers, body: '{"a":2}' }));
    expect(refused).toMatchObject({ status: 403, type: 'InvalidSignatureException', body: { message: "The provided 'x-amz-content-sha256' header does not match what was computed." } });
  });

  it('refuses a signature that leaves out the host', async () => {
    const url = new URL(`${harness.daemon.url}/2015-03-31/functions`);
    const signer = new SignatureV4({ credentials: harness.credentials(), region: 'us-east-1', service: 'lambda', sha256: Sha256 });
    const signed = await signer.sign({ method: 'GET', protocol: 'http:', hostname: url.hostname, path: url.pathname, query: {}, headers: {} });
    const refused = await answer(await fetch(url, { headers: signed.headers }));
    expect(refused).toMatchObject({ status: 400, type: 'IncompleteSignatureException', body: { message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization." } });
  });

  it('answers malformed percent-encoding in the path or query with a 400 SerializationException, signed or not', async () => {
    const { port } = new URL(harness.daemon.url);
    const send = (path: string, headers: Record<string, string> = {}): Promise<RawAnswer> =>
      new Promise((resolve, reject) => {
        const request = httpRequest({ host: '127.0.0.1', port, path, headers }, (response) => {
          let text = '';
          response.on('data', (data: Buffer) => (text += data.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: JSON.parse(text) }));
        });
        request.on('error', reject);
        request.end();
      });
    const signed = await sign(new URL(`${harness.daemon.url}/2015-03-31/functions/a%zz`), harness.credentials());
    for (const [path, headers] of [['/2015-03-31/functions/%zz', {}], ['/2015-03-31/functions/f%4', {}], ['/2015-03-31/functions?Marker=%zz', {}], ['/2015-03-31/functions/a%zz', signed]] as const) {
      const refused = await send(path, headers);
      expect(refused).toMatchObject({ status: 400, headers: { 'x-amzn-errortype': 'SerializationException' }, body: { message: 'The request path or query has malformed percent-encoding' } });
    }
  });

  it('refuses a JSON body nested 100,000 deep with a 400 SerializationException, and lets the function have a deep Invoke payload', async () => {
    const url = new URL(`${harness.daemon.url}/2015-03-31/functions`);
    const deep = `{"FunctionName":"deep","Code":${nested(100_000)}}`;
    const refused = await answer(await fetch(url, { method: 'POST', headers: await sign(url, harness.credentials(), { method: 'POST', body: deep }), body: deep }));
    expect(refused).toMatchObject({ status: 400, type: 'SerializationException', body: { message: 'The request body nests arrays and objects more than 64 deep' } });
    // 64 deep passes the depth check and meets the schema's.
    const shallow = `{"FunctionName":"nested-fn","Tags":{"k":${nested(62)}}}`;
    const checked = await answer(await fetch(url, { method: 'POST', headers: await sign(url, harness.credentials(), { method: 'POST', body: shallow }), body: shallow }));
    expect(checked.status).toBe(400);
    expect(checked.body.message).not.toContain('nests');

    // An Invoke payload is the function's event: deep but valid JSON is the function's business.
    const payload = nested(100_000);
    for (const invocationType of ['RequestResponse', 'Event']) {
      const headers = await sign(invokeUrl(), harness.credentials(), { method: 'POST', body: payload, headers: { 'x-amz-invocation-type': invocationType } });
      const response = await fetch(invokeUrl(), { method: 'POST', headers, body: payload });
      expect(response.status).toBe(invocationType === 'Event' ? 202 : 200);
      await response.arrayBuffer();
    }
  });
});
