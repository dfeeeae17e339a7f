/**
 * The WebSocket adapter: `/ws` on the daemon's port. Decodes a frame, calls one handler, encodes the result
 * or the error. Many requests are in flight per connection and answered as they finish, within the bounds
 * of ws-flow.ts.
 */
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CODECS, FrameError, msgpackCodec, SUBPROTOCOLS, type Codec } from '../../protocol/codec.js';
import type { Operation, RequestError, ServerMessage } from '../../protocol/generated/types.js';
import { ERRORS, LambdaError } from '../errors.js';
import { LIMITS } from '../limits.js';
import type { LambdaService } from '../service.js';
import { httpError } from './http-errors.js';
import { fromLoopback } from './loopback.js';
import { HANDLERS, type Session } from './protocol-handlers.js';
import { ConnectionFlow } from './ws-flow.js';
import type { Authorizer } from '../sessions/authorization.js';
import { OWNER, type Caller, type SigV4Verifier } from './sigv4.js';

const WS_PATH = '/ws';
/** Room for the envelope around the largest message, a 50 MB zip. */
const MAX_FRAME_BYTES = LIMITS.zippedCodeMaxBytes + 64 * 1024;

export function toRequestError(error: unknown): RequestError {
  if (error instanceof LambdaError) {
    return { Code: error.code, Message: error.message, Status: error.row.status, ...(error.details.Reason === undefined ? {} : { Reason: error.details.Reason }) };
  }
  if (error instanceof FrameError) return { Code: error.code, Message: error.message, Status: ERRORS[error.code].status };
  return { Code: 'ServiceException', Message: 'lambdad failed to process the request.', Status: ERRORS.ServiceException.status };
}

function chooseSubprotocol(offered: Set<string>): string | false {
  for (const name of Object.values(SUBPROTOCOLS)) if (offered.has(name)) return name;
  return false;
}

export class ProtocolServer {
  readonly #service: LambdaService;
  readonly #verifier: SigV4Verifier | null;
  readonly #authorizer: Authorizer;
  readonly #wss: WebSocketServer;

  /** With a verifier, every upgrade request must be signed (header or presigned-query SigV4). */
  constructor(service: LambdaService, verifier: SigV4Verifier | null, authorizer: Authorizer) {
    this.#service = service;
    this.#verifier = verifier;
    this.#authorizer = authorizer;
    this.#wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_FRAME_BYTES, handleProtocols: chooseSubprotocol });
  }

  attach(server: Server, markAuthenticated: (socket: Duplex) => void): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      if ((request.url ?? '').split('?', 1)[0] !== WS_PATH) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      socket.on('error', () => socket.destroy());
      const verified: Promise<Caller> = this.#verifier?.verify({ method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers }) ?? Promise.resolve(OWNER);
      verified.then(
        (caller) => {
          markAuthenticated(socket);
          this.#wss.handleUpgrade(request, socket, head, (ws) => this.#serve(ws, socket, caller));
        },
        (error: unknown) => {
          // Refused before the upgrade, with the AWS error an HTTP client of Lambda would get.
          const { status, headers, body } = httpError(error);
          const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status]}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`), `content-length: ${Buffer.byteLength(body)}`, 'connection: close'];
          socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
        },
      );
    });
  }

  /** Closes every connection (1001, going away). */
  close(): void {
    for (const client of this.#wss.clients) client.close(1001, 'lambdad is stopping');
    this.#wss.close();
  }

  /** `socket` is the connection under `ws`. */
  #serve(ws: WebSocket, socket: Duplex, caller: Caller): void {
    const codec: Codec = ws.protocol === '' ? msgpackCodec : CODECS[ws.protocol as keyof typeof CODECS];
    const subscriptions = new Map<number, () => void>();
    const send = (message: ServerMessage): void => {
      let frame: Uint8Array;
      try {
        frame = codec.encodeServerMessage(message);
      } catch {
        // An answer the codec cannot encode is the daemon's fault, never a crash: a ServiceException under its id.
        if (message.response === undefined) return;
        frame = codec.encodeServerMessage({ response: { id: message.response.id, Error: toRequestError(null) } });
      }
      flow.send(frame);
    };
    const session: Session = {
      fromLocalClient: fromLoopback(socket as Socket),
      follow: (subscription, functionName, filterPattern) => {
        const { logGroupName, stop } = this.#service.tailLogs(functionName, (event) => {
          // A follower that cannot keep up loses events rather than growing the daemon's buffers.
          if (!flow.keepingUp) return;
          send({ push: { subscription, LogEvent: { LogGroupName: logGroupName, LogStreamName: event.logStreamName, Timestamp: event.timestamp, Message: event.message } } });
        }, filterPattern);
        subscriptions.get(subscription)?.();
        subscriptions.set(subscription, stop);
        return logGroupName;
      },
      unfollow: (subscription) => {
        subscriptions.get(subscription)?.();
        subscriptions.delete(subscription);
      },
    };

    const start = (data: Buffer): Promise<void> | void => {
      let id: number;
      let operation: Operation;
      let input: unknown;
      try {
        const decoded = codec.decodeRequest(data);
        id = decoded.request.id;
        operation = decoded.operation as Operation;
        input = (decoded.request as unknown as Record<string, unknown>)[operation];
      } catch (error) {
        if (error instanceof FrameError && error.requestId !== null) send({ response: { id: error.requestId, Error: toRequestError(error) } });
        else flow.close(1007, 'unreadable frame');
        return;
      }
      const handler = HANDLERS[operation] as (service: LambdaService, input: unknown, session: Session, id: number) => unknown;
      let output: unknown;
      try {
        if (caller.kind === 'role') this.#authorizer.authorize(caller.session, operation, (input as { FunctionName?: string } | undefined)?.FunctionName);
        output = handler(this.#service, input, session, id);
      } catch (error) {
        send({ response: { id, Error: toRequestError(error) } });
        return;
      }
      // An answer at hand leaves now, so that the next frame starts only if the output has room for it.
      if (!(output instanceof Promise)) {
        send({ response: { id, [operation]: output } });
        return;
      }
      return output.then(
        (result) => send({ response: { id, [operation]: result } }),
        (error: unknown) => send({ response: { id, Error: toRequestError(error) } }),
      );
    };
    const flow = new ConnectionFlow(ws, socket, start);

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        flow.close(1003, 'lambdad speaks binary frames only');
        return;
      }
      flow.receive(data);
    });
    ws.on('close', () => {
      for (const stop of subscriptions.values()) stop();
      subscriptions.clear();
    });
    ws.on('error', () => ws.terminate());
  }
}
