/**
 * The floor of the protocol benchmark, run as its own process: a ws server that decodes a msgpack request,
 * hands the payload bytes to a Piscina no-op and back, and encodes the answer — the least any daemon built
 * of these parts can do per invocation. An Invoke of the function named `contexts` goes to lambdad's execution
 * model instead, with no work in it (bench/context-pools.ts). Prints its port on stdout.
 */
import { Packr } from 'msgpackr';
import { Piscina } from 'piscina';
import { WebSocketServer } from 'ws';
import { ContextPools } from './context-pools.js';

const packr = new Packr({ useRecords: false });
const pool = new Piscina({ filename: new URL('./noop-worker.js', import.meta.url).href, minThreads: 1, maxThreads: 1, atomics: 'sync', env: {} });
const contexts = new ContextPools();
const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });

server.on('connection', (ws) => {
  ws.on('message', async (data: Buffer) => {
    const request = packr.unpack(data) as { id: number; Invoke: { FunctionName: string; Payload: Uint8Array } };
    const payload = new Uint8Array(request.Invoke.Payload);
    const result =
      request.Invoke.FunctionName === 'contexts' ? await contexts.run(payload) : ((await pool.run(payload, { transferList: [payload.buffer] })) as Uint8Array);
    ws.send(packr.pack({ response: { id: request.id, Invoke: { StatusCode: 200, Payload: result } } }));
  });
});
server.on('listening', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void Promise.all([pool.destroy(), contexts.destroy()]).then(() => process.exit(0));
});
