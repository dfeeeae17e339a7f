/**
 * The REST front door under fire: 100,000 requests against a real SigV4 daemon, half of them with a signature
 * mangled after (or before) signing, half correctly signed with mangled bodies, paths, queries and headers, on
 * every route of the API. The daemon must never answer 5xx, must name the error of every refusal with a type of
 * its errors table, must refuse every request whose signature does not cover what arrived, and must keep
 * serving a well-behaved client afterwards.
 *
 * Cases come from a seeded generator, one PRNG per case, so any failure reproduces from the seed and the case
 * index it prints: `FUZZ_SEED=<seed> npx vitest run test/rest/fuzz.test.ts` (`FUZZ_CASES` runs fewer or more).
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, randomInt } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../dist/daemon/errors.js';
import { ROUTES } from '../../dist/daemon/transport/rest/routes.js';
import { ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { mix, Random } from '../helpers/random.js';
import { zipOf } from '../helpers/zip.js';

const CASES = Number(process.env.FUZZ_CASES ?? 100_000);
/** Requests in flight at once. */
const LANES = 16;
const SEED = process.env.FUZZ_SEED === undefined ? randomInt(2 ** 32) : Number(process.env.FUZZ_SEED) >>> 0;
const REGION = 'us-east-1';
/** The function most cases aim at (a no-op), and one no case touches, for the check after the run. */
const TARGET = 'rest-fuzz-target';
const STEADY = 'rest-fuzz-steady';
const NO_OP_ZIP = Buffer.from(zipOf('exports.handler = async () => 1;')).toString('base64');

/** The SDK's signer, with Node's sha256 so that signing 100,000 requests costs the test little. */
class NodeSha256 {
  readonly #hash;
  constructor(secret?: Uint8Array | string) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
  }
  update(data: Uint8Array | string): void {
    this.#hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

interface Draft {
  method: string;
  /** Path as sent (percent-encoding and all) and as signed. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

interface Case {
  readonly index: number;
  readonly what: string;
  readonly method: string;
  readonly target: string;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
  /** The signature cannot cover what is sent: the daemon must refuse it (4xx). */
  readonly mustRefuse: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// Requests: a route of the API, its labels, query and a body.

const SERVICE_OF = (path: string): 'lambda' | 'xray' => (path === '/TraceSummaries' || path === '/Traces' ? 'xray' : 'lambda');

function functionName(random: Random, route: (typeof ROUTES)[number]): string {
  if (route.operation === 'Invoke') return TARGET;
  const destructive = route.method === 'DELETE' || route.operation === 'CreateFunction';
  const pool = destructive ? [`fuzz-made-${random.int(4)}`] : [TARGET, `fuzz-made-${random.int(4)}`];
  if (random.chance(0.1)) return random.pick(['', 'x'.repeat(200), 'arn:aws:lambda:us-east-1:000000000000:function:' + TARGET, 'a b', '../..', '%', 'é']);
  return random.pick(pool);
}

function label(random: Random, name: string, route: (typeof ROUTES)[number]): string {
  switch (name) {
    case 'FunctionName':
      return functionName(random, route);
    case 'Name':
      return random.chance(0.9) ? `a${random.int(4)}` : random.printable(random.length(200));
    case 'LayerName':
      return random.chance(0.9) ? 'fuzz-layer' : random.printable(random.length(200));
    default:
      return random.chance(0.8) ? String(1 + random.int(3)) : random.printable(random.length(30));
  }
}

/** A value of any JSON type, the wrong one for most members. */
function anyJson(random: Random, depth = 0): unknown {
  const values: Array<() => unknown> = [
    () => -1,
    () => 0,
    () => 3,
    () => 2 ** 31,
    () => 2 ** 53 + 2,
    () => 1.5,
    () => 1e308,
    () => true,
    () => null,
    () => '',
    () => 'x'.repeat(random.length(5000)),
    () => random.printable(random.length(40)),
    () => '\u0000\ud800é😀',
    () => (depth < 4 ? Array.from({ length: random.int(4) }, () => anyJson(random, depth + 1)) : []),
    () => (depth < 4 ? { [random.pick(['Variables', 'Mode', 'SubnetIds', 'A', '__proto__', 'constructor'])]: anyJson(random, depth + 1) } : {}),
  ];
  return random.pick(values)();
}

/** A plausible body for the operation, before mangling. */
function template(random: Random, operation: string): Record<string, unknown> {
  switch (operation) {
    case 'CreateFunction':
      return { FunctionName: `fuzz-made-${random.int(4)}`, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: NO_OP_ZIP }, Timeout: 3 };
    case 'UpdateFunctionCode':
      return { ZipFile: NO_OP_ZIP, Publish: random.chance(0.2) };
    case 'UpdateFunctionConfiguration':
      return { Description: `d${random.int(9)}`, Timeout: 1 + random.int(5), Environment: { Variables: { A: '1' } } };
    case 'PublishVersion':
      return { Description: 'fuzz' };
    case 'CreateAlias':
      return { Name: `a${random.int(4)}`, FunctionVersion: '$LATEST' };
    case 'UpdateAlias':
      return { FunctionVersion: '$LATEST', RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } } };
    case 'PutFunctionConcurrency':
      return { ReservedConcurrentExecutions: random.int(3) };
    case 'PutProvisionedConcurrencyConfig':
      return { ProvisionedConcurrentExecutions: 1 };
    case 'PutFunctionEventInvokeConfig':
    case 'UpdateFunctionEventInvokeConfig':
      return { MaximumRetryAttempts: random.int(3), MaximumEventAgeInSeconds: 60 + random.int(100) };
    case 'PublishLayerVersion':
      return { Content: { ZipFile: NO_OP_ZIP }, CompatibleRuntimes: ['nodejs20.x'] };
    case 'GetTraceSummaries':
      return { StartTime: 0, EndTime: 1 };
    case 'BatchGetTraces':
      return { TraceIds: ['1-00000000-000000000000000000000000'] };
    default:
      return {};
  }
}

/** Members set to values of the wrong type, dropped, or added; sometimes a body that is not JSON at all. */
function mangledJson(random: Random, operation: string): Buffer {
  const body = template(random, operation);
  const roll = random.int(10);
  if (roll === 0) return Buffer.from(random.bytes(random.length(2000)));
  if (roll === 1) {
    const text = JSON.stringify(body);
    return Buffer.from(text.slice(0, random.int(text.length + 1)));
  }
  if (roll === 2) {
    // Deep nesting: a JSON parser that recurses must not bring a 500.
    const depth = random.pick([50, 500, 5_000, 100_000]);
    const open = random.chance(0.5) ? '[' : '{"a":';
    const close = open === '[' ? ']' : '}';
    return Buffer.from(`${open.repeat(depth)}1${close.repeat(depth)}`);
  }
  if (roll === 3) return Buffer.from(JSON.stringify(random.pick<unknown>([[], 1, 'text', null, true, [body]])));
  const keys = Object.keys(body);
  const edits = 1 + random.int(3);
  for (let i = 0; i < edits; i++) {
    const key = keys.length > 0 && random.chance(0.7) ? random.pick(keys) : random.pick(['Zzz', 'FunctionName', 'Code', 'MemorySize', 'VpcConfig', 'Layers', 'Environment', 'TracingConfig', 'EphemeralStorage']);
    if (random.chance(0.2)) delete body[key];
    else body[key] = anyJson(random);
  }
  return Buffer.from(random.chance(0.9) ? JSON.stringify(body) : JSON.stringify(body).replace(/"/, "'"));
}

function draft(random: Random): Draft {
  const route = random.pick(ROUTES);
  const path = route.path.replace(/\{(\w+)\}/g, (_whole, name: string) => encodeURIComponent(label(random, name, route)));
  const query: Record<string, string> = {};
  if (route.when !== undefined) query[route.when.name] = route.when.value;
  if (random.chance(0.3)) query[random.pick(['Qualifier', 'MaxItems', 'Marker', 'FunctionVersion', 'Zzz'])] = random.pick(['$LATEST', '1', 'live', '-1', '0', '99999999999', random.printable(random.length(60))]);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  let body = Buffer.alloc(0);
  if (route.operation === 'Invoke') {
    body = random.chance(0.8) ? Buffer.from(JSON.stringify({ n: random.int(100) })) : mangledJson(random, 'Invoke');
    if (random.chance(0.4)) headers['x-amz-invocation-type'] = random.pick(['RequestResponse', 'Event', 'DryRun', 'event', random.printable(10)]);
    if (random.chance(0.3)) headers['x-amz-log-type'] = random.pick(['Tail', 'None', 'tail', random.printable(8)]);
    if (random.chance(0.2)) headers['x-amz-client-context'] = random.pick([Buffer.from('{"custom":{"a":1}}').toString('base64'), random.printable(random.length(4000)), '!!!']);
  } else if (route.method === 'POST' || route.method === 'PUT') {
    body = mangledJson(random, route.operation);
  } else if (random.chance(0.05)) {
    body = Buffer.from(random.printable(random.length(100)));
  }
  return { method: route.method, path, query, headers, body };
}

// ---------------------------------------------------------------------------------------------------------
// Signing, and signatures mangled.

type Signers = { lambda: SignatureV4; xray: SignatureV4 };

async function signHeaders(signers: Signers, host: string, request: Draft, options: { checksum?: boolean; contentHash?: string; signingDate?: Date } = {}): Promise<Record<string, string | string[]>> {
  const headers: Record<string, string> = { ...(request.headers as Record<string, string>), host };
  if (options.contentHash !== undefined) headers['x-amz-content-sha256'] = options.contentHash;
  else if (options.checksum === true) headers['x-amz-content-sha256'] = createHash('sha256').update(request.body).digest('hex');
  const signed = await signers[SERVICE_OF(request.path)].sign(
    { method: request.method, protocol: 'http:', hostname: host.split(':')[0]!, path: request.path, query: request.query, headers, body: request.body },
    options.signingDate === undefined ? {} : { signingDate: options.signingDate },
  );
  return signed.headers;
}

function queryString(query: Record<string, string>): string {
  const text = new URLSearchParams(query).toString();
  return text === '' ? '' : `?${text}`;
}

const HEX = '0123456789abcdef';

/** The Authorization header with one of its parts changed. */
function mangledAuthorization(random: Random, authorization: string): string {
  const match = /^(\S+) Credential=([^,]+), SignedHeaders=([^,]+), Signature=(\S+)$/.exec(authorization);
  if (match === null) return authorization;
  let [, algorithm, credential, signedHeaders, signature] = match as unknown as [string, string, string, string, string];
  switch (random.int(6)) {
    case 0:
      algorithm = random.pick(['AWS4-HMAC-SHA512', 'aws4-hmac-sha256', '', 'AWS4-HMAC-SHA256\u0009', random.printable(12)]);
      break;
    case 1: {
      const parts = credential.split('/');
      const at = random.int(parts.length + 1);
      if (random.chance(0.3)) parts.splice(at, 1);
      else if (random.chance(0.3)) parts.splice(at, 0, random.printable(random.length(20)));
      else parts[at % parts.length] = random.pick(['', 'LKAAAAAAAAAAAAAAAAAA', 'ASIA0000000000000000', '19990101', 'eu-west-1', 's3', 'xray', 'aws4_request ', random.printable(random.length(40))]);
      credential = parts.join('/');
      break;
    }
    case 2: {
      const names = signedHeaders.split(';');
      const edit = random.int(5);
      if (edit === 0) names.splice(random.int(names.length), 1);
      else if (edit === 1) names.push(random.pick(['x-unknown', 'content-length', 'user-agent', 'X-Amz-Date', '']));
      else if (edit === 2) names.reverse();
      else if (edit === 3) names.push(...Array.from({ length: 500 }, (_, i) => `h${i}`));
      else names.length = 0;
      signedHeaders = names.join(';');
      break;
    }
    case 3: {
      const at = random.int(signature.length);
      const flipped = HEX[(HEX.indexOf(signature[at]!) + 1 + random.int(15)) % 16]!;
      signature = random.pick([`${signature.slice(0, at)}${flipped}${signature.slice(at + 1)}`, signature.toUpperCase(), signature.slice(0, random.int(64)), signature.repeat(20), random.printable(64)]);
      break;
    }
    case 4:
      return random.pick([`${algorithm} Credential=${credential},SignedHeaders=${signedHeaders},Signature=${signature}`, `${algorithm}  Credential=${credential}, Signature=${signature}`, `${algorithm} Credential=${credential}, SignedHeaders=${signedHeaders}, Signature=${signature}, Extra=1`]);
    default:
      return random.printable(random.length(300));
  }
  return `${algorithm} Credential=${credential}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

/** A signed request, then changed: `mustRefuse` when the signature can no longer cover what is sent. */
async function mangledSignature(random: Random, signers: Signers, host: string, request: Draft): Promise<Omit<Case, 'index' | 'method'>> {
  const target = `${request.path}${queryString(request.query)}`;
  const kind = random.int(12);
  const done = (what: string, headers: Record<string, string | string[]>, mustRefuse: boolean, sent: { target?: string; body?: Buffer } = {}) => ({
    what,
    target: sent.target ?? target,
    headers,
    body: sent.body ?? request.body,
    mustRefuse,
  });
  switch (kind) {
    case 0: {
      const { authorization: _dropped, ...headers } = await signHeaders(signers, host, request);
      return done('no authorization', headers, true);
    }
    case 1: {
      const headers = await signHeaders(signers, host, request);
      return done('authorization mangled', { ...headers, authorization: mangledAuthorization(random, String(headers.authorization)) }, false);
    }
    case 2: {
      const signingDate = new Date(Date.now() + random.pick([-1, 1]) * random.pick([6 * 60_000, 86_400_000, 10 * 365 * 86_400_000]));
      return done('signed at another time', await signHeaders(signers, host, request, { signingDate }), true);
    }
    case 3: {
      const headers = await signHeaders(signers, host, request);
      const date = random.pick(['', '20261203', '20261203T120000', 'yesterday', '99999999T999999Z', random.printable(16)]);
      return done('x-amz-date replaced', { ...headers, 'x-amz-date': date }, true);
    }
    case 4: {
      // Signed over UNSIGNED-PAYLOAD (or a hash of something else): only S3 takes that, and lambdad serves no S3.
      const contentHash = random.chance(0.5) ? 'UNSIGNED-PAYLOAD' : createHash('sha256').update('another body').digest('hex');
      const headers = await signHeaders(signers, host, request, { contentHash });
      return done(`content hash ${contentHash.slice(0, 16)} signed`, headers, true, { body: Buffer.from(JSON.stringify({ swapped: random.int(100) })) });
    }
    case 5: {
      const headers = await signHeaders(signers, host, request, { checksum: random.chance(0.5) });
      const name = random.pick(['x-amz-invocation-type', 'x-amz-log-type', 'x-amz-client-context', 'x-amz-target', 'x-amz-foo']);
      const value = random.pick(['DryRun', 'Tail', 'Event', 'e30=']);
      // A header signed with the very value sent is still covered.
      return done(`${name}: ${value} after signing`, { ...headers, [name]: value }, headers[name] !== value);
    }
    case 6: {
      const headers = await signHeaders(signers, host, request, { checksum: random.chance(0.5) });
      return done('body swapped after signing', headers, true, { body: Buffer.concat([request.body, Buffer.from(' ')]) });
    }
    case 7: {
      // Malformed percent-encoding in the path or query, signed as sent.
      const bad = random.pick(['%zz', '%4', '%', '%%41', '%u0041']);
      const inPath = random.chance(0.5);
      const path = inPath ? `${request.path}${bad}` : request.path;
      const headers = await signHeaders(signers, host, { ...request, path });
      const sentTarget = inPath ? `${path}${queryString(request.query)}` : `${request.path}?Qualifier=${bad}`;
      return done(`bad percent-encoding ${bad} in ${inPath ? 'path' : 'query'}`, headers, true, { target: sentTarget });
    }
    case 8: {
      const headers = await signHeaders(signers, host, request);
      return done('query added after signing', headers, true, { target: `${request.path}${queryString({ ...request.query, Qualifier: '2' })}` });
    }
    case 9: {
      const headers = await signHeaders(signers, host, request);
      return done('security token added', { ...headers, 'x-amz-security-token': random.printable(random.length(400)) }, true);
    }
    case 10: {
      const headers = await signHeaders(signers, host, request);
      return done('two authorization headers', { ...headers, authorization: [String(headers.authorization), mangledAuthorization(random, String(headers.authorization))] }, false);
    }
    default: {
      // The presigned form, with one query member changed.
      const { host: _host, ...unsignedHeaders } = { ...(request.headers as Record<string, string>), host };
      const presigned = await signers[SERVICE_OF(request.path)].presign(
        { method: request.method, protocol: 'http:', hostname: host.split(':')[0]!, path: request.path, query: request.query, headers: { ...unsignedHeaders, host }, body: request.body },
        { expiresIn: 300 },
      );
      const query = { ...(presigned.query as Record<string, string>) };
      const member = random.pick(['X-Amz-Expires', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Algorithm']);
      const value = random.pick(['-1', '0', '604801', '99999999999999999999', 'abc', '', random.printable(random.length(80))]);
      const keep = random.chance(0.2);
      if (!keep) query[member] = value;
      return done(keep ? 'presigned' : `presigned with ${member}=${value}`, presigned.headers as Record<string, string>, false, { target: `${request.path}?${new URLSearchParams(query).toString()}` });
    }
  }
}

async function caseAt(index: number, signers: Signers, host: string): Promise<Case> {
  const random = new Random(mix(SEED, index));
  const request = draft(random);
  if (random.chance(0.5)) {
    const mangled = await mangledSignature(random, signers, host, request);
    return { index, method: request.method, ...mangled };
  }
  const headers = await signHeaders(signers, host, request, { checksum: random.chance(0.5) });
  return { index, what: 'signed', method: request.method, target: `${request.path}${queryString(request.query)}`, headers, body: request.body, mustRefuse: false };
}

// ---------------------------------------------------------------------------------------------------------
// Sending.

interface Answer {
  readonly status: number;
  readonly errorType: string | undefined;
}

function send(agent: Agent, port: number, request: Case): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { ...request.headers, 'content-length': String(request.body.byteLength) };
    delete (headers as Record<string, unknown>).host;
    const outgoing = httpRequest({ host: '127.0.0.1', port, method: request.method, path: request.target, headers, agent }, (response) => {
      response.resume();
      response.once('end', () => resolve({ status: response.statusCode ?? 0, errorType: response.headers['x-amzn-errortype'] as string | undefined }));
      response.once('error', reject);
    });
    outgoing.once('error', reject);
    outgoing.end(request.body);
  });
}

describe('REST fuzz: SigV4 headers and request bodies', () => {
  let harness: TestDaemon;
  let port: number;
  let signers: Signers;

  beforeAll(async () => {
    harness = await startDaemon({ auth: 'sigv4', isolation: 'thread', 'async-retry-delay-ms': '0' });
    port = Number(new URL(harness.daemon.url).port);
    const credentials = harness.credentials();
    const signer = (service: string) => new SignatureV4({ credentials, region: REGION, service, sha256: NodeSha256, applyChecksum: false });
    signers = { lambda: signer('lambda'), xray: signer('xray') };
    for (const name of [TARGET, STEADY]) {
      harness.daemon.service.createFunction({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zipOf('exports.handler = async () => 1;') } });
    }
  });
  afterAll(async () => harness.stop());

  it(`answers ${CASES.toLocaleString('en-US')} mangled requests with typed 4xx or success, never 5xx, and still serves (seed ${SEED})`, { timeout: 420_000 }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: LANES });
    const host = `127.0.0.1:${port}`;
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const deadline = Date.now() + 360_000;
    const lane = async (): Promise<void> => {
      while (next < CASES && failures.length < 10 && Date.now() < deadline) {
        const request = await caseAt(next++, signers, host);
        const where = `case ${request.index} (${request.what}: ${request.method} ${request.target.slice(0, 120)})`;
        let answer: Answer;
        try {
          answer = await send(agent, port, request);
        } catch (error) {
          failures.push(`${where}: no answer: ${(error as Error).message}`);
          continue;
        }
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status >= 500) failures.push(`${where}: ${answer.status} ${answer.errorType} for body ${request.body.subarray(0, 300).toString()}`);
        else if (answer.status >= 400 && (answer.errorType === undefined || !(answer.errorType in ERRORS))) failures.push(`${where}: ${answer.status} without a known error type (${answer.errorType})`);
        else if (request.mustRefuse && answer.status < 400) failures.push(`${where}: accepted (${answer.status}) though the signature does not cover it`);
      }
    };
    await Promise.all(Array.from({ length: LANES }, lane));
    agent.destroy();
    expect(failures, `seed ${SEED}; statuses ${JSON.stringify(Object.fromEntries(statuses))}`).toEqual([]);
    expect(next, 'every case was sent within the time bound').toBe(CASES);

    // Still serving: health, and a signed invocation of the function no case touched.
    const health = await fetch(`${harness.daemon.url}/healthz`);
    expect(health.status).toBe(200);
    const invoke: Case = { index: -1, what: 'steady', method: 'POST', target: `/2015-03-31/functions/${STEADY}/invocations`, headers: {}, body: Buffer.from('{}'), mustRefuse: false };
    const headers = await signHeaders(signers, host, { method: 'POST', path: invoke.target, query: {}, headers: {}, body: invoke.body });
    expect(await send(new Agent(), port, { ...invoke, headers })).toEqual({ status: 200, errorType: undefined });
  });
});
