/**
 * Tracing of invocations: each sampled invocation's span goes to the X-Ray daemon — straight into lambdad's own
 * collector, or, when another process holds the address, as its segments in datagrams of the daemon format,
 * exactly as a function's X-Ray SDK sends its own.
 */
import type { Socket } from 'node:dgram';
import { encodeDatagram } from './datagram.js';
import { udpSocket, type UdpAddress } from './collector.js';
import { invocationSegments, type InvocationSpan } from './segments.js';

export { XRayCollector, formatAddress, type UdpAddress } from './collector.js';
export { TraceStore } from './trace-store.js';
export type { InvocationSpan } from './segments.js';

/** Where sampled invocations' spans go. */
export interface SpanSink {
  send(span: InvocationSpan): void;
  close(): void;
}

/** The segments, as datagrams, to an X-Ray daemon at `address`; fire and forget, as X-Ray's own emitters. */
export function udpSink(address: UdpAddress): SpanSink {
  const socket: Socket = udpSocket(address.host);
  // A segment that cannot be sent is lost, the invocation is not.
  socket.on('error', () => undefined);
  socket.unref();
  return {
    send: (span) => {
      for (const document of invocationSegments(span)) socket.send(encodeDatagram(document), address.port, address.host);
    },
    close: () => socket.close(),
  };
}
