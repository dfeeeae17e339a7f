/** Whether a connection comes from the daemon's own machine: its peer is a loopback address. */
import type { Socket } from 'node:net';
import { isIP } from 'node:net';

export function fromLoopback(socket: Pick<Socket, 'remoteAddress'>): boolean {
  const address = socket.remoteAddress ?? '';
  return address === '::1' || address.startsWith('::ffff:127.') || (isIP(address) === 4 && address.startsWith('127.'));
}
