/**
 * The daemon's HTTP listener. It serves `/healthz`; the AWS REST API (every other path) and the WebSocket
 * protocol (`/ws` upgrades) are mounted on the same port by their own adapters.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Health {
  readonly status: 'ok' | 'stopping';
}

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

export class HttpServer {
  readonly #server: Server;
  #health: Health['status'] = 'ok';
  #routes: { prefix: string; handler: RequestHandler }[] = [];
  #fallback: RequestHandler = (request, response) => send(response, 404, { message: `No route for ${request.method} ${request.url}` });

  /** With `tls`, the port serves https (and so wss). */
  constructor(tls: { certFile: string; keyFile: string } | null) {
    const handler = (request: IncomingMessage, response: ServerResponse): void => this.#route(request, response);
    this.#server = tls === null ? createServer(handler) : createTlsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, handler);
    // Idle keep-alive sockets must not hold a stopping daemon open.
    this.#server.keepAliveTimeout = 5_000;
  }

  /** The Node.js server, for adapters that take over connections (the WebSocket upgrade). */
  get server(): Server {
    return this.#server;
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
    this.#server.closeAllConnections();
  }

  #route(request: IncomingMessage, response: ServerResponse): void {
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
