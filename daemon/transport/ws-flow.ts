/**
 * Flow control of one WebSocket connection, so that what one client costs the daemon is bounded whatever it
 * sends and however slowly it reads: how many of its requests run at once, how much of its output waits
 * unsent, and for how long.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

const MiB = 1024 * 1024;

export const FLOW_LIMITS = Object.freeze({
  /**
   * Requests of one connection running at once; the rest wait unread in the socket. As many as an HTTP
   * client's connection pool holds, so that one connection takes a small share of the account concurrency
   * (1,000) and of the host's execution contexts, and its running requests' answers (at most 6 MiB each)
   * stay within sendMaxBytes.
   */
  maxInFlight: 32,
  /** Past this much unsent output, the connection's requests are no longer read or started... */
  sendHighWaterBytes: 8 * MiB,
  /** ...until it is back under this. */
  sendLowWaterBytes: 1 * MiB,
  /**
   * The most unsent output a connection holds. Requests already running when reading stopped still answer,
   * so a burst of large results can pass the high-water mark: this leaves room for ten of the largest
   * (an Invoke's 6 MiB) at once. A response that would pass it closes the connection.
   */
  sendMaxBytes: 64 * MiB,
  /** How long unsent output may stay over the high-water mark: a client that does not take it is closed. */
  backedUpMaxMs: 10_000,
});

/** Answers are gathered into one write per turn of the event loop up to this much; past it they leave at once. */
const CORK_MAX_BYTES = 64 * 1024;
/** The close code for a client that does not read: the connection broke the protocol's flow-control policy. */
const POLICY_VIOLATION = 1008;

/**
 * Starts one received frame. Returns a promise while the request runs (it counts as in flight until the
 * promise settles; it must not reject), or nothing when it was answered at once.
 */
export type StartFrame = (frame: Buffer) => Promise<unknown> | void;

export class ConnectionFlow {
  readonly #ws: WebSocket;
  readonly #socket: Duplex;
  readonly #start: StartFrame;
  /** Frames read but not started: ws hands over every frame of a read of the socket, even after pause(). */
  readonly #received: Buffer[] = [];
  #inFlight = 0;
  #outputBackedUp = false;
  #reading = true;
  #corked: NodeJS.Immediate | null = null;
  #backedUpTimer: NodeJS.Timeout | null = null;

  /** `socket` is the connection under `ws`: its writes are held back within a turn of the event loop. */
  constructor(ws: WebSocket, socket: Duplex, start: StartFrame) {
    this.#ws = ws;
    this.#socket = socket;
    this.#start = start;
    socket.on('drain', () => this.#update());
    ws.on('close', () => {
      this.#received.length = 0;
      this.#stopBackedUpTimer();
    });
  }

  /** Takes a binary frame the client sent: started now if the connection has room, else when it has. */
  receive(frame: Buffer): void {
    // Once closing, frames are not answered: only the client's close frame is still awaited.
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    this.#received.push(frame);
    this.#update();
  }

  /** Closes the connection: frames not started are dropped, and reading resumes for the closing handshake. */
  close(code: number, reason: string): void {
    this.#ws.close(code, reason);
    this.#received.length = 0;
    this.#update();
  }

  /** Whether output that may be dropped (pushed log events) is sent: only while the client keeps up. */
  get keepingUp(): boolean {
    return this.#ws.bufferedAmount <= FLOW_LIMITS.sendHighWaterBytes;
  }

  /** Sends one message, or closes the connection if its unsent output would pass sendMaxBytes. */
  send(message: Uint8Array): void {
    const ws = this.#ws;
    if (ws.readyState !== ws.OPEN) return;
    const unsent = ws.bufferedAmount;
    if (unsent > 0 && unsent + message.byteLength > FLOW_LIMITS.sendMaxBytes) {
      this.#closeUnread(`its unsent responses would pass ${FLOW_LIMITS.sendMaxBytes / MiB} MiB`);
      return;
    }
    // Answers that finish in the same turn of the event loop (many, under load) leave in one write: one
    // system call instead of one each.
    if (this.#corked === null) {
      this.#socket.cork();
      this.#corked = setImmediate(this.#uncork);
    }
    ws.send(message, this.#afterFlush);
    if (ws.bufferedAmount >= CORK_MAX_BYTES) this.#uncork();
    if (ws.bufferedAmount > FLOW_LIMITS.sendHighWaterBytes && this.#backedUpTimer === null) {
      this.#backedUpTimer = setTimeout(() => {
        this.#backedUpTimer = null;
        if (ws.bufferedAmount > FLOW_LIMITS.sendHighWaterBytes) this.#closeUnread(`over ${FLOW_LIMITS.sendHighWaterBytes / MiB} MiB of its responses stayed unread for ${FLOW_LIMITS.backedUpMaxMs / 1000} s`);
      }, FLOW_LIMITS.backedUpMaxMs);
      this.#backedUpTimer.unref();
    }
  }

  readonly #uncork = (): void => {
    if (this.#corked === null) return;
    clearImmediate(this.#corked);
    this.#corked = null;
    this.#socket.uncork();
  };

  /** Called as each message leaves for the network. */
  readonly #afterFlush = (): void => {
    if (this.#ws.bufferedAmount <= FLOW_LIMITS.sendHighWaterBytes) this.#stopBackedUpTimer();
  };

  #stopBackedUpTimer(): void {
    if (this.#backedUpTimer === null) return;
    clearTimeout(this.#backedUpTimer);
    this.#backedUpTimer = null;
  }

  /**
   * Closes the connection of a client that does not read: responses that finish from now on are dropped.
   * The close frame follows the output already queued; ws cuts the connection if the closing handshake has
   * not ended 30 s later (its closeTimeout).
   */
  #closeUnread(why: string): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.close(POLICY_VIOLATION, `lambdad closed the connection: ${why}`);
  }

  /** Starts received frames while the connection has room, and reads from it only while nothing waits. */
  #update(): void {
    const ws = this.#ws;
    for (;;) {
      const unsent = ws.bufferedAmount;
      if (unsent <= FLOW_LIMITS.sendHighWaterBytes) this.#stopBackedUpTimer();
      if (unsent > FLOW_LIMITS.sendHighWaterBytes) this.#outputBackedUp = true;
      else if (unsent < FLOW_LIMITS.sendLowWaterBytes) this.#outputBackedUp = false;
      if (this.#received.length === 0 || this.#inFlight >= FLOW_LIMITS.maxInFlight || this.#outputBackedUp || ws.readyState !== ws.OPEN) break;
      const running = this.#start(this.#received.shift()!);
      if (running === undefined) continue;
      this.#inFlight += 1;
      void running.finally(() => {
        this.#inFlight -= 1;
        this.#update();
      });
    }
    const read = ws.readyState !== ws.OPEN || (this.#received.length === 0 && this.#inFlight < FLOW_LIMITS.maxInFlight && !this.#outputBackedUp);
    if (read === this.#reading) return;
    this.#reading = read;
    if (read) ws.resume();
    else ws.pause();
  }
}
