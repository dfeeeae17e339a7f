/** Clients of the floors the benchmarks measure lambdad against, shared by the benchmarks that use them. */
import { Packr } from 'msgpackr';
import { Pool } from 'undici';
import { WebSocket } from 'ws';
import type { Call } from './load.js';

/**
 * A client of bench/floor-server.ts: the protocol's Invoke frame, msgpack over ws, answered by a Piscina no-op
 * (or, for the function `contexts`, by a no-op in lambdad's execution model).
 */
export async function wsFloorClient(port: number, event: Uint8Array, functionName: 'noop' | 'contexts' = 'noop'): Promise<{ call: Call; close: () => void }> {
  const packr = new Packr({ useRecords: false });
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  await new Promise((resolve) => ws.once('open', resolve));
  const waiting = new Map<number, () => void>();
  ws.on('message', (data: Buffer) => {
    const { response } = packr.unpack(data) as { response: { id: number } };
    waiting.get(response.id)?.();
    waiting.delete(response.id);
  });
  let id = 0;
  return {
    call: () =>
      new Promise<void>((resolve) => {
        id += 1;
        waiting.set(id, resolve);
        ws.send(packr.pack({ id, Invoke: { FunctionName: functionName, Payload: event } }));
      }),
    close: () => ws.close(),
  };
}

/** One POST of `body` on a pool of keep-alive connections; the answer is read to the end. */
export function poster(pool: Pool, path: string, body: string): Call {
  return async () => {
    const { statusCode, body: answer } = await pool.request({ method: 'POST', path, body, headers: { 'content-type': 'application/json' } });
    await answer.text();
    if (statusCode !== 200) throw new Error(`${path} answered ${statusCode}`);
  };
}
