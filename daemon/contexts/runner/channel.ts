/**
 * The daemon ↔ runner channel: length-prefixed msgpack frames over a Unix domain socket (a 4-byte big-endian
 * length, then one message). A runner may be compromised by the code it runs, so the daemon reads its frames
 * as untrusted input: the declared length is checked against the limit before anything is buffered, and every
 * message is checked against the schema (protocol.ts) before it is used.
 */
import type { Socket } from 'node:net';
import { Packr } from 'msgpackr';

/** A frame carries at most an invocation's payload (6 MB) or result plus its logs (1 MiB journal): 16 MiB bounds both. */
export const FRAME_MAX_BYTES = 16 * 1024 * 1024;
const LENGTH_BYTES = 4;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

export class ChannelError extends Error {
  override readonly name = 'ChannelError';
}

/** One message as a frame, ready to write. */
export function encodeFrame(message: unknown): Buffer {
  const body = packr.pack(message);
  if (body.byteLength > FRAME_MAX_BYTES) throw new ChannelError(`a ${body.byteLength}-byte message is over the channel's ${FRAME_MAX_BYTES}-byte limit`);
  const frame = Buffer.allocUnsafe(LENGTH_BYTES + body.byteLength);
  frame.writeUInt32BE(body.byteLength, 0);
  body.copy(frame, LENGTH_BYTES);
  return frame;
}

/**
 * Writes messages as frames on `socket`; the frames of one turn of the event loop leave in one write (under load,
 * many invocations start or end in the same turn: one system call for all of them).
 */
export function frameWriter(socket: Socket): (message: unknown) => void {
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  return (message) => {
    if (!corked) {
      corked = true;
      socket.cork();
      setImmediate(uncork);
    }
    socket.write(encodeFrame(message));
  };
}

/** Cuts a byte stream into messages; throws ChannelError on a frame over the limit or one that is not msgpack. */
export class FrameReader {
  readonly #chunks: Buffer[] = [];
  #buffered = 0;
  /** The body length of the frame being read, once its header is in. */
  #expected = -1;

  /** Feeds bytes; returns the messages they complete, in order. */
  push(chunk: Buffer): unknown[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    const messages: unknown[] = [];
    for (;;) {
      if (this.#expected < 0) {
        if (this.#buffered < LENGTH_BYTES) break;
        const length = this.#take(LENGTH_BYTES).readUInt32BE(0);
        if (length > FRAME_MAX_BYTES) throw new ChannelError(`a frame declares ${length} bytes, over the channel's ${FRAME_MAX_BYTES}-byte limit`);
        this.#expected = length;
      }
      if (this.#buffered < this.#expected) break;
      const body = this.#take(this.#expected);
      this.#expected = -1;
      try {
        messages.push(packr.unpack(body));
      } catch (error) {
        throw new ChannelError(`a frame is not msgpack: ${(error as Error).message}`);
      }
    }
    return messages;
  }

  #take(bytes: number): Buffer {
    const whole = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    const taken = whole.subarray(0, bytes);
    const rest = whole.subarray(bytes);
    this.#chunks.length = 0;
    if (rest.byteLength > 0) this.#chunks.push(rest);
    this.#buffered = rest.byteLength;
    return taken;
  }
}

/** Calls `onMessage` for each message the socket brings, `onError` once on a broken frame. */
export function readFrames(socket: Socket, onMessage: (message: unknown) => void, onError: (error: Error) => void): void {
  const reader = new FrameReader();
  let broken = false;
  socket.on('data', (chunk: Buffer) => {
    if (broken) return;
    let messages: unknown[];
    try {
      messages = reader.push(chunk);
    } catch (error) {
      broken = true;
      onError(error as Error);
      return;
    }
    for (const message of messages) onMessage(message);
  });
}
