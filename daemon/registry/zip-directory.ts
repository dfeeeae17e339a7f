/**
 * Zips a local directory deterministically: the same tree always gives the same bytes, hence the same
 * CodeSha256. Entries are sorted by path; timestamps are fixed; the only file metadata kept is whether a file
 * is executable, written as Unix mode 0755 or 0644; symbolic links are kept as links.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';

export interface TreeEntry {
  /** `/`-separated, relative to the root. */
  readonly path: string;
  readonly kind: 'file' | 'symlink';
  /** Bytes the entry unzips to. */
  readonly size: number;
  readonly executable: boolean;
}

// 1980-01-01 00:00:00, the first moment a zip can record, in local time: fflate reads the local fields, so
// this gives the same DOS timestamp in every time zone.
const FIXED_TIME = new Date(1980, 0, 1, 0, 0, 0);
const UNIX = 3;
const REGULAR_FILE = 0o100000;
const SYMLINK = 0o120000;
const OWNER_EXECUTE = 0o100;
const DEFLATE_LEVEL = 6;
const encoder = new TextEncoder();

/** The files and links under `root`, sorted by path; directories are implied by the paths. */
export function listTree(root: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  const walk = (directory: string, prefix: string): void => {
    for (const name of readdirSync(directory)) {
      const path = join(directory, name);
      const relative = prefix + name;
      const stat = lstatSync(path);
      if (stat.isDirectory()) walk(path, `${relative}/`);
      else if (stat.isSymbolicLink()) entries.push({ path: relative, kind: 'symlink', size: stat.size, executable: false });
      else if (stat.isFile()) entries.push({ path: relative, kind: 'file', size: stat.size, executable: (stat.mode & OWNER_EXECUTE) !== 0 });
      // Sockets, FIFOs and devices have no place in a deployment package.
    }
  };
  walk(root, '');
  // By code unit, not locale: the order must not depend on the machine.
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function zipTree(root: string, entries: readonly TreeEntry[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((error, chunk) => {
    if (error !== null) failure = error;
    else chunks.push(chunk);
  });
  for (const entry of entries) {
    const path = join(root, ...entry.path.split('/'));
    const isLink = entry.kind === 'symlink';
    const file = isLink ? new ZipPassThrough(entry.path) : new ZipDeflate(entry.path, { level: DEFLATE_LEVEL });
    file.mtime = FIXED_TIME;
    file.os = UNIX;
    const mode = isLink ? SYMLINK | 0o777 : REGULAR_FILE | (entry.executable ? 0o755 : 0o644);
    // Unix mode in the high 16 bits; multiplied, not shifted, to stay clear of 32-bit sign trouble.
    file.attrs = mode * 0x10000;
    zip.add(file);
    file.push(isLink ? encoder.encode(readlinkSync(path)) : readFileSync(path), true);
  }
  zip.end();
  if (failure !== null) throw failure;
  return concat(chunks);
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
