/**
 * A pass over a msgpack frame that builds nothing: it follows the structure byte by byte, without recursion,
 * and stops at the first thing the protocol refuses. It runs before msgpackr decodes, so a frame that gets
 * past it is bounded in values and depth, and holds no extension types.
 */
import { FRAME_LIMITS } from './frame-limits.js';

/** Why a frame was refused. `limit`: the frame breaks a rule of the protocol; `malformed`: it is not msgpack. */
export interface MsgpackRefusal {
  readonly kind: 'limit' | 'malformed';
  readonly message: string;
  /** The request's `id`, when the frame's map gave one before the refused part. */
  readonly requestId: number | null;
}

/** The largest id a request may carry, as in the schema's `uint32 id`. */
const MAX_REQUEST_ID = 0xffff_ffff;

/** Bytes after the type byte that hold a length (str, bin, array, map) or a number, by type byte (0xc4 – 0xdf). */
function headerBytes(type: number): number {
  switch (type) {
    case 0xc4: case 0xcc: case 0xd0: case 0xd9: return 1;
    case 0xc5: case 0xcd: case 0xd1: case 0xda: case 0xdc: case 0xde: return 2;
    case 0xc6: case 0xca: case 0xce: case 0xd2: case 0xdb: case 0xdd: case 0xdf: return 4;
    default: return 8; // 0xcb, 0xcf, 0xd3
  }
}

const isExtension = (type: number): boolean => (type >= 0xc7 && type <= 0xc9) || (type >= 0xd4 && type <= 0xd8);
const isBytes = (type: number): boolean => (type >= 0xc4 && type <= 0xc6) || (type >= 0xd9 && type <= 0xdb);
const isArray = (type: number): boolean => (type >= 0x90 && type <= 0x9f) || type === 0xdc || type === 0xdd;
const isMap = (type: number): boolean => (type >= 0x80 && type <= 0x8f) || type === 0xde || type === 0xdf;

/** The number a scalar at `at` holds, for the request id; null when it is no number. */
function numberAt(view: DataView, at: number): number | null {
  const type = view.getUint8(at);
  if (type <= 0x7f) return type;
  if (type >= 0xe0) return type - 0x100;
  switch (type) {
    case 0xca: return view.getFloat32(at + 1);
    case 0xcb: return view.getFloat64(at + 1);
    case 0xcc: return view.getUint8(at + 1);
    case 0xcd: return view.getUint16(at + 1);
    case 0xce: return view.getUint32(at + 1);
    case 0xcf: return Number(view.getBigUint64(at + 1));
    case 0xd0: return view.getInt8(at + 1);
    case 0xd1: return view.getInt16(at + 1);
    case 0xd2: return view.getInt32(at + 1);
    case 0xd3: return Number(view.getBigInt64(at + 1));
    default: return null;
  }
}

/** Whether the value at `at`, `length` bytes long with its header, is the string `id` (in any str encoding). */
function isIdKey(frame: Uint8Array, at: number, length: number): boolean {
  const type = frame[at]!;
  const header = type >= 0xa0 && type <= 0xbf ? 1 : type === 0xd9 ? 2 : type === 0xda ? 3 : type === 0xdb ? 5 : 0;
  return header > 0 && length - header === 2 && frame[at + header] === 0x69 && frame[at + header + 1] === 0x64;
}

/**
 * Walks the frame's one value; returns null when it is within the limits, or the reason it is refused.
 * O(values): every step reads one value's header, so it stops after at most `maxValues` steps, and a
 * container that declares more values than are left is refused from its header alone.
 */
export function scanMsgpack(frame: Uint8Array): MsgpackRefusal | null {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const end = frame.byteLength;
  // Values still to read in each open container, outermost first; the first entry is the frame's one value.
  const remaining: number[] = [1];
  let values = 1;
  let at = 0;
  // The request id, from the top-level map, as far as the walk has come.
  let topLevelIsMap = false;
  let nextIsId = false;
  let requestId: number | null = null;

  const refuse = (kind: MsgpackRefusal['kind'], message: string): MsgpackRefusal => ({ kind, message, requestId: kind === 'limit' ? requestId : null });

  while (remaining.length > 0) {
    const open = remaining.length - 1;
    if (remaining[open] === 0) {
      remaining.pop();
      continue;
    }
    remaining[open] -= 1;
    if (at >= end) return refuse('malformed', 'The frame ends inside a value');
    const type = frame[at]!;
    const start = at;
    if (isExtension(type)) return refuse('limit', `msgpack extension types are not accepted (type byte 0x${type.toString(16)} at offset ${at})`);
    if (type === 0xc1) return refuse('malformed', `0xc1 is not a msgpack type (offset ${at})`);

    let children = 0;
    let length = 1;
    // Fixints, nil and booleans are the one type byte.
    if (type >= 0x80 && type <= 0x8f) children = 2 * (type & 0x0f);
    else if (type >= 0x90 && type <= 0x9f) children = type & 0x0f;
    else if (type >= 0xa0 && type <= 0xbf) length = 1 + (type & 0x1f);
    else if (type >= 0xc4 && type <= 0xdf) {
      const size = headerBytes(type);
      length = 1 + size;
      if (at + length > end) return refuse('malformed', 'The frame ends inside a value');
      if (isBytes(type) || isArray(type) || isMap(type)) {
        const count = size === 1 ? view.getUint8(at + 1) : size === 2 ? view.getUint16(at + 1) : view.getUint32(at + 1);
        if (isBytes(type)) length += count;
        else children = isMap(type) ? 2 * count : count;
      }
    }
    if (at + length > end) return refuse('malformed', 'The frame ends inside a value');
    at += length;

    // The id: the value after an `id` key of the frame's own map (the last one read, as a decoder keeps it).
    if (open === 1 && topLevelIsMap) {
      if (nextIsId) {
        const id = numberAt(view, start);
        requestId = id !== null && Number.isSafeInteger(id) && id >= 0 && id <= MAX_REQUEST_ID ? id : null;
        nextIsId = false;
      } else if (remaining[1]! % 2 === 1) {
        // A key: after taking it, an odd count of the map's values is left.
        nextIsId = isIdKey(frame, start, length);
      }
    }

    if (!isArray(type) && !isMap(type)) continue;
    if (open === 0) topLevelIsMap = isMap(type);
    if (remaining.length > FRAME_LIMITS.maxDepth) return refuse('limit', `A request nests at most ${FRAME_LIMITS.maxDepth} maps and arrays deep`);
    values += children;
    if (values > FRAME_LIMITS.maxValues) return refuse('limit', `A request holds at most ${FRAME_LIMITS.maxValues} values; this one declares more at offset ${start}`);
    // Every value takes at least a byte: a container that declares more than are left cannot be complete.
    if (children > end - at) return refuse('malformed', 'The frame ends inside a value');
    remaining.push(children);
  }
  if (at !== end) return refuse('malformed', `The frame has ${end - at} bytes after its value`);
  return null;
}
