/**
 * lambdad's X-Ray daemon: a UDP socket that receives segment documents from the X-Ray SDK inside handlers
 * (lambdad's own are handed over in-process), keeps the well-formed ones and, when asked, forwards every datagram as it came to
 * another X-Ray daemon. A port someone else holds (another lambdad, a real X-Ray daemon) is not fatal: lambdad
 * then sends its segments there and keeps none itself.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { DaemonLog } from '../daemon-log.js';
import { decodeDatagram, encodeDatagram, SegmentDocumentError } from './datagram.js';
import { invocationSegments, type InvocationSpan } from './segments.js';
import type { TraceStore } from './trace-store.js';

export interface UdpAddress {
  readonly host: string;
  readonly port: number;
}

/** `host:port` as X-Ray SDKs read AWS_XRAY_DAEMON_ADDRESS; an IPv6 host in brackets is not understood by them. */
export function formatAddress(address: UdpAddress): string {
  return `${address.host}:${address.port}`;
}

export function udpSocket(host: string): Socket {
  return createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
}

/** One rejected datagram in this many is logged, so a noisy sender cannot flood the daemon's log. */
const LOG_EVERY_REJECTED = 1000;

export class XRayCollector {
  readonly #socket: Socket;
  readonly #store: TraceStore;
  readonly #forward: UdpAddress | null;
  readonly #log: DaemonLog;
  #rejected = 0;
  /** Where it listens; null when the address could not be bound. */
  address: UdpAddress | null = null;

  private constructor(socket: Socket, store: TraceStore, forward: UdpAddress | null, log: DaemonLog) {
    this.#socket = socket;
    this.#store = store;
    this.#forward = forward;
    this.#log = log;
  }

  static async start(options: { listen: UdpAddress; forward: UdpAddress | null; store: TraceStore; log: DaemonLog }): Promise<XRayCollector> {
    const socket = udpSocket(options.listen.host);
    const collector = new XRayCollector(socket, options.store, options.forward, options.log);
    const bound = await new Promise<boolean>((resolve) => {
      socket.once('error', (error) => {
        options.log('xray-collector-unavailable', { address: formatAddress(options.listen), error: error.message });
        resolve(false);
      });
      socket.bind(options.listen.port, options.listen.host, () => resolve(true));
    });
    if (!bound) {
      socket.close();
      return collector;
    }
    const { address, port } = socket.address();
    collector.address = { host: address, port };
    socket.on('error', (error) => options.log('xray-collector-error', { error: error.message }));
    socket.on('message', (datagram) => collector.#receive(datagram));
    return collector;
  }

  /** A sampled invocation of lambdad's, handed over in-process: kept, and its segments forwarded when asked. */
  acceptInvocation(span: InvocationSpan): void {
    if (this.#forward !== null) for (const document of invocationSegments(span)) this.#socket.send(encodeDatagram(document), this.#forward.port, this.#forward.host);
    this.#store.addInvocation(span);
  }

  /** Trace data must reach the other daemon whether or not lambdad could read it. */
  #receive(datagram: Buffer): void {
    if (this.#forward !== null) this.#socket.send(datagram, this.#forward.port, this.#forward.host);
    try {
      this.#store.add(decodeDatagram(datagram));
    } catch (error) {
      if (!(error instanceof SegmentDocumentError)) throw error;
      if (this.#rejected++ % LOG_EVERY_REJECTED === 0) this.#log('xray-segment-rejected', { reason: error.message, rejected: this.#rejected });
    }
  }

  close(): void {
    if (this.address !== null) this.#socket.close();
  }
}
