/**
 * Tracing of invocations: the segments of each sampled invocation go, as datagrams, to the X-Ray daemon
 * address — lambdad's own collector unless its port was taken — exactly as a function's X-Ray SDK sends its own.
 */
import type { Socket } from 'node:dgram';
import { encodeDatagram } from './datagram.js';
import { udpSocket, type UdpAddress } from './collector.js';
import { invocationSegments, type InvocationSpan } from './segments.js';

export { XRayCollector, formatAddress, type UdpAddress } from './collector.js';
export { TraceStore } from './trace-store.js';
export type { InvocationSpan } from './segments.js';

export class SegmentEmitter {
  readonly #socket: Socket;
  readonly #daemon: UdpAddress;
  readonly #newId: () => string;

  constructor(daemon: UdpAddress, newId: () => string) {
    this.#daemon = daemon;
    this.#newId = newId;
    this.#socket = udpSocket(daemon.host);
    // Fire and forget, as X-Ray's own emitters: a segment that cannot be sent is lost, the invocation is not.
    this.#socket.on('error', () => undefined);
    this.#socket.unref();
  }

  /** Sends the invocation's service and function segments, when its trace is sampled. */
  invoked(span: InvocationSpan): void {
    if (!span.header.sampled) return;
    for (const document of invocationSegments(span, this.#newId)) this.#socket.send(encodeDatagram(document), this.#daemon.port, this.#daemon.host);
  }

  close(): void {
    this.#socket.close();
  }
}
