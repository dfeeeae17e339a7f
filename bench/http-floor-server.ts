/**
 * The floors of the HTTP benchmark, run as their own process: plain Node.js http servers that read the event
 * and answer. `/` calls the same no-op handler in-process (the floor: no execution contexts, no
 * registry, no logs); `/thread` hands the event bytes to a Piscina no-op worker with the daemon's pool
 * settings and back (the least any server that runs handlers in worker threads pays); `/contexts` hands them to
 * lambdad's execution model with no work in it (bench/context-pools.ts). Prints its port.
 */
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { ContextPools } from './context-pools.js';

const { handler } = (await import(fileURLToPath(new URL('../../bench/noop/index.mjs', import.meta.url)))) as { handler: (event: unknown) => Promise<unknown> };

const pool = new Piscina({ filename: new URL('./noop-worker.js', import.meta.url).href, minThreads: 1, maxThreads: 1, atomics: 'sync', env: {} });
const contexts = new ContextPools();

function answer(response: import('node:http').ServerResponse, body: string | Uint8Array): void {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength });
  response.end(body);
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const event = Buffer.concat(chunks);
    if (request.url === '/thread') {
      const payload = new Uint8Array(event);
      void pool.run(payload, { transferList: [payload.buffer] }).then((result: Uint8Array) => answer(response, result));
      return;
    }
    if (request.url === '/contexts') {
      void contexts.run(new Uint8Array(event)).then((result) => answer(response, result));
      return;
    }
    void handler(JSON.parse(event.toString('utf8'))).then((result) => answer(response, JSON.stringify(result ?? null)));
  });
});
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => void Promise.all([pool.destroy(), contexts.destroy()]).then(() => process.exit(0))));
