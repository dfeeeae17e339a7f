/**
 * AWS Signature Version 4 verification against the daemon's credentials (spec lambda-api.md §7): the header
 * form and the presigned-query form, a 5-minute clock skew. In two steps, so that a body is read only for a
 * request that could be genuine: `authenticate` checks what the headers say, `complete` the signature once
 * the body's hash is known. The canonical request and the signature are computed by @smithy/signature-v4 —
 * the AWS SDK's own signer — from exactly the headers the client signed.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../clock.js';
import { LambdaError } from '../errors.js';
import type { RoleSession, RoleSessions } from '../sessions/index.js';
import type { Credentials } from './credentials.js';

/** The services whose APIs lambdad serves: Lambda's, and X-Ray's trace queries. */
export type SigningService = 'lambda' | 'xray';
export const SIGNING_SERVICE: SigningService = 'lambda';
const SERVED_SERVICES: ReadonlySet<string> = new Set<SigningService>(['lambda', 'xray']);
/**
 * The services whose requests may leave their body out of the signature (`x-amz-content-sha256:
 * UNSIGNED-PAYLOAD`): on AWS, S3 alone. lambdad serves no S3 yet, so none does; S3 would be added here.
 */
const UNSIGNED_PAYLOAD_SERVICES: ReadonlySet<SigningService> = new Set<SigningService>();
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const CONTENT_SHA256 = 'x-amz-content-sha256';
/** SHA-256 of no bytes: the payload hash of a request without a body. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const ALGORITHM = 'AWS4-HMAC-SHA256';
const SKEW_MS = 5 * 60 * 1000;

/** What authentication reads before any body: the request line and the headers. */
export interface RequestHead {
  readonly method: string;
  /** The request target as received: path and query, percent-encoding intact. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** A request without a body (a WebSocket upgrade, a scrape), checked in one step. */
export interface SignedRequest extends RequestHead {
  /** The service the credential must be scoped to (default `lambda`). */
  readonly service?: SigningService;
}

/**
 * A request whose headers passed every check they allow: a known key (and its session token), a served
 * region and service, a current date, the host and every `x-amz-*` header signed. What remains is the
 * signature, which covers the body's hash.
 */
export interface PendingSignature {
  readonly caller: Caller;
  /** Resolves with the caller when the signature matches the request whose body has this SHA-256 (hex). */
  complete(service: SigningService, payloadSha256: string): Promise<Caller>;
}

interface Claim {
  readonly accessKeyId: string;
  readonly shortDate: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: string[];
  readonly signature: string;
  readonly longDate: string;
  /** Presigned form only. */
  readonly expiresSeconds?: number;
}

const invalidSignature = (message: string): LambdaError => new LambdaError('InvalidSignatureException', message);
const wrongService = (service: SigningService): LambdaError => invalidSignature(`Credential should be scoped to correct service: '${service}'.`);
const unrecognized = (): LambdaError => new LambdaError('UnrecognizedClientException', 'The security token included in the request is invalid.');

/** Who signed a request: the daemon's owner, or a function's execution-role session. */
export type Caller = { readonly kind: 'owner' } | { readonly kind: 'role'; readonly session: RoleSession };
export const OWNER: Caller = Object.freeze({ kind: 'owner' });

/** `20191018T223413Z` → Date */
function parseLongDate(value: string): Date | null {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (match === null) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

const longDateOf = (date: Date): string => date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

function parseCredential(credential: string): Pick<Claim, 'accessKeyId' | 'shortDate' | 'region' | 'service'> {
  const [accessKeyId, shortDate, region, service, terminator] = credential.split('/');
  if (accessKeyId === undefined || shortDate === undefined || region === undefined || service === undefined || terminator !== 'aws4_request') {
    throw new LambdaError('IncompleteSignatureException', `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`);
  }
  return { accessKeyId, shortDate, region, service };
}

function readClaim(url: URL, headers: IncomingHttpHeaders): Claim | null {
  const query = url.searchParams;
  if (query.has('X-Amz-Signature')) {
    if (query.get('X-Amz-Algorithm') !== ALGORITHM) throw new LambdaError('IncompleteSignatureException', `X-Amz-Algorithm must be ${ALGORITHM}`);
    return {
      ...parseCredential(query.get('X-Amz-Credential') ?? ''),
      signedHeaders: (query.get('X-Amz-SignedHeaders') ?? '').split(';'),
      signature: query.get('X-Amz-Signature') ?? '',
      longDate: query.get('X-Amz-Date') ?? '',
      expiresSeconds: Number(query.get('X-Amz-Expires') ?? 'NaN'),
    };
  }
  const authorization = headers.authorization;
  if (authorization === undefined) return null;
  const match = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)\s*$/.exec(authorization);
  if (match === null) throw new LambdaError('IncompleteSignatureException', `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters, and the ${ALGORITHM} algorithm.`);
  const date = headers['x-amz-date'];
  return {
    ...parseCredential(match[1]!),
    signedHeaders: match[2]!.split(';'),
    signature: match[3]!,
    longDate: typeof date === 'string' ? date : '',
  };
}

type Signers = Record<SigningService, SignatureV4>;

export class SigV4Verifier {
  readonly #credentials: Credentials;
  readonly #region: string;
  readonly #clock: Clock;
  readonly #signers: Signers;
  readonly #sessions: RoleSessions | null;
  /** Signers of the role sessions seen, by access key id: made once per session, not per request. */
  readonly #sessionSigners = new Map<string, Signers>();

  constructor(credentials: Credentials, region: string, clock: Clock, sessions: RoleSessions | null = null) {
    this.#credentials = credentials;
    this.#region = region;
    this.#clock = clock;
    this.#sessions = sessions;
    this.#signers = signersFor(credentials, region);
  }

  /** A request without a body: its headers, then its signature over the empty payload. */
  verify(request: SignedRequest): Promise<Caller> {
    try {
      return this.authenticate(request).complete(request.service ?? SIGNING_SERVICE, EMPTY_SHA256);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Everything the headers alone can tell, so that nothing of the body is read before it: throws the AWS
   * error of a request signed with neither the daemon's credentials nor a live role session's (whose token it
   * must carry), out of date, scoped elsewhere, or leaving the host or an `x-amz-*` header unsigned.
   */
  authenticate(head: RequestHead): PendingSignature {
    const url = new URL(head.url, 'http://lambdad.invalid');
    const claim = readClaim(url, head.headers);
    if (claim === null) throw new LambdaError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    const { caller, signers } = this.#identify(claim.accessKeyId, url, head.headers);
    if (!SERVED_SERVICES.has(claim.service)) throw wrongService(SIGNING_SERVICE);
    if (claim.region !== this.#region) throw invalidSignature(`Credential should be scoped to a valid region, not '${claim.region}'.`);

    const signingDate = parseLongDate(claim.longDate);
    if (signingDate === null) throw new LambdaError('IncompleteSignatureException', 'Authorization requires a valid X-Amz-Date in the form YYYYMMDDTHHMMSSZ.');
    if (!claim.longDate.startsWith(claim.shortDate)) throw invalidSignature(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${claim.shortDate}' != '${claim.longDate.slice(0, 8)}'`);
    this.#checkTime(signingDate, claim);
    const signed = new Set(claim.signedHeaders);
    checkSignedHeaders(signed, head.headers);
    return new HeadersChecked(caller, { claim, signed, head, url, signers, signingDate });
  }

  #identify(accessKeyId: string, url: URL, headers: IncomingHttpHeaders): { caller: Caller; signers: Signers } {
    if (accessKeyId === this.#credentials.accessKeyId) return { caller: OWNER, signers: this.#signers };
    const session = this.#sessions?.find(accessKeyId);
    if (session === undefined) throw unrecognized();
    const token = headers['x-amz-security-token'] ?? url.searchParams.get('X-Amz-Security-Token') ?? '';
    const given = Buffer.from(Array.isArray(token) ? token.join(',') : token);
    const wanted = Buffer.from(session.sessionToken);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) throw unrecognized();
    if (this.#sessions!.isExpired(session)) {
      this.#sessionSigners.delete(accessKeyId);
      throw new LambdaError('ExpiredTokenException', 'The security token included in the request is expired');
    }
    let signers = this.#sessionSigners.get(accessKeyId);
    if (signers === undefined) {
      // A new session's first request: the signers of sessions that expired since go.
      for (const key of this.#sessionSigners.keys()) {
        const known = this.#sessions!.find(key);
        if (known === undefined || this.#sessions!.isExpired(known)) this.#sessionSigners.delete(key);
      }
      this.#sessionSigners.set(accessKeyId, (signers = signersFor(session, this.#region)));
    }
    return { caller: { kind: 'role', session }, signers };
  }

  #checkTime(signingDate: Date, claim: Claim): void {
    const now = this.#clock.now();
    const signed = signingDate.getTime();
    if (claim.expiresSeconds !== undefined) {
      if (!Number.isSafeInteger(claim.expiresSeconds) || claim.expiresSeconds < 1 || claim.expiresSeconds > 604_800) {
        throw new LambdaError('IncompleteSignatureException', 'X-Amz-Expires must be an integer from 1 to 604800');
      }
      if (now > signed + claim.expiresSeconds * 1000) throw invalidSignature('Signature expired');
    } else if (signed < now - SKEW_MS) {
      throw invalidSignature(`Signature expired: ${claim.longDate} is now earlier than ${longDateOf(new Date(now - SKEW_MS))} (${longDateOf(new Date(now))} - 5 min.)`);
    }
    if (signed > now + SKEW_MS) {
      throw invalidSignature(`Signature not yet current: ${claim.longDate} is still later than ${longDateOf(new Date(now + SKEW_MS))} (${longDateOf(new Date(now))} + 5 min.)`);
    }
  }
}

/**
 * AWS: "You must include the host header (HTTP/1.1) or the :authority header (HTTP/2), and any x-amz-* headers
 * in the signature." (IAM User Guide, Create a signed AWS API request,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html). An unsigned
 * `x-amz-*` header could change the request (`X-Amz-Invocation-Type: DryRun`) without changing its signature.
 * The headers SDKs leave unsigned, `user-agent` and `x-amzn-trace-id`, are outside that rule.
 */
function checkSignedHeaders(signed: ReadonlySet<string>, headers: IncomingHttpHeaders): void {
  if (!signed.has('host')) throw new LambdaError('IncompleteSignatureException', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-amz-') && !signed.has(name)) {
      throw invalidSignature(`The request signature we calculated does not match the signature you provided: the header '${name}' is not signed. The host header and every x-amz-* header must be in SignedHeaders.`);
    }
  }
}

/** What the signature check needs of a request whose headers passed. */
interface Checked {
  readonly claim: Claim;
  readonly signed: Set<string>;
  readonly head: RequestHead;
  readonly url: URL;
  readonly signers: Signers;
  readonly signingDate: Date;
}

class HeadersChecked implements PendingSignature {
  readonly caller: Caller;
  readonly #checked: Checked;

  constructor(caller: Caller, checked: Checked) {
    this.caller = caller;
    this.#checked = checked;
  }

  /**
   * The signature must be the one the credentials give this request with a body of the given hash. The hash
   * is what the client signed: the body's own, never `UNSIGNED-PAYLOAD` outside the services that accept it.
   */
  async complete(service: SigningService, payloadSha256: string): Promise<Caller> {
    const { claim, signed, head, url, signers, signingDate } = this.#checked;
    if (claim.service !== service) throw wrongService(service);
    const claimed = head.headers[CONTENT_SHA256];
    if (claimed === UNSIGNED_PAYLOAD) {
      if (!UNSIGNED_PAYLOAD_SERVICES.has(service)) throw invalidSignature(`x-amz-content-sha256: ${UNSIGNED_PAYLOAD} is accepted by S3 alone: a ${service} request's signature covers the SHA-256 of its body.`);
    } else if (claimed !== undefined && claimed !== payloadSha256) {
      throw invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    const headers: Record<string, string> = {};
    for (const name of claim.signedHeaders) {
      const value = head.headers[name];
      if (value === undefined) throw invalidSignature(`The request signature we calculated does not match the signature you provided: signed header '${name}' is missing.`);
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    // The signer takes the payload hash from x-amz-content-sha256 when there is one: the body's hash goes
    // there, and stays out of the canonical headers unless the client signed that header.
    headers[CONTENT_SHA256] = claimed === UNSIGNED_PAYLOAD ? UNSIGNED_PAYLOAD : payloadSha256;
    const unsignableHeaders = signed.has(CONTENT_SHA256) ? NOTHING_UNSIGNABLE : CONTENT_SHA256_UNSIGNABLE;
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of url.searchParams) {
      if (claim.expiresSeconds !== undefined && key.startsWith('X-Amz-')) continue;
      const existing = query[key];
      query[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    const unsigned = { method: head.method, protocol: 'http:', hostname: 'lambdad.invalid', path: head.url.split('?', 1)[0] || '/', query, headers };
    let expected: string;
    if (claim.expiresSeconds !== undefined) {
      const presigned = await signers[service].presign(unsigned, { signingDate, expiresIn: claim.expiresSeconds, signableHeaders: signed, unsignableHeaders, unhoistableHeaders: new Set(Object.keys(headers)) });
      expected = String(presigned.query?.['X-Amz-Signature'] ?? '');
    } else {
      const request = await signers[service].sign({ ...unsigned, headers: { ...headers } }, { signingDate, signableHeaders: signed, unsignableHeaders });
      expected = /Signature=([0-9a-f]+)/.exec(String(request.headers.authorization))?.[1] ?? '';
    }
    const given = Buffer.from(claim.signature);
    const wanted = Buffer.from(expected);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      throw invalidSignature('The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
    }
    return this.caller;
  }
}

/** The signer's unsignable headers: none, or the body hash lambdad put in the client's place. */
const NOTHING_UNSIGNABLE = new Set<string>();
const CONTENT_SHA256_UNSIGNABLE = new Set([CONTENT_SHA256]);

function signersFor(credentials: Credentials, region: string): Signers {
  const signer = (service: SigningService): SignatureV4 => new SignatureV4({ credentials, region, service, sha256: Sha256, applyChecksum: false });
  return { lambda: signer('lambda'), xray: signer('xray') };
}
