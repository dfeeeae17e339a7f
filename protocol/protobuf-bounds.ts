/**
 * protobufjs decoding within the frame limits. protobufjs reads a known field by its schema type whatever
 * its wire type says, so a separate walk over the wire format could read a frame differently from it; the
 * bound is kept instead by the reader protobufjs decodes from: every value it reads (a field's tag, a
 * scalar, a string, a length, a skipped unknown field) is counted, and the decode stops at the limit. The
 * work and the values built are so bounded by the count, whatever the frame's byte length.
 */
import protobuf from 'protobufjs';
import { FRAME_LIMITS } from './frame-limits.js';

/** A frame over the limits; `position` is where in the frame the reader was. */
export class ProtobufLimitExceeded extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

type ReaderClass = new (buffer: Uint8Array) => protobuf.Reader;

/** `Base` with every read counted against FRAME_LIMITS.maxValues, and groups of unknown fields against maxDepth. */
function counting(Base: ReaderClass): ReaderClass {
  return class CountingReader extends (Base as typeof protobuf.Reader) {
    #values = 0;

    #count(): void {
      this.#values += 1;
      if (this.#values > FRAME_LIMITS.maxValues) throw new ProtobufLimitExceeded(`A request holds at most ${FRAME_LIMITS.maxValues} values (field tags and values)`, this.pos);
    }

    override uint32(): number { this.#count(); return super.uint32(); }
    override int32(): number { this.#count(); return super.int32(); }
    override sint32(): number { this.#count(); return super.sint32(); }
    override uint64(): protobuf.Long { this.#count(); return super.uint64(); }
    override int64(): protobuf.Long { this.#count(); return super.int64(); }
    override sint64(): protobuf.Long { this.#count(); return super.sint64(); }
    override fixed32(): number { this.#count(); return super.fixed32(); }
    override sfixed32(): number { this.#count(); return super.sfixed32(); }
    override fixed64(): protobuf.Long { this.#count(); return super.fixed64(); }
    override sfixed64(): protobuf.Long { this.#count(); return super.sfixed64(); }
    override bool(): boolean { this.#count(); return super.bool(); }
    override float(): number { this.#count(); return super.float(); }
    override double(): number { this.#count(); return super.double(); }
    override bytes(): Uint8Array { this.#count(); return super.bytes(); }
    override string(): string { this.#count(); return super.string(); }

    /** `depth` is protobufjs's: the messages around the field (0 in the request itself), then one per group. */
    override skipType(wireType: number, depth = 0): this {
      this.#count();
      // Open: the request, its messages down to this field, the groups around it, and this group.
      if (wireType === 3 && depth + 2 > FRAME_LIMITS.maxDepth) throw new ProtobufLimitExceeded(`A request nests at most ${FRAME_LIMITS.maxDepth} messages and groups deep`, this.pos);
      return super.skipType(wireType, depth) as this;
    }
  } as unknown as ReaderClass;
}

const CountingReader = counting(protobuf.Reader as unknown as ReaderClass);
const CountingBufferReader = counting(protobuf.BufferReader as unknown as ReaderClass);

/**
 * A reader of `frame` for `Type.decode` that throws ProtobufLimitExceeded past the limits. A Node.js Buffer
 * is read as protobufjs reads one (its BufferReader), anything else as a plain Uint8Array.
 */
export function boundedReader(frame: Uint8Array): protobuf.Reader {
  return Buffer.isBuffer(frame) ? new CountingBufferReader(frame) : new CountingReader(frame);
}

/** The low 32 bits of the varint at `at` (as protobufjs reads a uint32) and where it ends; null if cut off. */
function varint32(frame: Uint8Array, at: number): { value: number; end: number } | null {
  let value = 0;
  for (let i = 0; i < 10; i++) {
    const byte = frame[at + i];
    if (byte === undefined) return null;
    if (i < 5) value = (value | ((byte & 0x7f) << (7 * i))) >>> 0;
    if (byte < 0x80) return { value, end: at + i + 1 };
  }
  return null;
}

/**
 * The request id as the fields wholly before `position` give it: field 1 of the request, the last one read,
 * as protobufjs keeps it. Groups and malformed fields end the search.
 */
export function requestIdBefore(frame: Uint8Array, position: number): number | null {
  let id: number | null = null;
  let at = 0;
  while (at < position) {
    const tag = varint32(frame, at);
    if (tag === null) break;
    const field = tag.value >>> 3;
    const wireType = tag.value & 7;
    let end: number;
    if (field === 1 || wireType === 0) {
      const value = varint32(frame, tag.end);
      if (value === null) break;
      if (field === 1 && value.end <= position) id = value.value;
      end = value.end;
    } else if (wireType === 2) {
      const length = varint32(frame, tag.end);
      if (length === null) break;
      end = length.end + length.value;
    } else if (wireType === 1 || wireType === 5) end = tag.end + (wireType === 1 ? 8 : 4);
    else break;
    if (end > position) break;
    at = end;
  }
  return id;
}
