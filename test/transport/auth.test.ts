/**
 * Authentication: one set of daemon credentials, SigV4 on the WebSocket upgrade (header and presigned
 * forms), refusals with AWS's error types before anything is served, and TLS.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdadClient } from '../../dist/clients/node/index.js';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { presignedUrl, signedHeaders } from '../helpers/sigv4.js';

/** Opens a WebSocket; resolves with `open`, or with the HTTP refusal (status, error type, body). */
function attempt(url: string, headers: Record<string, string> = {}, options: { ca?: string } = {}): Promise<{ open: true; ws: WebSocket } | { open: false; status: number; type: string; body: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'lambdad.v1.msgpack', { headers, ...options });
    ws.once('open', () => resolve({ open: true, ws }));
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ open: false, status: response.statusCode ?? 0, type: String(response.headers['x-amzn-errortype']), body: JSON.parse(body) }));
    });
    ws.once('error', (error) => reject(error));
  });
}

describe('SigV4 on the WebSocket upgrade', () => {
  let harness: TestDaemon;
  let url: string;
  beforeAll(async () => {
    harness = await startDaemon({ auth: 'sigv4' });
    url = `${harness.daemon.url.replace('http', 'ws')}/ws`;
  });
  afterAll(async () => harness.stop());

  it('keeps generated credentials in the data directory, readable by the owner only, across restarts', async () => {
    const file = join(harness.dataDir, 'credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const before = harness.credentials();
    expect(before.accessKeyId).toMatch(/^LK[A-Z2-7]{18}$/);
    harness = await harness.restart();
    url = `${harness.daemon.url.replace('http', 'ws')}/ws`;
    expect(harness.credentials()).toEqual(before);
  });

  it('serves a request signed in the header form and one presigned in the query', async () => {
    const header = await attempt(url, await signedHeaders(url, harness.credentials()));
    expect(header.open).toBe(true);
    if (header.open) header.ws.close();
    const presigned = await attempt(await presignedUrl(url, harness.credentials()));
    expect(presigned.open).toBe(true);
    if (presigned.open) presigned.ws.close();
  });

  it('refuses no credentials, an unknown key, a wrong secret and an expired signature, with AWS\'s error types', async () => {
    const credentials = harness.credentials();
    expect(await attempt(url)).toMatchObject({ open: false, status: 403, type: 'MissingAuthenticationTokenException', body: { message: 'Missing Authentication Token' } });
    expect(await attempt(url, await signedHeaders(url, { ...credentials, accessKeyId: 'LKAAAAAAAAAAAAAAAAAA' }))).toMatchObject({
      open: false,
      status: 403,
      type: 'UnrecognizedClientException',
      body: { Type: 'User', message: 'The security token included in the request is invalid.' },
    });
    expect(await attempt(url, await signedHeaders(url, { ...credentials, secretAccessKey: 'not-the-secret-at-all' }))).toMatchObject({
      open: false,
      status: 403,
      type: 'InvalidSignatureException',
      body: { message: expect.stringMatching(/^The request signature we calculated does not match the signature you provided/) },
    });
    const expired = await attempt(url, await signedHeaders(url, credentials, { signingDate: new Date(Date.now() - 6 * 60 * 1000) }));
    expect(expired).toMatchObject({ open: false, status: 403, type: 'InvalidSignatureException', body: { message: expect.stringMatching(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/) } });
    const otherRegion = await attempt(url, await signedHeaders(url, credentials, { region: 'eu-west-1' }));
    expect(otherRegion).toMatchObject({ open: false, status: 403, type: 'InvalidSignatureException' });
    const stalePresigned = await attempt(await presignedUrl(url, credentials, { expiresIn: 60, signingDate: new Date(Date.now() - 2 * 60 * 1000) }));
    expect(stalePresigned).toMatchObject({ open: false, status: 403, type: 'InvalidSignatureException', body: { message: 'Signature expired' } });
  });

  it('tells an SDK user with a wrong secret why the daemon refused', async () => {
    const wrong = { ...harness.credentials(), secretAccessKey: 'not-the-secret-at-all' };
    await expect(LambdadClient.connect({ url: harness.daemon.url, credentials: wrong })).rejects.toMatchObject({ code: 'InvalidSignatureException', status: 403 });
  });

  it('lets the SDK find the credentials in the data directory on its own', async () => {
    const client = await LambdadClient.connect({ url: harness.daemon.url, dataDir: harness.dataDir });
    expect((await client.listFunctions()).Functions).toEqual([]);
    client.close();
  });
});

describe('credentials from the environment', () => {
  it('uses LAMBDAD_ACCESS_KEY_ID / LAMBDAD_SECRET_ACCESS_KEY instead of generating any', async () => {
    const saved = { id: process.env.LAMBDAD_ACCESS_KEY_ID, secret: process.env.LAMBDAD_SECRET_ACCESS_KEY };
    process.env.LAMBDAD_ACCESS_KEY_ID = 'LKENVIRONMENTKEY0001';
    process.env.LAMBDAD_SECRET_ACCESS_KEY = 'an-environment-secret-for-tests';
    try {
      const { loadConfig } = await import('../../dist/daemon/config.js');
      const { Daemon } = await import('../../dist/daemon/daemon.js');
      const dataDir = mkdtempSync(join(tmpdir(), 'lambdad-env-creds-'));
      const daemon = await Daemon.start(loadConfig({ port: '0', 'data-dir': dataDir, 'spare-workers': '0' }, process.env));
      try {
        const url = `${daemon.url.replace('http', 'ws')}/ws`;
        const opened = await attempt(url, await signedHeaders(url, { accessKeyId: 'LKENVIRONMENTKEY0001', secretAccessKey: 'an-environment-secret-for-tests' }));
        expect(opened.open).toBe(true);
        if (opened.open) opened.ws.close();
        expect(() => statSync(join(dataDir, 'credentials.json'))).toThrow();
      } finally {
        await daemon.stop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    } finally {
      process.env.LAMBDAD_ACCESS_KEY_ID = saved.id;
      process.env.LAMBDAD_SECRET_ACCESS_KEY = saved.secret;
      if (saved.id === undefined) delete process.env.LAMBDAD_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.LAMBDAD_SECRET_ACCESS_KEY;
    }
  });
});

describe('TLS', () => {
  let dir: string;
  let harness: TestDaemon;
  let certificate: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lambdad-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    certificate = readFileSync(join(dir, 'cert.pem'), 'utf8');
    harness = await startDaemon({ auth: 'sigv4', 'tls-cert': join(dir, 'cert.pem'), 'tls-key': join(dir, 'key.pem') });
  });
  afterAll(async () => {
    await harness.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves https and wss with --tls-cert and --tls-key', async () => {
    expect(harness.daemon.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const client = await LambdadClient.connect({ url: harness.daemon.url, credentials: harness.credentials(), ca: certificate });
    expect((await client.listFunctions()).Functions).toEqual([]);
    client.close();
    const plain = await fetch(`${harness.daemon.url.replace('https', 'http')}/healthz`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(plain).toBe('refused');
  });
});
