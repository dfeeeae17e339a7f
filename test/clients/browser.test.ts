/**
 * The SDK in a real browser: the client bundled for the browser (esbuild) and loaded by headless Chromium
 * (Debian's, driven by puppeteer-core) uses the browser's own WebSocket, presigns its connection with the
 * credentials it is given, creates a function and invokes it against a real daemon.
 */
import { build } from 'esbuild';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { zipOf } from '../helpers/zip.js';

const CHROMIUM = '/usr/bin/chromium';
const CLIENT = fileURLToPath(new URL('../../dist/clients/node/index.js', import.meta.url));
// CI installs Debian's chromium and sets LAMBDAD_REQUIRE_BROWSER=1, so there the test cannot be skipped; a
// developer machine without Chromium skips it.
const available = existsSync(CHROMIUM) || process.env['LAMBDAD_REQUIRE_BROWSER'] === '1';

describe.skipIf(!available)('the SDK in a browser', () => {
  let harness: TestDaemon;
  let browser: Browser;
  let server: Server;
  let work: string;
  let pageUrl: string;

  beforeAll(async () => {
    harness = await startDaemon({ auth: 'sigv4' });
    work = mkdtempSync(join(tmpdir(), 'lambdad-browser-'));
    // What only Node.js reaches (credential files, the `ws` package) stays out of the bundle.
    await build({ entryPoints: [CLIENT], bundle: true, format: 'esm', platform: 'browser', external: ['node:*', 'ws'], outfile: join(work, 'sdk.js'), logLevel: 'silent' });
    const sdk = readFileSync(join(work, 'sdk.js'));
    server = createServer((request, response) => {
      if (request.url === '/sdk.js') {
        response.writeHead(200, { 'content-type': 'text/javascript' });
        response.end(sdk);
        return;
      }
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<!doctype html><title>lambdad SDK</title>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    pageUrl = `http://127.0.0.1:${address.port}/`;
    browser = await launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    server?.close();
    await harness.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('creates and invokes a function over the browser WebSocket, presigned with the given credentials', async () => {
    const page = await browser.newPage();
    await page.goto(pageUrl);
    const zip = Array.from(zipOf('exports.handler = async (event) => ({ greeting: `hello ${event.name}`, inBrowser: false });'));
    // A script text, not a function: vitest would rewrite a function's dynamic import for Node.
    const input = { sdkUrl: `${pageUrl}sdk.js`, daemonUrl: harness.daemon.url, credentials: harness.credentials(), zipBytes: zip };
    const outcome = (await page.evaluate(`(async ({ sdkUrl, daemonUrl, credentials, zipBytes }) => {
      const { LambdadClient } = await import(sdkUrl);
      const client = await LambdadClient.connect({ url: daemonUrl, credentials });
      const created = await client.createFunction({ FunctionName: 'from-browser', Runtime: 'nodejs20.x', Role: 'arn:aws:iam::000000000000:role/browser', Handler: 'index.handler', Code: { ZipFile: new Uint8Array(zipBytes) } });
      const result = await client.invoke('from-browser', { name: 'Chromium' });
      const refused = await LambdadClient.connect({ url: daemonUrl, credentials: { ...credentials, secretAccessKey: 'wrong' } }).then(
        () => 'connected',
        (error) => error.code ?? String(error),
      );
      client.close();
      return { state: created.State, status: result.StatusCode, payload: JSON.parse(new TextDecoder().decode(result.Payload)), webSocket: typeof WebSocket, refused };
    })(${JSON.stringify(input)})`)) as { state: string; status: number; payload: unknown; webSocket: string; refused: string };
    expect(outcome).toMatchObject({ state: 'Pending', status: 200, payload: { greeting: 'hello Chromium' }, webSocket: 'function' });
    // A browser's WebSocket does not show the 403 it was refused with: the client can only say it failed.
    expect(outcome.refused).toBe('ConnectionFailedException');
  }, 60_000);
});
