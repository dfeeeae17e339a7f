/**
 * Network policy inside an execution context, installed before user code loads: every TCP connect (so TLS,
 * http, https, fetch/undici and database drivers, which all connect through net.Socket), every UDP datagram
 * (sent to an address, or through a socket connected to one), and every DNS lookup goes through the pure policy
 * (daemon/network/policy.ts). An allowed connection goes to the real address the policy gives (a VPC host's
 * backend); a denied one hangs, as an unanswered SYN does, and fails with ETIMEDOUT after the configured delay,
 * while the function's log says which rule blocked it. A denied datagram is dropped. Fidelity, not containment:
 * user code can undo any of this.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import type { NetworkBinding } from '../messages.js';
import { connectVerdict, lookupVerdict } from '../../network/policy.js';

type Callback = (...args: unknown[]) => void;
type LookupCallback = (error: NodeJS.ErrnoException | null, address?: string | dns.LookupAddress[], family?: number) => void;

export function installNetworkGuard(binding: NetworkBinding, warn: (message: string) => void): void {
  const { placement, connectTimeoutMs } = binding;
  const realLookup = dns.lookup.bind(dns) as (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => void;

  const report = (reason: string): void => warn(`lambdad network: blocked ${reason}`);

  /** dns.lookup as the function sees it: VPC names answered, other names resolved as usual. */
  const lookup = (hostname: string, options: dns.LookupOptions | number | LookupCallback, callback?: LookupCallback): void => {
    const done = (typeof options === 'function' ? options : callback) as LookupCallback;
    const settings: dns.LookupOptions = typeof options === 'object' ? options : typeof options === 'number' ? { family: options } : {};
    const verdict = lookupVerdict(placement, hostname);
    if (verdict.kind === 'resolve') return realLookup(hostname, settings, done);
    process.nextTick(() => {
      if (verdict.kind === 'not-found') {
        report(`DNS lookup of ${hostname}: ${verdict.reason}`);
        done(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname }));
      } else if (settings.all === true) done(null, [{ address: verdict.address, family: 4 }]);
      else done(null, verdict.address, 4);
    });
  };
  (dns as { lookup: unknown }).lookup = lookup;
  (dns.promises as { lookup: unknown }).lookup = (hostname: string, options: dns.LookupOptions = {}) =>
    new Promise((resolve, reject) => lookup(hostname, options, (error, address, family) => (error === null ? resolve(Array.isArray(address) ? address : { address, family }) : reject(error))));

  /** Resolves a name through the guarded lookup; an IP literal as it is. */
  const resolveHost = (host: string, then: (error: Error | null, address?: string) => void, family: 4 | 6 = 4): void => {
    if (net.isIP(host) !== 0) return then(null, host);
    lookup(host, { family }, (error, address) => then(error, address as string | undefined));
  };

  const realConnect = net.Socket.prototype.connect as (this: net.Socket, ...args: unknown[]) => net.Socket;
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]): net.Socket {
    // net.connect() passes its arguments already normalised, as one array.
    const list = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
    const first = list[0];
    const callback = list.find((arg) => typeof arg === 'function') as Callback | undefined;
    let options: net.TcpSocketConnectOpts;
    if (typeof first === 'object' && first !== null) {
      // A truthy `path` is a local (IPC) socket, as net reads it (http's agent passes `path: null`).
      if ((first as { path?: unknown }).path) return realConnect.apply(this, args);
      options = first as net.TcpSocketConnectOpts;
    } else if (typeof first === 'string' && !/^\d+$/.test(first)) {
      return realConnect.apply(this, args); // a local (IPC) socket path
    } else {
      options = { port: Number(first), ...(typeof list[1] === 'string' ? { host: list[1] } : {}) };
    }
    const host = options.host ?? 'localhost';
    const port = Number(options.port);
    // Connecting until the policy has decided: writes meanwhile wait for 'connect', as they do for a real one.
    setConnecting(this, true);
    resolveHost(host, (error, address) => {
      if (error !== null || address === undefined) {
        this.destroy(error ?? new Error(`getaddrinfo ENOTFOUND ${host}`));
        return;
      }
      const verdict = connectVerdict(placement, { protocol: 'tcp', address, port });
      if (!verdict.allow) {
        report(`${verdict.reason}; the connection will time out`);
        const timer = setTimeout(() => {
          this.destroy(Object.assign(new Error(`connect ETIMEDOUT ${address}:${port}`), { code: 'ETIMEDOUT', errno: -110, syscall: 'connect', address, port }));
        }, connectTimeoutMs);
        this.once('close', () => clearTimeout(timer));
        return;
      }
      setConnecting(this, false);
      realConnect.call(this, { ...options, host: verdict.host, port: verdict.port }, ...(callback === undefined ? [] : [callback]));
    });
    return this;
  } as typeof net.Socket.prototype.connect;

  /**
   * Where a socket connected through the policy says it is connected to: the address the function asked for, not
   * a VPC host's backend. A socket whose destination is blocked is only marked connected (a UDP connect sends
   * nothing on a real network either), and its datagrams are dropped.
   */
  const connectedTo = new WeakMap<dgram.Socket, { readonly address: string; readonly port: number; readonly blocked: boolean }>();
  /** Sockets whose connect is waiting on its lookup: a second connect is refused, as Node refuses it. */
  const connecting = new WeakSet<dgram.Socket>();

  const realUdpConnect = dgram.Socket.prototype.connect as (this: dgram.Socket, ...args: unknown[]) => void;
  dgram.Socket.prototype.connect = function guardedUdpConnect(this: dgram.Socket, port: number, address?: string | Callback, callback?: Callback): void {
    const done = typeof address === 'function' ? address : callback;
    const portNumber = Number(port);
    // Bad ports are Node's to refuse, synchronously, as it does.
    if (!Number.isInteger(portNumber) || portNumber <= 0 || portNumber > 65535) return realUdpConnect.call(this, port, address, callback);
    if (connectedTo.has(this) || connecting.has(this)) throw Object.assign(new Error('Already connected'), { code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' });
    const family = (this as { type?: string }).type === 'udp6' ? 6 : 4;
    const loopback = family === 6 ? '::1' : '127.0.0.1';
    const requested = typeof address === 'string' ? address : loopback;
    const fail = (failure: Error): void => void process.nextTick(() => (done === undefined ? this.emit('error', failure) : done(failure)));
    connecting.add(this);
    resolveHost(
      requested === 'localhost' ? loopback : requested,
      (error, resolved) => {
        connecting.delete(this);
        if (error !== null || resolved === undefined) return fail(error ?? new Error(`getaddrinfo ENOTFOUND ${requested}`));
        const verdict = connectVerdict(placement, { protocol: 'udp', address: resolved, port: portNumber });
        if (verdict.allow) {
          // Connected once the real connect says so: a failed one leaves the socket as it was.
          realUdpConnect.call(this, verdict.port, verdict.host, (failure?: Error) => {
            if (failure != null) return fail(failure);
            connectedTo.set(this, { address: resolved, port: portNumber, blocked: false });
            done?.();
          });
          return;
        }
        report(`${verdict.reason}; its datagrams are dropped`);
        connectedTo.set(this, { address: resolved, port: portNumber, blocked: true });
        this.once('close', () => connectedTo.delete(this));
        if (done !== undefined) this.once('connect', done);
        const connected = (): boolean => this.emit('connect');
        if (isBound(this)) return void process.nextTick(connected);
        // As a real connect binds an unbound socket, or waits for a bind already under way.
        try {
          this.bind(0, connected);
        } catch (bindError) {
          if ((bindError as NodeJS.ErrnoException).code !== 'ERR_SOCKET_ALREADY_BOUND') throw bindError;
          this.once('listening', connected);
        }
      },
      family,
    );
  } as typeof dgram.Socket.prototype.connect;

  const realRemoteAddress = dgram.Socket.prototype.remoteAddress as (this: dgram.Socket) => net.AddressInfo;
  dgram.Socket.prototype.remoteAddress = function guardedRemoteAddress(this: dgram.Socket): net.AddressInfo {
    const remote = connectedTo.get(this);
    return remote === undefined ? realRemoteAddress.call(this) : { address: remote.address, family: net.isIPv6(remote.address) ? 'IPv6' : 'IPv4', port: remote.port };
  };

  const realDisconnect = dgram.Socket.prototype.disconnect as (this: dgram.Socket) => void;
  dgram.Socket.prototype.disconnect = function guardedDisconnect(this: dgram.Socket): void {
    const remote = connectedTo.get(this);
    connectedTo.delete(this);
    if (remote?.blocked !== true) realDisconnect.call(this);
  };

  const realSend = dgram.Socket.prototype.send as (this: dgram.Socket, ...args: unknown[]) => void;
  dgram.Socket.prototype.send = function guardedSend(this: dgram.Socket, ...args: unknown[]): void {
    const callback = args.find((arg) => typeof arg === 'function') as Callback | undefined;
    // As a real send does, a dropped datagram reports its length as sent, and later, never during send().
    const drop = (sliced: boolean): void => void process.nextTick(() => callback?.(null, datagramBytes(args, sliced)));
    const connected = connectedTo.get(this);
    if (connected !== undefined) {
      // send(msg, [offset, length,] callback): its destination was judged when it connected.
      if (connected.blocked) return drop(typeof args[1] === 'number' && typeof args[2] === 'number');
      return realSend.apply(this, args);
    }
    // send(msg, [offset, length,] port, address, callback): the address and port sit after any offset/length.
    const sliced = isSlice(args);
    const at = sliced ? 3 : 1;
    const port = args[at];
    if (typeof port !== 'number' && typeof port !== 'string') return realSend.apply(this, args); // Node's to refuse
    const host = typeof args[at + 1] === 'string' ? (args[at + 1] as string) : '127.0.0.1';
    resolveHost(host === 'localhost' ? '127.0.0.1' : host, (error, address) => {
      if (error !== null || address === undefined) return callback?.(error);
      const verdict = connectVerdict(placement, { protocol: 'udp', address, port: Number(port) });
      if (!verdict.allow) {
        report(`${verdict.reason}; the datagram is dropped`);
        return drop(sliced);
      }
      const rewritten = [...args];
      rewritten[at] = verdict.port;
      rewritten[at + 1] = verdict.host;
      realSend.apply(this, rewritten);
    });
  } as typeof dgram.Socket.prototype.send;
}

/** Whether a send() call names an offset and length in its message: send(msg, offset, length, port, …). */
function isSlice(args: readonly unknown[]): boolean {
  return typeof args[1] === 'number' && typeof args[2] === 'number' && args.length >= 4 && typeof args[3] !== 'function';
}

/** The bytes a send() call carries: its offset/length slice, or its buffers and strings whole. */
function datagramBytes(args: readonly unknown[], sliced: boolean): number {
  if (sliced) return args[2] as number;
  const parts = Array.isArray(args[0]) ? (args[0] as unknown[]) : [args[0]];
  let bytes = 0;
  for (const part of parts) bytes += typeof part === 'string' ? Buffer.byteLength(part) : ArrayBuffer.isView(part) ? part.byteLength : 0;
  return bytes;
}

function isBound(socket: dgram.Socket): boolean {
  try {
    socket.address();
    return true;
  } catch {
    return false;
  }
}

/** net.Socket's `connecting` is writable at run time (Node sets it itself); its type says read-only. */
function setConnecting(socket: net.Socket, connecting: boolean): void {
  (socket as { connecting: boolean }).connecting = connecting;
}
