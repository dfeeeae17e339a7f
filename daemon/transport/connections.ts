/**
 * The connections the daemon's port holds, in total and per remote address, and which of them give way when a
 * limit is reached. A connection is unauthenticated until a request on it passed the daemon's authentication
 * check (with `--auth none` every request passes it, so only until its first request). An unauthenticated
 * connection with nothing in flight is sheddable: when a new connection finds its address or the port full,
 * the one of these that has been idle longest is destroyed to make room, and the new one is refused only when
 * there is none. So an attacker holding idle connections cannot keep out `/healthz` or a signed client.
 *
 * The sheddable connections are kept in insertion-ordered sets, oldest idle first: shedding and the idle
 * sweep take the head, O(1) per connection, whatever the number held.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface ConnectionLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  /** A sheddable connection idle this long is closed by the sweep. */
  readonly unauthenticatedIdleMs: number;
}

interface Connection {
  /** The TCP socket: destroying it ends a TLS connection on top of it too. */
  readonly socket: Socket;
  readonly address: string;
  /** `address|port`: how a TLS socket finds the TCP connection under it. */
  readonly endpoint: string;
  authenticated: boolean;
  inFlight: number;
  idleSince: number;
  closed: boolean;
}

/** One remote address's connections: how many, and its sheddable ones, oldest idle first. */
interface AddressShare {
  count: number;
  readonly sheddable: Set<Connection>;
}

const oldest = (set: Set<Connection>): Connection | undefined => set.values().next().value;

export class ConnectionTable {
  readonly #limits: ConnectionLimits;
  readonly #now: () => number;
  #count = 0;
  readonly #addresses = new Map<string, AddressShare>();
  readonly #sheddable = new Set<Connection>();
  /** Every socket a request can arrive on (TCP, and TLS over it) → its connection. */
  readonly #bySocket = new WeakMap<Duplex, Connection>();
  readonly #byEndpoint = new Map<string, Connection>();

  constructor(limits: ConnectionLimits, now: () => number) {
    this.#limits = limits;
    this.#now = now;
  }

  get size(): number {
    return this.#count;
  }

  /**
   * A new TCP connection: admitted, after shedding the longest-idle sheddable connection of its address (at
   * the per-address limit) or of the port (at the total limit); destroyed when nothing can be shed.
   */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress;
    if (address === undefined) {
      socket.destroy();
      return false;
    }
    const share = this.#addresses.get(address);
    const roomForAddress = share === undefined || share.count < this.#limits.maxConnectionsPerAddress || this.#shed(oldest(share.sheddable));
    if (!roomForAddress || (this.#count >= this.#limits.maxConnections && !this.#shed(oldest(this.#sheddable)))) {
      socket.destroy();
      return false;
    }
    const connection: Connection = { socket, address, endpoint: `${address}|${socket.remotePort}`, authenticated: false, inFlight: 0, idleSince: this.#now(), closed: false };
    const owner = this.#addresses.get(address) ?? { count: 0, sheddable: new Set<Connection>() };
    owner.count += 1;
    this.#addresses.set(address, owner);
    this.#count += 1;
    this.#bySocket.set(socket, connection);
    this.#byEndpoint.set(connection.endpoint, connection);
    this.#makeSheddable(connection, owner);
    socket.once('close', () => this.#forget(connection));
    return true;
  }

  /** A TLS socket over an admitted TCP connection: requests on it count for that connection. */
  alias(socket: Socket): void {
    const connection = this.#byEndpoint.get(`${socket.remoteAddress}|${socket.remotePort}`);
    if (connection !== undefined) this.#bySocket.set(socket, connection);
  }

  requestStarted(socket: Duplex): void {
    const connection = this.#bySocket.get(socket);
    if (connection === undefined || connection.closed) return;
    connection.inFlight += 1;
    this.#unmakeSheddable(connection);
  }

  requestEnded(socket: Duplex): void {
    const connection = this.#bySocket.get(socket);
    if (connection === undefined || connection.closed) return;
    connection.inFlight -= 1;
    if (connection.inFlight === 0 && !connection.authenticated) this.#makeSheddable(connection, this.#addresses.get(connection.address)!);
  }

  /** An upgrade request was handed over: its idle time starts again, until the upgrade is authenticated or refused. */
  upgrading(socket: Duplex): void {
    const connection = this.#bySocket.get(socket);
    if (connection === undefined || connection.closed || connection.authenticated) return;
    this.#unmakeSheddable(connection);
    this.#makeSheddable(connection, this.#addresses.get(connection.address)!);
  }

  /** A request on this connection passed authentication: it is never shed nor swept from now on. */
  authenticated(socket: Duplex): void {
    const connection = this.#bySocket.get(socket);
    if (connection === undefined || connection.closed) return;
    connection.authenticated = true;
    this.#unmakeSheddable(connection);
  }

  /** Destroys the sheddable connections idle for the limit or longer: a walk from the head, stopping at the first younger one. */
  sweep(): void {
    const deadline = this.#now() - this.#limits.unauthenticatedIdleMs;
    for (let head = oldest(this.#sheddable); head !== undefined && head.idleSince <= deadline; head = oldest(this.#sheddable)) this.#shed(head);
  }

  #shed(connection: Connection | undefined): boolean {
    if (connection === undefined) return false;
    this.#forget(connection);
    connection.socket.destroy();
    return true;
  }

  #makeSheddable(connection: Connection, share: AddressShare): void {
    connection.idleSince = this.#now();
    this.#sheddable.add(connection);
    share.sheddable.add(connection);
  }

  #unmakeSheddable(connection: Connection): void {
    this.#sheddable.delete(connection);
    this.#addresses.get(connection.address)?.sheddable.delete(connection);
  }

  /** Once per connection, whether it was shed or closed on its own. */
  #forget(connection: Connection): void {
    if (connection.closed) return;
    connection.closed = true;
    this.#unmakeSheddable(connection);
    this.#count -= 1;
    // A new connection from the same address and port may have come before this one's close.
    if (this.#byEndpoint.get(connection.endpoint) === connection) this.#byEndpoint.delete(connection.endpoint);
    const share = this.#addresses.get(connection.address)!;
    share.count -= 1;
    if (share.count === 0) this.#addresses.delete(connection.address);
  }
}
