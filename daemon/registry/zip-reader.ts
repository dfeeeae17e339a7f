/**
 * Reads an untrusted zip archive: its central directory first (every size an entry declares is known before
 * a byte is inflated), then one entry at a time, inflated in chunks and counted against what it declared.
 * Knows nothing of Lambda: it throws ZipFormatError and leaves the limits to the caller.
 */
import { Inflate } from 'fflate';

export class ZipFormatError extends Error {
  override readonly name = 'ZipFormatError';
}

export interface ZipEntry {
  /** As stored, `/`-separated (a `\` written by some Windows tools is read as `/`). */
  readonly name: string;
  readonly isDirectory: boolean;
  readonly isSymlink: boolean;
  /** Unix permission bits when the archive was made on Unix and recorded them, else null. */
  readonly mode: number | null;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

const END_OF_DIRECTORY = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_END_OF_DIRECTORY = 0x06064b50;
const CENTRAL_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const END_OF_DIRECTORY_BYTES = 22;
const ZIP64_LOCATOR_BYTES = 20;
const CENTRAL_HEADER_BYTES = 46;
const LOCAL_HEADER_BYTES = 30;
const MAX_COMMENT_BYTES = 0xffff;
const ZIP64_EXTRA = 0x0001;
const UNSET_16 = 0xffff;
const UNSET_32 = 0xffffffff;
const MADE_ON_UNIX = 3;
const FLAG_ENCRYPTED = 0x1;
const FLAG_UTF8 = 0x800;
const STORED = 0;
const DEFLATED = 8;
const FILE_TYPE_MASK = 0o170000;
const DIRECTORY_TYPE = 0o040000;
const SYMLINK_TYPE = 0o120000;
const INFLATE_CHUNK_BYTES = 1 << 20;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** The entries of the archive's central directory, checked to lie inside the archive. */
export function readCentralDirectory(zip: Uint8Array): ZipEntry[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const end = findEndOfDirectory(view);
  if (view.getUint16(end + 4, true) !== 0 || view.getUint16(end + 6, true) !== 0) {
    throw new ZipFormatError('multi-disk archives are not supported');
  }
  let count = view.getUint16(end + 10, true);
  let size = view.getUint32(end + 12, true);
  let offset = view.getUint32(end + 16, true);
  if (count === UNSET_16 || size === UNSET_32 || offset === UNSET_32) {
    ({ count, size, offset } = readZip64End(view, end));
  }
  if (offset + size > end) throw new ZipFormatError('central directory outside the archive');

  const entries: ZipEntry[] = [];
  let at = offset;
  for (let index = 0; index < count; index++) {
    if (at + CENTRAL_HEADER_BYTES > offset + size || view.getUint32(at, true) !== CENTRAL_HEADER) {
      throw new ZipFormatError('bad central directory header');
    }
    const entry = readCentralHeader(view, zip, at);
    entries.push(entry.entry);
    at = entry.next;
    if (at > offset + size) throw new ZipFormatError('central directory header overruns the directory');
  }
  return entries;
}

function findEndOfDirectory(view: DataView): number {
  const lowest = Math.max(0, view.byteLength - END_OF_DIRECTORY_BYTES - MAX_COMMENT_BYTES);
  for (let at = view.byteLength - END_OF_DIRECTORY_BYTES; at >= lowest; at--) {
    if (view.getUint32(at, true) === END_OF_DIRECTORY) return at;
  }
  throw new ZipFormatError('no end of central directory record');
}

function readZip64End(view: DataView, end: number): { count: number; size: number; offset: number } {
  const locator = end - ZIP64_LOCATOR_BYTES;
  if (locator < 0 || view.getUint32(locator, true) !== ZIP64_LOCATOR) throw new ZipFormatError('no zip64 locator');
  const record = uint64(view, locator + 8);
  if (record + 56 > locator || view.getUint32(record, true) !== ZIP64_END_OF_DIRECTORY) {
    throw new ZipFormatError('bad zip64 end of central directory record');
  }
  return { count: uint64(view, record + 32), size: uint64(view, record + 40), offset: uint64(view, record + 48) };
}

function readCentralHeader(view: DataView, zip: Uint8Array, at: number): { entry: ZipEntry; next: number } {
  const madeOn = view.getUint8(at + 5);
  const flags = view.getUint16(at + 8, true);
  const method = view.getUint16(at + 10, true);
  const nameBytes = view.getUint16(at + 28, true);
  const extraBytes = view.getUint16(at + 30, true);
  const commentBytes = view.getUint16(at + 32, true);
  const externalAttributes = view.getUint32(at + 38, true);
  const nameStart = at + CENTRAL_HEADER_BYTES;
  const extraStart = nameStart + nameBytes;
  const next = extraStart + extraBytes + commentBytes;
  if (next > view.byteLength) throw new ZipFormatError('central directory header overruns the archive');
  if ((flags & FLAG_ENCRYPTED) !== 0) throw new ZipFormatError('encrypted entries are not supported');
  if (method !== STORED && method !== DEFLATED) throw new ZipFormatError(`compression method ${method} is not supported`);

  const sizes = readZip64Sizes(view, extraStart, extraBytes, {
    uncompressedSize: view.getUint32(at + 24, true),
    compressedSize: view.getUint32(at + 20, true),
    localHeaderOffset: view.getUint32(at + 42, true),
  });
  const rawName = decodeName(zip.subarray(nameStart, extraStart), (flags & FLAG_UTF8) !== 0);
  const name = rawName.replaceAll('\\', '/');
  const unixMode = madeOn === MADE_ON_UNIX ? externalAttributes >>> 16 : 0;
  const type = unixMode & FILE_TYPE_MASK;
  const entry: ZipEntry = {
    name,
    isDirectory: name.endsWith('/') || type === DIRECTORY_TYPE,
    isSymlink: type === SYMLINK_TYPE,
    mode: unixMode === 0 ? null : unixMode & 0o777,
    method,
    crc32: view.getUint32(at + 16, true),
    ...sizes,
  };
  return { entry, next };
}

/** The zip64 extra field holds, in this order, whichever of the three values are unset (0xFFFFFFFF) above. */
function readZip64Sizes(
  view: DataView,
  start: number,
  length: number,
  sizes: { uncompressedSize: number; compressedSize: number; localHeaderOffset: number },
): typeof sizes {
  const unset = (Object.keys(sizes) as (keyof typeof sizes)[]).filter((key) => sizes[key] === UNSET_32);
  if (unset.length === 0) return sizes;
  for (let at = start; at + 4 <= start + length; ) {
    const id = view.getUint16(at, true);
    const size = view.getUint16(at + 2, true);
    if (id === ZIP64_EXTRA) {
      if (size < unset.length * 8 || at + 4 + size > start + length) throw new ZipFormatError('short zip64 extra field');
      const result = { ...sizes };
      unset.forEach((key, index) => (result[key] = uint64(view, at + 4 + index * 8)));
      return result;
    }
    at += 4 + size;
  }
  throw new ZipFormatError('zip64 sizes without a zip64 extra field');
}

function decodeName(bytes: Uint8Array, isUtf8: boolean): string {
  try {
    return (isUtf8 ? utf8 : latin1).decode(bytes);
  } catch {
    throw new ZipFormatError('entry name is not valid UTF-8');
  }
}

/** Past 2^53 the value is inexact, but still far beyond every limit and every archive, which is all it is checked for. */
function uint64(view: DataView, at: number): number {
  return Number(view.getBigUint64(at, true));
}

/**
 * Inflates one entry, handing its bytes to `write` in chunks. Stops as soon as the output passes the size the
 * entry declared, and checks the CRC-32 at the end, so the declared sizes the caller checked are the truth.
 */
export function inflateEntry(zip: Uint8Array, entry: ZipEntry, write: (chunk: Uint8Array) => void): void {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const header = entry.localHeaderOffset;
  if (header + LOCAL_HEADER_BYTES > zip.byteLength || view.getUint32(header, true) !== LOCAL_HEADER) {
    throw new ZipFormatError(`bad local header for ${entry.name}`);
  }
  const dataStart = header + LOCAL_HEADER_BYTES + view.getUint16(header + 26, true) + view.getUint16(header + 28, true);
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > zip.byteLength) throw new ZipFormatError(`data of ${entry.name} overruns the archive`);
  const data = zip.subarray(dataStart, dataEnd);

  let produced = 0;
  let crc = CRC_INITIAL;
  const accept = (chunk: Uint8Array): void => {
    produced += chunk.length;
    if (produced > entry.uncompressedSize) throw new ZipFormatError(`${entry.name} is larger than it declares`);
    crc = crc32Update(crc, chunk);
    write(chunk);
  };
  if (entry.method === STORED) {
    accept(data);
  } else {
    const inflater = new Inflate((chunk) => accept(chunk));
    try {
      let at = 0;
      do {
        const end = Math.min(at + INFLATE_CHUNK_BYTES, data.length);
        inflater.push(data.subarray(at, end), end === data.length);
        at = end;
      } while (at < data.length);
    } catch (error) {
      // fflate's errors carry a numeric code; anything else (our own, or the writer's) passes through.
      if (typeof (error as { code?: unknown }).code !== 'number') throw error;
      throw new ZipFormatError(`${entry.name}: ${(error as Error).message}`);
    }
  }
  if (produced !== entry.uncompressedSize) throw new ZipFormatError(`${entry.name} is smaller than it declares`);
  if ((crc ^ CRC_INITIAL) >>> 0 !== entry.crc32) throw new ZipFormatError(`${entry.name} fails its CRC-32 check`);
}

// CRC-32 (IEEE 802.3, reflected), as zip records it.
const CRC_INITIAL = 0xffffffff;
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32Update(crc: number, bytes: Uint8Array): number {
  let c = crc;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}
