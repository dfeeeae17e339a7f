/** One side of bench/network.ts in its own thread: `connects` sequential TCP connects, optionally through the network guard. */
import { connect } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { installNetworkGuard } from '../daemon/contexts/worker/network-guard.js';
import type { NetworkBinding } from '../daemon/contexts/messages.js';

const { port, connects, guard } = workerData as { port: number; connects: number; guard: NetworkBinding | null };
if (guard !== null) installNetworkGuard(guard, () => undefined);

const once = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ host: '127.0.0.1', port }, () => {
      const took = performance.now() - started;
      socket.destroy();
      resolve(took);
    });
    socket.on('error', reject);
  });

const samples: number[] = [];
for (let i = 0; i < connects; i++) samples.push(await once());
parentPort!.postMessage(samples);
