/** Signs a WebSocket upgrade as an AWS SDK would: SigV4 header form, or the presigned-query form. */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

function signer(credentials: Credentials, region: string): SignatureV4 {
  return new SignatureV4({ credentials, region, service: 'lambda', sha256: Sha256 });
}

function requestFor(url: URL) {
  return { method: 'GET', protocol: url.protocol, hostname: url.hostname, path: url.pathname, query: {}, headers: { host: url.host } };
}

/** Headers to send with the upgrade request to `url`. */
export async function signedHeaders(url: string, credentials: Credentials, options: { region?: string; signingDate?: Date } = {}): Promise<Record<string, string>> {
  const signed = await signer(credentials, options.region ?? 'us-east-1').sign(requestFor(new URL(url)), options.signingDate === undefined ? {} : { signingDate: options.signingDate });
  const { host: _host, ...headers } = signed.headers;
  return headers;
}

/** `url` with the SigV4 query parameters added. */
export async function presignedUrl(url: string, credentials: Credentials, options: { expiresIn?: number; signingDate?: Date } = {}): Promise<string> {
  const target = new URL(url);
  const presigned = await signer(credentials, 'us-east-1').presign(requestFor(target), { expiresIn: options.expiresIn ?? 300, ...(options.signingDate === undefined ? {} : { signingDate: options.signingDate }) });
  target.search = new URLSearchParams(presigned.query as Record<string, string>).toString();
  return target.toString();
}
