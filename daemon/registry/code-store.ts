/**
 * Function code, content-addressed: each zip is kept once under `<dataDir>/code/<sha256 hex>.zip` and
 * extracted once into `<dataDir>/code/<sha256 hex>/`. Both are written under a temporary name and renamed,
 * so a crash never leaves half a blob or half a directory, and both are in place before the registry
 * commits the version that uses them.
 */
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { invalidParameter, LambdaError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { inflateEntry, readCentralDirectory, ZipFormatError, type ZipEntry } from './zip-reader.js';
import { listTree, zipTree } from './zip-directory.js';

/** CodeInput as it may arrive from an adapter: exactly one of the two is expected. */
export interface CodeSource {
  readonly ZipFile?: Uint8Array | undefined;
  readonly Directory?: string | undefined;
}

export interface CodeIdentity {
  /** base64 SHA-256 of the zip, as the API shows it. */
  readonly codeSha256: string;
  /** Zip bytes. */
  readonly codeSize: number;
}

const TEMPORARY_PREFIX = '.tmp-';
/**
 * An empty package.json above every code directory: Node looks for the nearest one to decide whether `.js`
 * is CommonJS or ESM, and a data directory inside an ESM project must not make a function's code ESM.
 * Lambda's /var/task has no package scope around it either.
 */
const SCOPE_BOUNDARY = 'package.json';
const BLOB_SUFFIX = '.zip';
const DEFAULT_FILE_MODE = 0o644;
const DEFAULT_DIRECTORY_MODE = 0o755;
// The daemon must always be able to read what it extracted, whatever modes the archive recorded.
const OWNER_READ = 0o400;
const OWNER_ALL = 0o700;

const tooLarge = (): LambdaError =>
  new LambdaError('RequestEntityTooLargeException', `Zipped size must be smaller than ${LIMITS.zippedCodeMaxBytes} bytes`);
const unzippedTooLarge = (): LambdaError => invalidParameter(`Unzipped size must be smaller than ${LIMITS.unzippedCodeMaxBytes} bytes`);
const cannotUnzip = (): LambdaError =>
  invalidParameter('Could not unzip uploaded file. Please check your file, then try to upload again.');
// AWS's text for this case is not recorded; this one names the entry.
const outsideEntry = (name: string): LambdaError =>
  invalidParameter(`Could not unzip uploaded file. The entry '${name}' would be written outside the function's directory.`);
/** fs errors that mean the archive contradicts itself (a file where a directory goes, a name twice). */
const ARCHIVE_CONFLICTS: ReadonlySet<string> = new Set(['EEXIST', 'ENOTDIR', 'EISDIR']);

/** A zip checked and hashed, not yet stored. */
export interface PreparedCode extends CodeIdentity {
  readonly zip: Uint8Array;
  readonly entries: readonly ZipEntry[];
  readonly hex: string;
  /** The sizes the entries declare, summed (extraction stops any entry that grows past its own). */
  readonly unzippedSize: number;
}

export class CodeStore {
  readonly #root: string;
  /** Code directories known to be in place, so resolving an invocation touches no file. */
  readonly #extracted = new Set<string>();

  constructor(root: string) {
    this.#root = root;
    mkdirSync(root, { recursive: true });
    const boundary = join(root, SCOPE_BOUNDARY);
    if (!existsSync(boundary)) this.#writeFile(boundary, new TextEncoder().encode('{}\n'));
  }

  /**
   * Reads and checks code input without storing anything: zip size before any work, the central
   * directory's declared sizes and entry names before inflating.
   */
  prepare(input: CodeSource): PreparedCode {
    const zip = readSource(input);
    let entries: ZipEntry[];
    try {
      entries = readCentralDirectory(zip);
    } catch (error) {
      if (error instanceof ZipFormatError) throw cannotUnzip();
      throw error;
    }
    let declared = 0;
    for (const entry of entries) {
      declared += entry.uncompressedSize;
      checkEntryName(entry.name);
    }
    if (declared > LIMITS.unzippedCodeMaxBytes) throw unzippedTooLarge();
    const digest = createHash('sha256').update(zip).digest();
    return { zip, entries, hex: digest.toString('hex'), codeSha256: digest.toString('base64'), codeSize: zip.length, unzippedSize: declared };
  }

  /** The unzipped size of stored code, from its zip's central directory. */
  unzippedSize(codeSha256: string): number {
    const zip = readFileSync(join(this.#root, Buffer.from(codeSha256, 'base64').toString('hex') + BLOB_SUFFIX));
    return readCentralDirectory(zip).reduce((total, entry) => total + entry.uncompressedSize, 0);
  }

  /** Extracts (once per CodeSha256) and keeps the blob; afterwards the code may be committed as in use. */
  store(code: PreparedCode): void {
    const directory = join(this.#root, code.hex);
    const pending = existsSync(directory) ? null : this.#extract(code);
    try {
      const blob = join(this.#root, code.hex + BLOB_SUFFIX);
      if (!existsSync(blob)) this.#writeFile(blob, code.zip);
      if (pending !== null) renameSync(pending, directory);
    } catch (error) {
      if (pending !== null) rmSync(pending, { recursive: true, force: true });
      throw error;
    }
    this.#extracted.add(code.codeSha256);
  }

  /** The zip a CodeSha256 was uploaded as, or null once it has been pruned. */
  zipFile(codeSha256: string): string | null {
    const blob = join(this.#root, Buffer.from(codeSha256, 'base64').toString('hex') + BLOB_SUFFIX);
    return existsSync(blob) ? blob : null;
  }

  /** The extracted code of a CodeSha256; extracted again from its blob if the directory went missing. */
  directory(codeSha256: string): string {
    const hex = Buffer.from(codeSha256, 'base64').toString('hex');
    const directory = join(this.#root, hex);
    if (this.#extracted.has(codeSha256)) return directory;
    if (!existsSync(directory)) {
      const zip = readFileSync(join(this.#root, hex + BLOB_SUFFIX));
      const entries = readCentralDirectory(zip);
      this.store({ zip, entries, hex, codeSha256, codeSize: zip.length, unzippedSize: entries.reduce((total, entry) => total + entry.uncompressedSize, 0) });
    }
    this.#extracted.add(codeSha256);
    return directory;
  }

  /** Removes blobs and directories no version uses, and leftovers of interrupted writes. Run when nothing runs code. */
  prune(inUse: ReadonlySet<string>): void {
    const keep = new Set([...inUse].map((sha) => Buffer.from(sha, 'base64').toString('hex')));
    for (const name of readdirSync(this.#root)) {
      if (name === SCOPE_BOUNDARY) continue;
      const hex = name.endsWith(BLOB_SUFFIX) ? name.slice(0, -BLOB_SUFFIX.length) : name;
      if (name.startsWith(TEMPORARY_PREFIX) || !keep.has(hex)) rmSync(join(this.#root, name), { recursive: true, force: true });
    }
  }

  /** Writes under a temporary name, flushes, renames: the file is there whole or not at all. */
  #writeFile(path: string, bytes: Uint8Array): void {
    const temporary = join(this.#root, `${TEMPORARY_PREFIX}${basename(path)}`);
    const fd = openSync(temporary, 'w');
    try {
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  }

  /** Extracts into a new temporary directory and returns it; on any failure nothing is left behind. */
  #extract(code: PreparedCode): string {
    const target = mkdtempSync(join(this.#root, TEMPORARY_PREFIX));
    try {
      chmodSync(target, DEFAULT_DIRECTORY_MODE);
      extractInto(target, code);
      return target;
    } catch (error) {
      rmSync(target, { recursive: true, force: true });
      if (error instanceof ZipFormatError) throw cannotUnzip();
      if (ARCHIVE_CONFLICTS.has((error as NodeJS.ErrnoException).code ?? '')) throw cannotUnzip();
      throw error;
    }
  }
}

function readSource(source: CodeSource): Uint8Array {
  if (source.ZipFile !== undefined && source.Directory !== undefined) {
    throw invalidParameter('Please provide either ZipFile or Directory as the source for function code, not both.');
  }
  if (source.Directory !== undefined) return zipDirectory(source.Directory);
  if (source.ZipFile === undefined) throw invalidParameter('Please provide a source for function code.');
  if (!(source.ZipFile instanceof Uint8Array)) throw cannotUnzip();
  return checkZipSize(source.ZipFile);
}

function checkZipSize(zip: Uint8Array): Uint8Array {
  if (zip.length > LIMITS.zippedCodeMaxBytes) throw tooLarge();
  return zip;
}

function zipDirectory(directory: string): Uint8Array {
  if (!existsSync(directory) || !statSync(directory).isDirectory()) {
    throw invalidParameter(`Code directory not found: ${directory}`);
  }
  const entries = listTree(directory);
  // The files' sizes are the unzipped size: refuse before reading a byte of them.
  if (entries.reduce((total, entry) => total + entry.size, 0) > LIMITS.unzippedCodeMaxBytes) throw unzippedTooLarge();
  return checkZipSize(zipTree(directory, entries));
}

/** Zip-slip: an entry must stay inside the directory it is extracted to. */
function checkEntryName(name: string): void {
  const segments = name.split('/');
  const escapes = name.startsWith('/') || /^[a-zA-Z]:/.test(name) || name.includes('\0') || segments.includes('..');
  if (escapes) throw outsideEntry(name);
}

function extractInto(root: string, code: PreparedCode): void {
  const links: { path: string; target: string }[] = [];
  for (const entry of code.entries) {
    const path = join(root, ...entry.name.split('/').filter((segment) => segment !== '' && segment !== '.'));
    if (entry.isDirectory) {
      mkdirSync(path, { recursive: true });
      chmodSync(path, (entry.mode ?? DEFAULT_DIRECTORY_MODE) | OWNER_ALL);
      continue;
    }
    if (entry.isSymlink) {
      const parts: Uint8Array[] = [];
      inflateEntry(code.zip, entry, (chunk) => parts.push(chunk.slice()));
      links.push({ path, target: Buffer.concat(parts).toString('utf8') });
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, 'w');
    try {
      inflateEntry(code.zip, entry, (chunk) => {
        for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at);
      });
    } finally {
      closeSync(fd);
    }
    chmodSync(path, (entry.mode ?? DEFAULT_FILE_MODE) | OWNER_READ);
  }
  // Links last, and only to places inside the code directory, so no entry is ever written through one. A link's
  // target is resolved from where its directory really is: an earlier link (`d -> .`) may stand in its path.
  const realRoot = realpathSync(root);
  for (const link of links) {
    if (link.target === '' || link.target.includes('\0')) throw new ZipFormatError(`${link.path}: not a link target`);
    mkdirSync(dirname(link.path), { recursive: true });
    const resolved = resolve(realpathSync(dirname(link.path)), link.target);
    const inside = relative(realRoot, resolved);
    if (isAbsolute(link.target) || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
      throw outsideEntry(relative(root, link.path).split(sep).join('/'));
    }
    symlinkSync(link.target, link.path);
  }
}
