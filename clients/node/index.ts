/**
 * LambdadClient: the TypeScript SDK for lambdad's WebSocket protocol. Many requests in flight on one
 * connection, answered out of order; request timeouts; reconnection with backoff; log tailing. Uses only the
 * standard WebSocket API, so it runs in browsers as well as in Node.js (where it uses the `ws` package
 * unless a global WebSocket exists).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { CODECS, SUBPROTOCOLS, type Codec } from '../../protocol/codec.js';
import type { LogEvent, Operation, Operations, RequestError, ServerMessage } from '../../protocol/generated/types.js';

export type * from '../../protocol/generated/types.js';

/** An error the daemon answered with (`code` is the AWS exception name), or one of the connection's own. */
export class LambdadError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly reason?: string,
  ) {
    super(message);
    this.name = code;
  }

  static from(error: RequestError): LambdadError {
    return new LambdadError(error.Code, error.Message, error.Status, error.Reason);
  }
}

type WebSocketLike = WebSocket;
type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: { ca?: string }) => WebSocketLike;

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Where a local client finds the daemon's credentials, in this order, when none are given. */
async function discoverCredentials(dataDir: string | undefined): Promise<Credentials | null> {
  const env = typeof process === 'undefined' ? {} : process.env;
  if (env.LAMBDAD_ACCESS_KEY_ID && env.LAMBDAD_SECRET_ACCESS_KEY) return { accessKeyId: env.LAMBDAD_ACCESS_KEY_ID, secretAccessKey: env.LAMBDAD_SECRET_ACCESS_KEY };
  if (typeof process === 'undefined') return null;
  const { readFile } = await import('node:fs/promises');
  const file = `${dataDir ?? env.LAMBDAD_DATA_DIR ?? './.lambdad'}/credentials.json`;
  try {
    const stored = JSON.parse(await readFile(file, 'utf8')) as Partial<Credentials>;
    return typeof stored.accessKeyId === 'string' && typeof stored.secretAccessKey === 'string' ? { accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey } : null;
  } catch {
    return null;
  }
}

export interface ClientOptions {
  /** `ws://127.0.0.1:9001/ws`; an `http(s)://host:port` base gets `/ws` added. */
  readonly url: string;
  /** Wire format: `msgpack` (default) or `protobuf`. */
  readonly codec?: 'msgpack' | 'protobuf';
  /** Time limit of a request; Invoke gets `invokeTimeoutMs`. */
  readonly requestTimeoutMs?: number;
  /** Long enough for the longest function timeout (900 s) by default. */
  readonly invokeTimeoutMs?: number;
  /** First reconnection delay; doubles up to `maxReconnectDelayMs`. */
  readonly reconnectDelayMs?: number;
  readonly maxReconnectDelayMs?: number;
  /** A WebSocket implementation, where the platform has none. */
  readonly WebSocket?: WebSocketConstructor;
  /**
   * The daemon's credentials. When not given: LAMBDAD_ACCESS_KEY_ID / LAMBDAD_SECRET_ACCESS_KEY, then
   * `<dataDir>/credentials.json` (Node.js only); without any, the connection is not signed.
   */
  readonly credentials?: Credentials;
  /** The daemon's data directory, for finding its credentials (default LAMBDAD_DATA_DIR or ./.lambdad). */
  readonly dataDir?: string;
  /** The daemon's region, part of the signature (default LAMBDAD_REGION, AWS_REGION or us-east-1). */
  readonly region?: string;
  /** PEM certificate(s) to trust for wss (Node.js only), e.g. a self-signed daemon certificate. */
  readonly ca?: string;
}

export interface InvokeOptions {
  readonly qualifier?: string;
  readonly invocationType?: 'RequestResponse' | 'DryRun';
  readonly logType?: 'None' | 'Tail';
  /** Client context object; sent base64-encoded as Lambda expects. */
  readonly clientContext?: Record<string, unknown>;
  /** An X-Ray trace header (`Root=…;Parent=…;Sampled=1`) to continue, as `X-Amzn-Trace-Id` on HTTP. */
  readonly traceHeader?: string;
}

interface Pending {
  readonly operation: Operation;
  readonly resolve: (output: never) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  /** The encoded request, kept until sent (requests wait while the connection is down). */
  frame: Uint8Array | null;
}

interface Follower {
  readonly functionName: string;
  readonly onEvent: (event: LogEvent) => void;
  readonly filterPattern?: string;
  subscription: number;
}

/** The TailLogs request that (re)opens a follower's subscription. */
function tailRequest(follower: Follower): Operations['TailLogs']['input'] {
  return { FunctionName: follower.functionName, ...(follower.filterPattern === undefined ? {} : { FilterPattern: follower.filterPattern }) };
}

const encoder = new TextEncoder();

interface RefusalResponse {
  readonly statusCode?: number;
  readonly headers: Record<string, string | string[] | undefined>;
  on(event: 'data', listener: (chunk: Uint8Array) => void): void;
  on(event: 'end', listener: () => void): void;
}

/** Where the socket can tell (Node's `ws`), calls `refused` with the error the daemon answered the upgrade with. */
function onRefusal(socket: WebSocketLike, refused: (error: LambdadError) => void): void {
  const emitter = socket as unknown as { on?: (event: string, listener: (request: { destroy(): void }, response: RefusalResponse) => void) => void };
  if (typeof emitter.on !== 'function') return;
  emitter.on('unexpected-response', (request, response) => {
    const chunks: Uint8Array[] = [];
    response.on('data', (chunk) => chunks.push(chunk));
    response.on('end', () => {
      let message = `The daemon refused the connection (HTTP ${response.statusCode ?? 0})`;
      try {
        const body = JSON.parse(new TextDecoder().decode(Buffer.concat(chunks))) as { message?: string; Message?: string };
        message = body.message ?? body.Message ?? message;
      } catch {
        // not JSON: keep the generic message
      }
      const type = response.headers['x-amzn-errortype'];
      refused(new LambdadError(typeof type === 'string' ? type : 'ConnectionRefusedException', message, response.statusCode ?? 0));
      request.destroy();
    });
  });
}

async function defaultWebSocket(): Promise<WebSocketConstructor> {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global !== undefined) return global;
  const { WebSocket } = await import('ws');
  return WebSocket as unknown as WebSocketConstructor;
}

function base64(text: string): string {
  const bytes = encoder.encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export class LambdadClient {
  readonly #url: string;
  readonly #codec: Codec;
  readonly #WebSocket: WebSocketConstructor;
  readonly #requestTimeoutMs: number;
  readonly #invokeTimeoutMs: number;
  readonly #reconnectDelayMs: number;
  readonly #maxReconnectDelayMs: number;
  readonly #pending = new Map<number, Pending>();
  readonly #followers = new Map<number, Follower>();
  #socket: WebSocketLike | null = null;
  #nextId = 1;
  #closed = false;
  #reconnectDelay: number;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #signer: SignatureV4 | null;
  readonly #ca: string | undefined;

  private constructor(options: ClientOptions, WebSocketImpl: WebSocketConstructor, credentials: Credentials | null) {
    const url = new URL(options.url);
    if (url.protocol === 'http:' || url.protocol === 'https:') {
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      url.pathname = '/ws';
    }
    this.#url = url.toString();
    this.#codec = CODECS[options.codec === 'protobuf' ? SUBPROTOCOLS.protobuf : SUBPROTOCOLS.msgpack];
    this.#WebSocket = WebSocketImpl;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#invokeTimeoutMs = options.invokeTimeoutMs ?? 905_000;
    this.#reconnectDelayMs = options.reconnectDelayMs ?? 100;
    this.#maxReconnectDelayMs = options.maxReconnectDelayMs ?? 10_000;
    this.#reconnectDelay = this.#reconnectDelayMs;
    this.#ca = options.ca;
    const env = typeof process === 'undefined' ? {} : process.env;
    const region = options.region ?? env.LAMBDAD_REGION ?? env.AWS_REGION ?? 'us-east-1';
    this.#signer = credentials === null ? null : new SignatureV4({ credentials, region, service: 'lambda', sha256: Sha256 });
  }

  /** Connects; resolves once the connection is open. */
  static async connect(options: ClientOptions): Promise<LambdadClient> {
    const credentials = options.credentials ?? (await discoverCredentials(options.dataDir));
    const client = new LambdadClient(options, options.WebSocket ?? (await defaultWebSocket()), credentials);
    await client.#open();
    return client;
  }

  get connected(): boolean {
    return this.#socket?.readyState === 1;
  }

  /** Sends one request of any operation; resolves with its output or rejects with a LambdadError. */
  call<Op extends Operation>(operation: Op, input: Operations[Op]['input'], timeoutMs?: number): Promise<Operations[Op]['output']> {
    if (this.#closed) return Promise.reject(new LambdadError('ClientClosedException', 'The client is closed', 0));
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0xffff_ffff ? 1 : this.#nextId + 1;
    const frame = this.#codec.encodeRequest({ id, [operation]: input } as never);
    return new Promise((resolve, reject) => {
      const limit = timeoutMs ?? (operation === 'Invoke' ? this.#invokeTimeoutMs : this.#requestTimeoutMs);
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new LambdadError('RequestTimeoutException', `${operation} got no answer within ${limit} ms`, 0));
      }, limit);
      const pending: Pending = { operation, resolve: resolve as (output: never) => void, reject, timer, frame };
      this.#pending.set(id, pending);
      this.#flush(pending);
    });
  }

  createFunction = (input: Operations['CreateFunction']['input']) => this.call('CreateFunction', input);
  getFunction = (input: Operations['GetFunction']['input']) => this.call('GetFunction', input);
  getFunctionConfiguration = (input: Operations['GetFunctionConfiguration']['input']) => this.call('GetFunctionConfiguration', input);
  listFunctions = (input: Operations['ListFunctions']['input'] = {}) => this.call('ListFunctions', input);
  deleteFunction = (input: Operations['DeleteFunction']['input']) => this.call('DeleteFunction', input);
  updateFunctionCode = (input: Operations['UpdateFunctionCode']['input']) => this.call('UpdateFunctionCode', input);
  updateFunctionConfiguration = (input: Operations['UpdateFunctionConfiguration']['input']) => this.call('UpdateFunctionConfiguration', input);
  publishVersion = (input: Operations['PublishVersion']['input']) => this.call('PublishVersion', input);
  listVersionsByFunction = (input: Operations['ListVersionsByFunction']['input']) => this.call('ListVersionsByFunction', input);
  createAlias = (input: Operations['CreateAlias']['input']) => this.call('CreateAlias', input);
  getAlias = (input: Operations['GetAlias']['input']) => this.call('GetAlias', input);
  updateAlias = (input: Operations['UpdateAlias']['input']) => this.call('UpdateAlias', input);
  deleteAlias = (input: Operations['DeleteAlias']['input']) => this.call('DeleteAlias', input);
  listAliases = (input: Operations['ListAliases']['input']) => this.call('ListAliases', input);
  putFunctionConcurrency = (input: Operations['PutFunctionConcurrency']['input']) => this.call('PutFunctionConcurrency', input);
  getFunctionConcurrency = (input: Operations['GetFunctionConcurrency']['input']) => this.call('GetFunctionConcurrency', input);
  deleteFunctionConcurrency = (input: Operations['DeleteFunctionConcurrency']['input']) => this.call('DeleteFunctionConcurrency', input);
  getAccountSettings = () => this.call('GetAccountSettings', {});
  putProvisionedConcurrencyConfig = (input: Operations['PutProvisionedConcurrencyConfig']['input']) => this.call('PutProvisionedConcurrencyConfig', input);
  getProvisionedConcurrencyConfig = (input: Operations['GetProvisionedConcurrencyConfig']['input']) => this.call('GetProvisionedConcurrencyConfig', input);
  deleteProvisionedConcurrencyConfig = (input: Operations['DeleteProvisionedConcurrencyConfig']['input']) => this.call('DeleteProvisionedConcurrencyConfig', input);
  listProvisionedConcurrencyConfigs = (input: Operations['ListProvisionedConcurrencyConfigs']['input']) => this.call('ListProvisionedConcurrencyConfigs', input);
  putFunctionEventInvokeConfig = (input: Operations['PutFunctionEventInvokeConfig']['input']) => this.call('PutFunctionEventInvokeConfig', input);
  updateFunctionEventInvokeConfig = (input: Operations['UpdateFunctionEventInvokeConfig']['input']) => this.call('UpdateFunctionEventInvokeConfig', input);
  getFunctionEventInvokeConfig = (input: Operations['GetFunctionEventInvokeConfig']['input']) => this.call('GetFunctionEventInvokeConfig', input);
  deleteFunctionEventInvokeConfig = (input: Operations['DeleteFunctionEventInvokeConfig']['input']) => this.call('DeleteFunctionEventInvokeConfig', input);
  listFunctionEventInvokeConfigs = (input: Operations['ListFunctionEventInvokeConfigs']['input']) => this.call('ListFunctionEventInvokeConfigs', input);
  createQueue = (input: Operations['CreateQueue']['input']) => this.call('CreateQueue', input);
  deleteQueue = (input: Operations['DeleteQueue']['input']) => this.call('DeleteQueue', input);
  listQueues = () => this.call('ListQueues', {});
  sendMessage = (input: Operations['SendMessage']['input']) => this.call('SendMessage', input);
  receiveMessage = (input: Operations['ReceiveMessage']['input']) => this.call('ReceiveMessage', input);
  deleteMessage = (input: Operations['DeleteMessage']['input']) => this.call('DeleteMessage', input);
  filterLogEvents = (input: Operations['FilterLogEvents']['input']) => this.call('FilterLogEvents', input);
  getLogEvents = (input: Operations['GetLogEvents']['input']) => this.call('GetLogEvents', input);
  publishLayerVersion = (input: Operations['PublishLayerVersion']['input']) => this.call('PublishLayerVersion', input);
  getLayerVersion = (input: Operations['GetLayerVersion']['input']) => this.call('GetLayerVersion', input);
  getLayerVersionByArn = (input: Operations['GetLayerVersionByArn']['input']) => this.call('GetLayerVersionByArn', input);
  listLayerVersions = (input: Operations['ListLayerVersions']['input']) => this.call('ListLayerVersions', input);
  listLayers = (input: Operations['ListLayers']['input'] = {}) => this.call('ListLayers', input);
  deleteLayerVersion = (input: Operations['DeleteLayerVersion']['input']) => this.call('DeleteLayerVersion', input);
  putNetwork = (input: Operations['PutNetwork']['input']) => this.call('PutNetwork', input);
  getNetwork = () => this.call('GetNetwork', {});
  putRole = (input: Operations['PutRole']['input']) => this.call('PutRole', input);
  deleteRole = (input: Operations['DeleteRole']['input']) => this.call('DeleteRole', input);
  listRoles = () => this.call('ListRoles', {});
  getTraceSummaries = (input: Operations['GetTraceSummaries']['input']) => this.call('GetTraceSummaries', input);
  batchGetTraces = (input: Operations['BatchGetTraces']['input']) => this.call('BatchGetTraces', input);

  /** Invokes a function. A payload that is not bytes or a string is sent as its JSON. */
  invoke(functionName: string, payload: Uint8Array | string | unknown = {}, options: InvokeOptions = {}): Promise<Operations['Invoke']['output']> {
    const bytes = payload instanceof Uint8Array ? payload : encoder.encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
    return this.call('Invoke', {
      FunctionName: functionName,
      Payload: bytes,
      ...(options.qualifier === undefined ? {} : { Qualifier: options.qualifier }),
      ...(options.invocationType === undefined ? {} : { InvocationType: options.invocationType }),
      ...(options.logType === undefined ? {} : { LogType: options.logType }),
      ...(options.clientContext === undefined ? {} : { ClientContext: base64(JSON.stringify(options.clientContext)) }),
      ...(options.traceHeader === undefined ? {} : { TraceHeader: options.traceHeader }),
    });
  }

  /** Calls `onEvent` with each log event of the function as it is written; follows across reconnections. */
  async tailLogs(functionName: string, onEvent: (event: LogEvent) => void, options: { filterPattern?: string } = {}): Promise<{ logGroupName: string; stop: () => Promise<void> }> {
    // A subscription is named by the id of the request that opened it: the id call() is about to use.
    const follower: Follower = { functionName, onEvent, subscription: this.#nextId, ...(options.filterPattern === undefined ? {} : { filterPattern: options.filterPattern }) };
    this.#followers.set(follower.subscription, follower);
    try {
      const { LogGroupName } = await this.call('TailLogs', tailRequest(follower));
      return {
        logGroupName: LogGroupName,
        stop: async () => {
          this.#followers.delete(follower.subscription);
          if (this.connected) await this.call('UntailLogs', { subscription: follower.subscription });
        },
      };
    } catch (error) {
      this.#followers.delete(follower.subscription);
      throw error;
    }
  }

  /** Closes the connection; requests still waiting fail. */
  close(): void {
    this.#closed = true;
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    this.#failPending(new LambdadError('ClientClosedException', 'The client was closed', 0));
    this.#socket?.close(1000);
  }

  #flush(pending: Pending): void {
    if (pending.frame === null || !this.connected) return;
    this.#socket!.send(pending.frame);
    pending.frame = null;
  }

  /** The URL to connect to, presigned (SigV4 query form, valid 5 minutes) when there are credentials. */
  async #signedUrl(): Promise<string> {
    if (this.#signer === null) return this.#url;
    const url = new URL(this.#url);
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    const presigned = await this.#signer.presign(
      { method: 'GET', protocol: url.protocol, hostname: url.hostname, path: url.pathname, query, headers: { host: url.host } },
      { expiresIn: 300 },
    );
    url.search = new URLSearchParams(presigned.query as Record<string, string>).toString();
    return url.toString();
  }

  async #open(): Promise<void> {
    const url = await this.#signedUrl();
    return new Promise((resolve, reject) => {
      const socket = this.#ca === undefined ? new this.#WebSocket(url, [this.#codec.subprotocol]) : new this.#WebSocket(url, [this.#codec.subprotocol], { ca: this.#ca });
      socket.binaryType = 'arraybuffer';
      let opened = false;
      let refused: LambdadError | null = null;
      socket.addEventListener('open', () => {
        opened = true;
        this.#socket = socket;
        this.#reconnectDelay = this.#reconnectDelayMs;
        for (const pending of this.#pending.values()) this.#flush(pending);
        this.#resubscribe();
        resolve();
      });
      socket.addEventListener('message', (event: MessageEvent) => this.#receive(new Uint8Array(event.data as ArrayBuffer)));
      socket.addEventListener('close', () => {
        if (this.#socket === socket) this.#socket = null;
        if (!opened) reject(refused ?? new LambdadError('ConnectionFailedException', `Could not connect to ${this.#url}`, 0));
        // Requests sent on this connection can no longer be answered; ones not yet sent wait for the next.
        for (const [id, pending] of this.#pending) {
          if (pending.frame !== null) continue;
          clearTimeout(pending.timer);
          this.#pending.delete(id);
          pending.reject(new LambdadError('ConnectionLostException', 'The connection to lambdad was lost before the answer came', 0));
        }
        if (!this.#closed && opened) this.#scheduleReconnect();
      });
      socket.addEventListener('error', () => undefined);
      // Node's `ws` shows why an upgrade was refused (browsers do not): report the daemon's own error.
      onRefusal(socket, (error) => {
        refused = error;
        reject(error);
      });
    });
  }

  #scheduleReconnect(): void {
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#open().catch(() => {
        this.#reconnectDelay = Math.min(this.#maxReconnectDelayMs, this.#reconnectDelay * 2);
        if (!this.#closed) this.#scheduleReconnect();
      });
    }, this.#reconnectDelay);
  }

  #resubscribe(): void {
    const followers = [...this.#followers.values()];
    this.#followers.clear();
    for (const follower of followers) {
      follower.subscription = this.#nextId;
      this.#followers.set(follower.subscription, follower);
      this.call('TailLogs', tailRequest(follower)).catch(() => this.#followers.delete(follower.subscription));
    }
  }

  #receive(frame: Uint8Array): void {
    let message: ServerMessage;
    try {
      message = this.#codec.decodeServerMessage(frame);
    } catch {
      return;
    }
    if (message.push !== undefined) {
      const event = message.push.LogEvent;
      if (event !== undefined) this.#followers.get(message.push.subscription)?.onEvent(event);
      return;
    }
    const response = message.response;
    if (response === undefined) return;
    const pending = this.#pending.get(response.id);
    if (pending === undefined) return;
    this.#pending.delete(response.id);
    clearTimeout(pending.timer);
    if (response.Error !== undefined) {
      pending.reject(LambdadError.from(response.Error));
      return;
    }
    pending.resolve(((response as unknown as Record<string, unknown>)[pending.operation] ?? {}) as never);
  }

  #failPending(error: Error): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
  }
}
