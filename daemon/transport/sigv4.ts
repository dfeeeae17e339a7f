/**
 * AWS Signature Version 4 verification against the daemon's credentials (spec lambda-api.md §7): the header
 * form and the presigned-query form, a 5-minute clock skew. The canonical request and the signature are
 * computed by @smithy/signature-v4 — the AWS SDK's own signer — from exactly the headers the client signed.
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
const ALGORITHM = 'AWS4-HMAC-SHA256';
const SKEW_MS = 5 * 60 * 1000;

export interface SignedRequest {
  readonly method: string;
  /** The request target as received: path and query, percent-encoding intact. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The body, when there is one: its hash is part of what was signed. */
  readonly body?: Uint8Array;
  /** The service the credential must be scoped to (default `lambda`). */
  readonly service?: SigningService;
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

  /**
   * Resolves with the caller when the request is signed with the daemon's credentials, or with a live role
   * session's (whose token it must carry); rejects with the AWS error otherwise.
   */
  async verify(request: SignedRequest): Promise<Caller> {
    const url = new URL(request.url, 'http://lambdad.invalid');
    const claim = readClaim(url, request.headers);
    if (claim === null) throw new LambdaError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    const { caller, signers } = this.#identify(claim.accessKeyId, url, request.headers);
    const service = request.service ?? SIGNING_SERVICE;
    if (claim.service !== service) throw invalidSignature(`Credential should be scoped to correct service: '${service}'.`);
    if (claim.region !== this.#region) throw invalidSignature(`Credential should be scoped to a valid region, not '${claim.region}'.`);

    const signingDate = parseLongDate(claim.longDate);
    if (signingDate === null) throw new LambdaError('IncompleteSignatureException', 'Authorization requires a valid X-Amz-Date in the form YYYYMMDDTHHMMSSZ.');
    if (!claim.longDate.startsWith(claim.shortDate)) throw invalidSignature(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${claim.shortDate}' != '${claim.longDate.slice(0, 8)}'`);
    this.#checkTime(signingDate, claim);

    const headers: Record<string, string> = {};
    for (const name of claim.signedHeaders) {
      const value = request.headers[name];
      if (value === undefined) throw invalidSignature(`The request signature we calculated does not match the signature you provided: signed header '${name}' is missing.`);
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of url.searchParams) {
      if (claim.expiresSeconds !== undefined && key.startsWith('X-Amz-')) continue;
      const existing = query[key];
      query[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    const unsigned = {
      method: request.method,
      protocol: 'http:',
      hostname: 'lambdad.invalid',
      path: request.url.split('?', 1)[0] || '/',
      query,
      headers,
      // The signer hashes the body itself, unless the client sent (and signed) x-amz-content-sha256.
      body: request.body,
    };
    const signableHeaders = new Set(claim.signedHeaders);
    let expected: string;
    if (claim.expiresSeconds !== undefined) {
      const presigned = await signers[service].presign(unsigned, { signingDate, expiresIn: claim.expiresSeconds, signableHeaders, unhoistableHeaders: new Set(Object.keys(headers)) });
      expected = String(presigned.query?.['X-Amz-Signature'] ?? '');
    } else {
      const signed = await signers[service].sign({ ...unsigned, headers: { ...headers } }, { signingDate, signableHeaders });
      expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization))?.[1] ?? '';
    }
    const given = Buffer.from(claim.signature);
    const wanted = Buffer.from(expected);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      throw invalidSignature('The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
    }
    return caller;
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

function signersFor(credentials: Credentials, region: string): Signers {
  const signer = (service: SigningService): SignatureV4 => new SignatureV4({ credentials, region, service, sha256: Sha256, applyChecksum: false });
  return { lambda: signer('lambda'), xray: signer('xray') };
}
