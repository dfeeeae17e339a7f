/**
 * GetFunction's `Code.Location`: on AWS a presigned S3 URL that downloads the function's zip for 10 minutes.
 * lambdad serves the zip itself at `/lambdad/code/<sha256 hex>.zip`, with an expiry and an HMAC of both
 * under a key that lives as long as the daemon: the URL is the permission, as a presigned one is, so
 * tools that fetch it (the AWS CLI, SAM, Terraform) need no credentials.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../clock.js';

export const CODE_PATH = '/lambdad/code/';
const VALID_SECONDS = 600;
const HEX_NAME = /^([0-9a-f]{64})\.zip$/;

export class CodeLinks {
  readonly #zipFile: (codeSha256: string) => string | null;
  readonly #clock: Clock;
  readonly #key = randomBytes(32);
  #base = '';

  /** `zipFile` finds the zip of a CodeSha256 (null once no version keeps it). */
  constructor(zipFile: (codeSha256: string) => string | null, clock: Clock) {
    this.#zipFile = zipFile;
    this.#clock = clock;
  }

  /** Where the daemon is reached (`http://127.0.0.1:9001`): known once it listens. */
  set baseUrl(url: string) {
    this.#base = url;
  }

  location(codeSha256: string): string {
    const hex = Buffer.from(codeSha256, 'base64').toString('hex');
    const expires = Math.floor(this.#clock.now() / 1000) + VALID_SECONDS;
    return `${this.#base}${CODE_PATH}${hex}.zip?Expires=${expires}&Signature=${this.#sign(hex, expires)}`;
  }

  handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://lambdad.invalid');
    const hex = HEX_NAME.exec(url.pathname.slice(CODE_PATH.length))?.[1];
    const expires = Number(url.searchParams.get('Expires'));
    const given = Buffer.from(url.searchParams.get('Signature') ?? '');
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(response, 405, 'Only GET downloads code.');
    if (hex === undefined || !Number.isSafeInteger(expires)) return refuse(response, 404, 'No such code package.');
    const wanted = Buffer.from(this.#sign(hex, expires));
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return refuse(response, 403, 'The link is not valid.');
    if (expires * 1000 < this.#clock.now()) return refuse(response, 403, 'The link has expired.');
    const file = this.#zipFile(Buffer.from(hex, 'hex').toString('base64'));
    if (file === null) return refuse(response, 404, 'No version keeps this code package any more.');
    const stream = createReadStream(file);
    stream.once('open', () => {
      response.writeHead(200, { 'content-type': 'application/zip' });
      if (request.method === 'HEAD') {
        stream.destroy();
        response.end();
      } else stream.pipe(response);
    });
    stream.once('error', () => (response.headersSent ? response.destroy() : refuse(response, 404, 'No version keeps this code package any more.')));
  }

  #sign(hex: string, expires: number): string {
    return createHmac('sha256', this.#key).update(`${hex}\n${expires}`).digest('hex');
  }
}

function refuse(response: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ message });
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
