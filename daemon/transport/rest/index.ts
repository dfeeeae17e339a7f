/**
 * The REST adapter: the AWS Lambda API over HTTP on the daemon's port, so the AWS CLI, the AWS SDKs and
 * boto3 work with `--endpoint-url`. It finds the route, bounds and reads the body, checks the SigV4
 * signature against the body's hash, runs the protocol's handler for the operation and writes the reply or
 * the AWS error. Nothing is decided here.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkOperationInput, FrameError } from '../../../protocol/codec.js';
import type { Ids } from '../../clock.js';
import { LambdaError } from '../../errors.js';
import type { Authorizer } from '../../sessions/authorization.js';
import type { LambdaService } from '../../service.js';
import { httpError } from '../http-errors.js';
import { fromLoopback } from '../loopback.js';
import { HANDLERS, type Session } from '../protocol-handlers.js';
import { OWNER, type SigV4Verifier } from '../sigv4.js';
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

/** A request's session. Log tails need a connection that stays open: the REST API has none to offer. */
function restSession(request: IncomingMessage): Session {
  return {
    fromLocalClient: fromLoopback(request.socket),
    follow: () => {
      throw new LambdaError('UnknownOperationException', 'Log tails are served over the WebSocket protocol.');
    },
    unfollow: () => undefined,
  };
}

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
    throw new RestInputError(`The ${label} in the path is not valid percent-encoding`);
  }
}

/** What AWS calls the operation in its size message (Invoke is `InvokeFunction` there). */
const operationLabel = (route: RestRoute): string => (route.operation === 'Invoke' ? 'InvokeFunction' : route.operation);

const tooLarge = (route: RestRoute): LambdaError =>
  new LambdaError('RequestEntityTooLargeException', `Request must be smaller than ${route.maxBodyBytes} bytes for the ${operationLabel(route)} operation`);

/** The body, refused as soon as it is known to be over the route's limit (declared length first). */
function readBody(request: IncomingMessage, route: RestRoute): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > route.maxBodyBytes) return Promise.reject(tooLarge(route));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > route.maxBodyBytes) {
        request.removeAllListeners('data');
        request.pause();
        reject(tooLarge(route));
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    request.once('error', reject);
  });
}

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

  constructor(service: LambdaService, verifier: SigV4Verifier | null, authorizer: Authorizer, ids: Ids) {
    this.#service = service;
    this.#verifier = verifier;
    this.#authorizer = authorizer;
    this.#ids = ids;
  }

  handle(request: IncomingMessage, response: ServerResponse): void {
    this.#answer(request).then(
      (reply) => write(request, response, reply),
      (error: unknown) => {
        const { status, headers, body } = httpError(asLambdaError(error));
        write(request, response, { status, headers: { ...headers, 'x-amzn-requestid': this.#ids.uuid() }, body });
      },
    );
  }

  async #answer(request: IncomingMessage): Promise<RestReply> {
    const target = request.url ?? '/';
    const url = new URL(target, 'http://lambdad.invalid');
    const method = request.method ?? 'GET';
    const found = match(method, url.pathname, url.searchParams);
    if (found === null) {
      // Drain what was sent so the connection stays usable for the error.
      request.resume();
      throw new LambdaError('UnknownOperationException', `No Lambda or X-Ray operation is served at ${method} ${url.pathname}`);
    }
    const { route, labels } = found;
    const body = await readBody(request, route);
    const caller = this.#verifier === null ? OWNER : await this.#verifier.verify({ method, url: target, headers: request.headers, body: checkedBody(request, body), ...(route.signingService === undefined ? {} : { service: route.signingService }) });

    const input = route.input({ labels, query: url.searchParams, headers: request.headers, body });
    if (caller.kind === 'role') this.#authorizer.authorize(caller.session, route.operation, (input as { FunctionName?: string }).FunctionName);
    checkOperationInput(route.operation, input);
    const handler = HANDLERS[route.operation] as (service: LambdaService, input: unknown, session: Session, id: number) => unknown;
    const output = await handler(this.#service, input, restSession(request), 0);
    const reply = route.reply(output);
    return reply.headers['x-amzn-requestid'] === undefined ? { ...reply, headers: { ...reply.headers, 'x-amzn-requestid': this.#ids.uuid() } } : reply;
  }
}

/**
 * The body to verify the signature over. A client that sends `x-amz-content-sha256` signs that value in the
 * body's place, so it must be the body's real hash (or `UNSIGNED-PAYLOAD`), or the signature would not
 * cover what arrived.
 */
function checkedBody(request: IncomingMessage, body: Buffer): Buffer {
  const claimed = request.headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== 'UNSIGNED-PAYLOAD' && claimed !== createHash('sha256').update(body).digest('hex')) {
    throw new LambdaError('InvalidSignatureException', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  return body;
}

function write(request: IncomingMessage, response: ServerResponse, reply: RestReply): void {
  if (response.headersSent) return;
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  // A body refused half-read leaves the connection in the middle of a request: it cannot be reused.
  const connection = request.complete ? {} : { connection: 'close' };
  response.writeHead(reply.status, { ...reply.headers, ...connection, 'content-length': body.byteLength });
  response.end(body);
}
