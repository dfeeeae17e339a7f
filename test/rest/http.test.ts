/**
 * The REST API at the HTTP level: what a hand-written client or a proxy sees. AWS-style errors for unknown
 * routes and unreadable bodies, size limits checked before the body is read, and SigV4 refusals (403 with
 * the right type) that leave nothing created.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { zipOf } from '../helpers/zip.js';

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Answer {
  status: number;
  type: string | null;
  requestId: string | null;
  body: any;
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  return { status: response.status, type: response.headers.get('x-amzn-errortype'), requestId: response.headers.get('x-amzn-requestid'), body: text === '' ? null : JSON.parse(text) };
}

const createBody = (name: string) => JSON.stringify({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: Buffer.from(zipOf('exports.handler = async () => 1;')).toString('base64') } });

describe('REST API over plain HTTP', () => {
  let harness: TestDaemon;
  beforeAll(async () => {
    harness = await startDaemon();
  });
  afterAll(async () => harness.stop());

  it('answers an unknown path or method with UnknownOperationException, in JSON, with a request id', async () => {
    for (const [method, path] of [['GET', '/2015-03-31/nothing-here'], ['PATCH', '/2015-03-31/functions'], ['GET', '/']]) {
      const result = await answer(await fetch(`${harness.daemon.url}${path}`, { method }));
      expect(result).toMatchObject({ status: 400, type: 'UnknownOperationException', body: { message: `No Lambda or X-Ray operation is served at ${method} ${path}` } });
      expect(result.requestId).toMatch(UUID);
    }
  });

  it('refuses a body that is not JSON, a blob that is not base64 and a member of the wrong type as SerializationException', async () => {
    const url = `${harness.daemon.url}/2015-03-31/functions`;
    const notJson = await answer(await fetch(url, { method: 'POST', body: '{"FunctionName":' }));
    expect(notJson).toMatchObject({ status: 400, type: 'SerializationException' });
    expect(notJson.body.message).toMatch(/^The request body is not JSON/);

    const notBase64 = await answer(await fetch(url, { method: 'POST', body: JSON.stringify({ ...JSON.parse(createBody('raw-b64')), Code: { ZipFile: 'not base64!' } }) }));
    expect(notBase64).toMatchObject({ status: 400, type: 'SerializationException', body: { message: 'Code.ZipFile must be base64' } });

    const wrongType = await answer(await fetch(url, { method: 'POST', body: JSON.stringify({ ...JSON.parse(createBody('raw-type')), MemorySize: 'lots' }) }));
    expect(wrongType).toMatchObject({ status: 400, type: 'SerializationException' });
    expect(wrongType.body.message).toContain('MemorySize');

    const missing = await answer(await fetch(url, { method: 'POST', body: JSON.stringify({ FunctionName: 'raw-missing' }) }));
    expect(missing).toMatchObject({ status: 400, type: 'ValidationException', body: { message: "1 validation error detected: Value null at 'runtime' failed to satisfy constraint: Member must not be null" } });

    expect((await answer(await fetch(url))).body.Functions).toEqual([]);
  });

  it('refuses a body over the operation limit from its declared length, before reading it', async () => {
    const { port } = new URL(harness.daemon.url);
    const result = await new Promise<{ status: number; type: string; body: any }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/2015-03-31/functions', headers: { 'content-length': String(80 * 1024 * 1024) } }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['x-amzn-errortype']), body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.write('{"FunctionName":"big"'); // the rest never comes: the answer must not wait for it
    });
    expect(result).toEqual({ status: 413, type: 'RequestEntityTooLargeException', body: { Type: 'User', message: 'Request must be smaller than 70167211 bytes for the CreateFunction operation' } });
  });

  it('serves Invoke with the raw event and the Lambda headers', async () => {
    expect((await fetch(`${harness.daemon.url}/2015-03-31/functions`, { method: 'POST', body: createBody('raw-invoke') })).status).toBe(201);
    const response = await fetch(`${harness.daemon.url}/2015-03-31/functions/raw-invoke/invocations`, { method: 'POST', body: '{"a":1}', headers: { 'X-Amz-Log-Type': 'Tail' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-amz-executed-version')).toBe('$LATEST');
    expect(response.headers.get('x-amzn-requestid')).toMatch(UUID);
    expect(Buffer.from(response.headers.get('x-amz-log-result') ?? '', 'base64').toString()).toContain('REPORT RequestId: ');
    expect(await response.text()).toBe('1');

    const badType = await answer(await fetch(`${harness.daemon.url}/2015-03-31/functions/raw-invoke/invocations`, { method: 'POST', body: '{}', headers: { 'X-Amz-Invocation-Type': 'Sometimes' } }));
    expect(badType).toMatchObject({ status: 400, type: 'ValidationException' });
    const encoded = await fetch(`${harness.daemon.url}/2015-03-31/functions/${encodeURIComponent('raw-invoke:$LATEST')}/invocations`, { method: 'POST', body: '{}' });
    expect(encoded.headers.get('x-amz-executed-version')).toBe('$LATEST');
  });
});

describe('X-Ray trace headers on Invoke', () => {
  let harness: TestDaemon;
  beforeAll(async () => {
    harness = await startDaemon();
    for (const [name, mode] of [['traced-passthrough', 'PassThrough'], ['traced-active', 'Active']] as const) {
      harness.daemon.service.createFunction({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'env.handler', Code: { Directory: `${FIXTURES}/behaviours` }, TracingConfig: { Mode: mode } });
    }
  });
  afterAll(async () => harness.stop());

  async function invoke(name: string, headers: Record<string, string> = {}): Promise<{ header: string | null; env: string | undefined }> {
    const response = await fetch(`${harness.daemon.url}/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: '{}', headers });
    const body = (await response.json()) as { env: Record<string, string> };
    expect(body.env.AWS_XRAY_CONTEXT_MISSING).toBe('LOG_ERROR');
    return { header: response.headers.get('x-amzn-trace-id'), env: body.env._X_AMZN_TRACE_ID };
  }

  it("continues the caller's trace (Root, Sampled, Lineage) under a new Parent, and answers the header the handler saw", async () => {
    const incoming = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:0';
    const { header, env } = await invoke('traced-passthrough', { 'X-Amzn-Trace-Id': incoming });
    expect(header).toBe(env);
    expect(env).toMatch(/^Root=1-5759e988-bd862e3fe1be46a994272793;Parent=(?!53995c3f42cd8ad8)[0-9a-f]{16};Sampled=1;Lineage=a87bd80c:0$/);
  });

  it('starts a trace when none came in: not sampled for PassThrough, sampled by the default rule for Active', async () => {
    const passThrough = await invoke('traced-passthrough');
    expect(passThrough.env).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
    const active = await invoke('traced-active');
    expect(active.env).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$/);
    expect(active.env!.slice(0, 40)).not.toBe(passThrough.env!.slice(0, 40));
  });
});

describe('SigV4 on the REST API', () => {
  let harness: TestDaemon;
  beforeAll(async () => {
    harness = await startDaemon({ auth: 'sigv4' });
  });
  afterAll(async () => harness.stop());

  /** A request signed as an AWS SDK signs it, then optionally spoiled. */
  async function signed(options: { accessKeyId?: string; secretAccessKey?: string; signingDate?: Date; body?: string; tamper?: string } = {}): Promise<Answer> {
    const url = new URL(`${harness.daemon.url}/2015-03-31/functions`);
    const credentials = { ...harness.credentials(), ...(options.accessKeyId === undefined ? {} : { accessKeyId: options.accessKeyId }), ...(options.secretAccessKey === undefined ? {} : { secretAccessKey: options.secretAccessKey }) };
    const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'lambda', sha256: Sha256 });
    const body = options.body ?? createBody('signed-fn');
    const request = await signer.sign(
      { method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers: { host: url.host, 'content-type': 'application/json' }, body },
      options.signingDate === undefined ? {} : { signingDate: options.signingDate },
    );
    const { host: _host, ...headers } = request.headers;
    return answer(await fetch(url, { method: 'POST', headers, body: options.tamper ?? body }));
  }

  it('refuses a bad signature, an unknown key, an expired date, a changed body and no signature — and creates nothing', async () => {
    const badSignature = await signed({ secretAccessKey: 'not-the-secret' });
    expect(badSignature).toMatchObject({ status: 403, type: 'InvalidSignatureException' });
    expect(badSignature.body.message).toMatch(/^The request signature we calculated does not match the signature you provided/);

    const unknownKey = await signed({ accessKeyId: 'AKIAUNKNOWNKEY000000' });
    expect(unknownKey).toMatchObject({ status: 403, type: 'UnrecognizedClientException', body: { Type: 'User', message: 'The security token included in the request is invalid.' } });

    const expired = await signed({ signingDate: new Date(Date.now() - 10 * 60 * 1000) });
    expect(expired).toMatchObject({ status: 403, type: 'InvalidSignatureException' });
    expect(expired.body.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);

    const changed = await signed({ tamper: createBody('someone-else') });
    expect(changed).toMatchObject({ status: 403, type: 'InvalidSignatureException' });

    const unsigned = await answer(await fetch(`${harness.daemon.url}/2015-03-31/functions`, { method: 'POST', body: createBody('unsigned-fn') }));
    expect(unsigned).toMatchObject({ status: 403, type: 'MissingAuthenticationTokenException' });

    const list = await (async () => {
      const url = new URL(`${harness.daemon.url}/2015-03-31/functions`);
      const signer = new SignatureV4({ credentials: harness.credentials(), region: 'us-east-1', service: 'lambda', sha256: Sha256 });
      const request = await signer.sign({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers: { host: url.host } });
      const { host: _host, ...headers } = request.headers;
      return answer(await fetch(url, { headers }));
    })();
    expect(list).toMatchObject({ status: 200, body: { Functions: [] } });

    const good = await signed();
    expect(good).toMatchObject({ status: 201, body: { FunctionName: 'signed-fn' } });
  });
});
