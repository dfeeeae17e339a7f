/**
 * The REST adapter: the AWS Lambda API over HTTP on the daemon's port, so the AWS CLI, the AWS SDKs and
 * boto3 work with `--endpoint-url`. It authenticates the headers, finds the route, bounds and reads the body,
 * checks the SigV4 signature against the body's hash, runs the protocol's handler for the operation and
 * writes the reply or the AWS error. Nothing is decided here.
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { checkOperationInput, FrameError } from '../../../protocol/codec.js';
import type { Ids } from '../../clock.js';
import { LambdaError } from '../../errors.js';
import type { Authorizer } from '../../sessions/authorization.js';
import type { LambdaService } from '../../service.js';
import { httpError } from '../http-errors.js';
import { fromLoopback } from '../loopback.js';
import { HANDLERS, type Session } from '../protocol-handlers.js';
import { lingerOnClose } from '../lingering-close.js';
import { OWNER, SIGNING_SERVICE, type PendingSignature, type SigV4Verifier } from '../sigv4.js';
import { RestInputError, ROUTES, type RestReply, type RestRoute } from './routes.js';

interface CompiledRoute {
  readonly route: RestRoute;
  /** Literal segments, or the label name in braces' place. */
  readonly segments: readonly ({ literal: string } | { label: string })[];
}

const compiled: readonly CompiledRoute[] = ROUTES.map((route) => ({
  route,
  segments: route.path
    .split('/')
    .slice(1)
    .map((segment) => (segment.startsWith('{') ? { label: segment.slice(1, -1) } : { literal: segment })),
}));

/** A request's session, by where its client is. Log tails need a connection that stays open: the REST API has none to offer. */
const restSession = (fromLocalClient: boolean): Session =>
  Object.freeze({
    fromLocalClient,
    follow: () => {
      throw new LambdaError('UnknownOperationException', 'Log tails are served over the WebSocket protocol.');
    },
    unfollow: () => undefined,
  });
const LOCAL_SESSION = restSession(true);
const REMOTE_SESSION = restSession(false);

function match(method: string, path: string, query: URLSearchParams): { route: RestRoute; labels: Record<string, string> } | null {
  const parts = path.split('/').slice(1);
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  for (const { route, segments } of compiled) {
    if (route.method !== method || segments.length !== parts.length) continue;
    if (route.when !== undefined && query.get(route.when.name) !== route.when.value) continue;
    const labels: Record<string, string> = {};
    let matched = true;
    for (let index = 0; index < segments.length && matched; index += 1) {
      const segment = segments[index]!;
      const part = parts[index]!;
      if ('literal' in segment) matched = segment.literal === part;
      else labels[segment.label] = decodeLabel(part, segment.label);
    }
    if (matched) return { route, labels };
  }
  return null;
}

function decodeLabel(part: string, label: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RestInputError(`The ${label} in the path is not percent-encoded UTF-8`);
  }
}

/** What AWS calls the operation in its size message (Invoke is `InvokeFunction` there). */
const operationLabel = (route: RestRoute): string => (route.operation === 'Invoke' ? 'InvokeFunction' : route.operation);

const tooLarge = (route: RestRoute): LambdaError =>
  new LambdaError('RequestEntityTooLargeException', `Request must be smaller than ${route.maxBodyBytes} bytes for the ${operationLabel(route)} operation`);

/** A declared length over the route's limit is refused before anything is read. */
function checkDeclaredLength(request: IncomingMessage, route: RestRoute): void {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > route.maxBodyBytes) throw tooLarge(route);
}

/**
 * The body, hashed as it streams when `hash` is given, refused as soon as it is over the route's limit; the
 * rest of a refused body is read and dropped, so that the answer reaches the client.
 */
function readBody(request: IncomingMessage, route: RestRoute, hash: Hash | null): Promise<{ body: Buffer; sha256: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > route.maxBodyBytes) {
        request.removeAllListeners('data');
        request.resume();
        reject(tooLarge(route));
        return;
      }
      hash?.update(chunk);
      chunks.push(chunk);
    });
    request.once('end', () => resolve({ body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), sha256: hash?.digest('hex') ?? '' }));
    request.once('error', reject);
  });
}

/** A `%` not followed by two hex digits, anywhere in the path or the query. */
const MALFORMED_PERCENT = /%(?![0-9A-Fa-f]{2})/;

/** Errors of translation in the errors table's terms. */
function asLambdaError(error: unknown): unknown {
  if (error instanceof FrameError || error instanceof RestInputError) return new LambdaError(error instanceof FrameError ? error.code : 'SerializationException', error.message);
  return error;
}

export class RestApi {
  readonly #service: LambdaService;
  readonly #verifier: SigV4Verifier | null;
  readonly #authorizer: Authorizer;
  readonly #ids: Ids;
  readonly #markAuthenticated: (socket: Duplex) => void;

  /** `markAuthenticated` is told of each connection on which a request passed authentication. */
  constructor(service: LambdaService, verifier: SigV4Verifier | null, authorizer: Authorizer, ids: Ids, markAuthenticated: (socket: Duplex) => void) {
    this.#service = service;
    this.#verifier = verifier;
    this.#authorizer = authorizer;
    this.#ids = ids;
    this.#markAuthenticated = markAuthenticated;
  }

  /**
   * In this order, as soon as the headers are in: the request target's encoding, then authentication (a
   * request that fails either is answered at once, its body unread, and its connection closed), then the
   * route, the declared length, the body (hashed as it streams) and the signature over it.
   */
  handle(request: IncomingMessage, response: ServerResponse): void {
    let pending: PendingSignature | null;
    try {
      if (MALFORMED_PERCENT.test(request.url ?? '/')) throw new RestInputError('The request path or query has malformed percent-encoding');
      pending = this.#verifier?.authenticate({ method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers }) ?? null;
    } catch (error) {
      this.#fail(request, response, error, true);
      return;
    }
    this.#answer(request, response, pending).then(
      (reply) => write(request, response, reply, false),
      (error: unknown) => this.#fail(request, response, error, false),
    );
  }

  #fail(request: IncomingMessage, response: ServerResponse, error: unknown, close: boolean): void {
    const { status, headers, body } = httpError(asLambdaError(error));
    write(request, response, { status, headers: { ...headers, 'x-amzn-requestid': this.#ids.uuid() }, body }, close);
  }

  async #answer(request: IncomingMessage, response: ServerResponse, pending: PendingSignature | null): Promise<RestReply> {
    const url = new URL(request.url ?? '/', 'http://lambdad.invalid');
    const method = request.method ?? 'GET';
    const found = match(method, url.pathname, url.searchParams);
    if (found === null) throw new LambdaError('UnknownOperationException', `No Lambda or X-Ray operation is served at ${method} ${url.pathname}`);
    const { route, labels } = found;
    checkDeclaredLength(request, route);
    if (request.headers.expect?.toLowerCase() === '100-continue') response.writeContinue();
    const { body, sha256 } = await readBody(request, route, pending === null ? null : createHash('sha256'));
    const caller = pending === null ? OWNER : await pending.complete(route.signingService ?? SIGNING_SERVICE, sha256);
    this.#markAuthenticated(request.socket);

    const input = route.input({ labels, query: url.searchParams, headers: request.headers, body });
    if (caller.kind === 'role') this.#authorizer.authorize(caller.session, route.operation, (input as { FunctionName?: string }).FunctionName);
    checkOperationInput(route.operation, input);
    const handler = HANDLERS[route.operation] as (service: LambdaService, input: unknown, session: Session, id: number) => unknown;
    const output = await handler(this.#service, input, fromLoopback(request.socket) ? LOCAL_SESSION : REMOTE_SESSION, 0);
    const reply = route.reply(output);
    return reply.headers['x-amzn-requestid'] === undefined ? { ...reply, headers: { ...reply.headers, 'x-amzn-requestid': this.#ids.uuid() } } : reply;
  }
}

/**
 * The connection is closed after the answer when asked (a request refused before authentication) and when
 * the body was not read to its end: the connection is then in the middle of a request and cannot be reused.
 */
function write(request: IncomingMessage, response: ServerResponse, reply: RestReply, close: boolean): void {
  if (response.headersSent) return;
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  const closing = close || !request.complete;
  if (closing) lingerOnClose(request.socket);
  response.writeHead(reply.status, { ...reply.headers, ...(closing ? { connection: 'close' } : {}), 'content-length': body.byteLength });
  response.end(body);
}
