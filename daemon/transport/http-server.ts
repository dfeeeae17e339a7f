/**
 * The daemon's HTTP listener. It serves `/healthz`; the AWS REST API (every other path) and the WebSocket
 * protocol (`/ws` upgrades) are mounted on the same port by their own adapters. It holds the port's
 * connections within their limits (connections.ts) and their timeouts (http-limits.ts).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConnectionTable } from './connections.js';
import { HTTP_LIMITS } from './http-limits.js';

export interface Health {
  readonly status: 'ok' | 'stopping';
}

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

export interface HttpServerOptions {
  /** With `tls`, the port serves https (and so wss). */
  readonly tls: { certFile: string; keyFile: string } | null;
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
}

const SERVER_OPTIONS: ServerOptions = {
  headersTimeout: HTTP_LIMITS.headersTimeoutMs,
  requestTimeout: HTTP_LIMITS.requestTimeoutMs,
  connectionsCheckingInterval: HTTP_LIMITS.timeoutCheckIntervalMs,
  keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
};

export class HttpServer {
  readonly #server: Server;
  readonly #connections: ConnectionTable;
  #sweeper: NodeJS.Timeout | null = null;
  #health: Health['status'] = 'ok';
  #routes: { prefix: string; handler: RequestHandler }[] = [];
  #fallback: RequestHandler = (request, response) => send(response, 404, { message: `No route for ${request.method} ${request.url}` });

  constructor(options: HttpServerOptions) {
    const { tls } = options;
    const handler = (request: IncomingMessage, response: ServerResponse): void => this.#serve(request, response);
    this.#server = tls === null
      ? createServer(SERVER_OPTIONS, handler)
      : createTlsServer({ ...SERVER_OPTIONS, cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), handshakeTimeout: HTTP_LIMITS.tlsHandshakeTimeoutMs }, handler);
    // Handled like any request: the REST adapter sends `100 Continue` only once the headers are authenticated.
    this.#server.on('checkContinue', handler);
    this.#connections = new ConnectionTable({ ...options, unauthenticatedIdleMs: HTTP_LIMITS.unauthenticatedIdleMs }, () => performance.now());
    this.#server.on('connection', (socket: Socket) => this.#connections.admit(socket));
    if (tls !== null) this.#server.on('secureConnection', (socket: Socket) => this.#connections.alias(socket));
    this.#server.on('upgrade', (request: IncomingMessage) => this.#connections.upgrading(request.socket));
  }

  /** The Node.js server, for adapters that take over connections (the WebSocket upgrade). */
  get server(): Server {
    return this.#server;
  }

  /**
   * A request on this connection (its socket, TCP or TLS) passed authentication: the connection is no longer
   * shed to make room, nor closed for being idle before its first request.
   */
  markAuthenticated(socket: Duplex): void {
    this.#connections.authenticated(socket);
  }

  /** Requests whose path starts with `prefix` go to `handler`. */
  route(prefix: string, handler: RequestHandler): void {
    this.#routes.push({ prefix, handler });
  }

  /** Requests no other route takes (the AWS API answers them with its own error). */
  fallback(handler: RequestHandler): void {
    this.#fallback = handler;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        this.#sweeper = setInterval(() => this.#connections.sweep(), HTTP_LIMITS.timeoutCheckIntervalMs);
        this.#sweeper.unref();
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting connections; requests on connections still open are answered, health as `stopping`. */
  stopAccepting(): void {
    this.#health = 'stopping';
    this.#server.close();
    this.#server.closeIdleConnections();
  }

  /** Ends every connection left, once there is nothing more to answer. */
  closeConnections(): void {
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    this.#server.closeAllConnections();
  }

  #serve(request: IncomingMessage, response: ServerResponse): void {
    // A connection closing after a refusal serves nothing more: the answer could not be written.
    if (request.socket.writableEnded) return;
    const socket = request.socket;
    this.#connections.requestStarted(socket);
    response.once('close', () => this.#connections.requestEnded(socket));
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path === '/healthz' && (request.method === 'GET' || request.method === 'HEAD')) {
      send(response, this.#health === 'ok' ? 200 : 503, { status: this.#health } satisfies Health);
      return;
    }
    for (const { prefix, handler } of this.#routes) {
      if (path.startsWith(prefix)) {
        handler(request, response);
        return;
      }
    }
    this.#fallback(request, response);
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
