/**
 * The two codecs of the protocol, chosen by WebSocket subprotocol, both from the one schema: msgpack maps
 * (msgpackr with plain maps, no records, so any msgpack library can speak it) checked against the schema,
 * and protobuf (protobufjs). Both produce the same plain objects, typed by the generated types.
 */
import { Packr } from 'msgpackr';
import protobuf from 'protobufjs';
import { DESCRIPTOR } from './generated/descriptor.js';
import type { Operation, Request, ServerMessage } from './generated/types.js';
import { scanMsgpack } from './msgpack-scan.js';
import { boundedReader, ProtobufLimitExceeded, requestIdBefore } from './protobuf-bounds.js';

export const SUBPROTOCOLS = Object.freeze({ msgpack: 'lambdad.v1.msgpack', protobuf: 'lambdad.v1.protobuf' } as const);
export type Subprotocol = (typeof SUBPROTOCOLS)[keyof typeof SUBPROTOCOLS];

const root = protobuf.Root.fromJSON(DESCRIPTOR as protobuf.INamespace);
const RequestType = root.lookupType('lambdad.v1.Request');
const ServerMessageType = root.lookupType('lambdad.v1.ServerMessage');
const OPERATION_FIELDS = new Set(RequestType.oneofs['operation']!.oneof);
const KNOWN_REQUEST_FIELDS = new Set(Object.keys(RequestType.fields));

/**
 * A frame the server cannot read. `fatal` frames cannot even be attributed to a request (the connection
 * closes with `closeCode`); the others are answered with a typed error for `requestId`.
 */
export class FrameError extends Error {
  constructor(
    readonly code: 'SerializationException' | 'UnknownOperationException' | 'ValidationException',
    message: string,
    readonly requestId: number | null,
  ) {
    super(message);
    this.name = code;
  }
}

export interface Codec {
  readonly subprotocol: Subprotocol;
  encodeRequest(request: Request): Uint8Array;
  /** Throws FrameError. */
  decodeRequest(frame: Uint8Array): { request: Request; operation: string };
  encodeServerMessage(message: ServerMessage): Uint8Array;
  decodeServerMessage(frame: Uint8Array): ServerMessage;
}

function requestIdOf(value: unknown): number | null {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 && id <= 0xffff_ffff ? id : null;
}

/** `FunctionName` → `functionName`: how AWS names a member in its validation messages. */
const memberName = (field: string): string => field.charAt(0).toLowerCase() + field.slice(1);
/** A member's place in a request, for messages: built only when one is needed, not for every member checked. */
const memberPath = (path: string, field: string): string => (path === '' ? memberName(field) : `${path}.${memberName(field)}`);

/**
 * What protobufjs's `verify` leaves open: bytes must really be bytes (it accepts strings and anything with a
 * `length`, which would be copied, unbounded, on the main thread), and members that are not `optional` in
 * the schema must be present, as AWS's API requires ("Member must not be null").
 */
function checkMembers(type: protobuf.Type, value: Record<string, unknown>, id: number | null, path: string): void {
  for (const field of type.fieldsArray) {
    const member = value[field.name];
    if (member === undefined) {
      const required = !field.repeated && !field.map && field.partOf === null && !field.options?.['proto3_optional'];
      if (required) throw new FrameError('ValidationException', `1 validation error detected: Value null at '${memberPath(path, field.name)}' failed to satisfy constraint: Member must not be null`, id);
      continue;
    }
    if (field.type === 'bytes' && !field.repeated && !field.map && !(member instanceof Uint8Array)) {
      throw new FrameError('SerializationException', `Malformed request: ${memberPath(path, field.name)} must be bytes`, id);
    }
    if (field.resolvedType instanceof protobuf.Type && !field.map) {
      const items = field.repeated ? (member as unknown[]) : [member];
      for (const item of items) checkMembers(field.resolvedType, item as Record<string, unknown>, id, memberPath(path, field.name));
    }
  }
}

/** Removes `nil`s (msgpack clients may send them for "absent"; protobufjs gives them for absent messages). */
function dropNulls(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map(dropNulls);
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    if (object[key] === null) delete object[key];
    else dropNulls(object[key]);
  }
  return object;
}

/** The schema's checks, shared by both codecs: an id, exactly one known operation, members of the right types. */
function checkRequest(value: unknown): { request: Request; operation: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FrameError('SerializationException', 'A request must be a map with an id and one operation', null);
  }
  const id = requestIdOf(value);
  if (id === null) throw new FrameError('SerializationException', 'A request needs an id: an unsigned 32-bit integer', null);
  const operations = Object.keys(value).filter((key) => OPERATION_FIELDS.has(key) && (value as Record<string, unknown>)[key] != null);
  if (operations.length !== 1) {
    const unknown = Object.keys(value).filter((key) => !KNOWN_REQUEST_FIELDS.has(key));
    if (operations.length === 0 && unknown.length > 0) throw new FrameError('UnknownOperationException', `Unknown operation: ${unknown.join(', ')}`, id);
    throw new FrameError('SerializationException', `A request names exactly one operation; this one names ${operations.length}`, id);
  }
  const operation = operations[0]!;
  dropNulls(value);
  const problem = RequestType.verify(value);
  if (problem !== null) throw new FrameError('SerializationException', `Malformed request: ${problem}`, id);
  checkMembers(RequestType.fields[operation]!.resolvedType as protobuf.Type, (value as Record<string, Record<string, unknown>>)[operation]!, id, '');
  return { request: value as Request, operation };
}

/**
 * The same checks on one operation's input outside a frame (the REST adapter's JSON, once its blobs are
 * bytes): members of the schema's types, required members present. Throws FrameError without a request id.
 */
export function checkOperationInput(operation: Operation, input: Record<string, unknown>): void {
  dropNulls(input);
  const type = RequestType.fields[operation]!.resolvedType as protobuf.Type;
  const problem = type.verify(input);
  if (problem !== null) throw new FrameError('SerializationException', `Malformed request: ${problem}`, null);
  checkMembers(type, input, null, '');
}

// `undefined` members go as nil (msgpackr's default is an extension type, which frames may not hold).
const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number', encodeUndefinedAsNil: true });

export const msgpackCodec: Codec = Object.freeze({
  subprotocol: SUBPROTOCOLS.msgpack,
  encodeRequest: (request: Request) => packr.pack(request),
  decodeRequest(frame: Uint8Array) {
    // Bounded before msgpackr builds anything: values, depth, no extension types (protocol/README.md).
    const refusal = scanMsgpack(frame);
    if (refusal !== null) throw new FrameError('SerializationException', refusal.kind === 'limit' ? refusal.message : `The frame is not msgpack: ${refusal.message}`, refusal.requestId);
    let value: unknown;
    try {
      value = packr.unpack(frame);
    } catch (error) {
      throw new FrameError('SerializationException', `The frame is not msgpack: ${(error as Error).message}`, null);
    }
    return checkRequest(value);
  },
  encodeServerMessage: (message: ServerMessage) => packr.pack(message),
  decodeServerMessage: (frame: Uint8Array) => packr.unpack(frame) as ServerMessage,
});

export const protobufCodec: Codec = Object.freeze({
  subprotocol: SUBPROTOCOLS.protobuf,
  encodeRequest: (request: Request) => RequestType.encode(RequestType.fromObject(request)).finish(),
  decodeRequest(frame: Uint8Array) {
    let value: unknown;
    try {
      // Absent stays absent in a request: proto3 cannot tell an empty list from a missing one.
      value = RequestType.toObject(RequestType.decode(boundedReader(frame)), { longs: Number });
    } catch (error) {
      if (error instanceof ProtobufLimitExceeded) throw new FrameError('SerializationException', error.message, requestIdBefore(frame, error.position));
      throw new FrameError('SerializationException', `The frame is not a protobuf Request: ${(error as Error).message}`, null);
    }
    return checkRequest(value);
  },
  encodeServerMessage: (message: ServerMessage) => ServerMessageType.encode(ServerMessageType.fromObject(message)).finish(),
  decodeServerMessage: (frame: Uint8Array) =>
    dropNulls(ServerMessageType.toObject(ServerMessageType.decode(frame), { longs: Number, defaults: true })) as ServerMessage,
});

export const CODECS: Readonly<Record<Subprotocol, Codec>> = Object.freeze({
  [SUBPROTOCOLS.msgpack]: msgpackCodec,
  [SUBPROTOCOLS.protobuf]: protobufCodec,
});
