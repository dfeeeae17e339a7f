/**
 * Code: deterministic zips of directories, content-addressed blobs, extraction, and the checks on untrusted
 * zips — sizes declared in the central directory, sizes while inflating, zip-slip — fed hand-built bytes.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { failure, functionInput, openRegistry, temporaryDirectory, zipOf } from './helpers.js';
import { inflateEntry, readCentralDirectory, ZipFormatError } from '../../dist/daemon/registry/zip-reader.js';

const CANNOT_UNZIP = { code: 'InvalidParameterValueException', message: 'Could not unzip uploaded file. Please check your file, then try to upload again.' };
const UNZIPPED_TOO_LARGE = { code: 'InvalidParameterValueException', message: 'Unzipped size must be smaller than 262144000 bytes' };

interface HandBuiltEntry {
  readonly name: string;
  readonly data: Uint8Array;
  /** Deflate the data (method 8) rather than store it (method 0). */
  readonly deflate?: boolean;
  /** What the central directory says the entry unzips to; the truth by default. */
  readonly declaredSize?: number;
  /** Unix mode recorded in the external attributes (made on Unix). */
  readonly unixMode?: number;
}

/** A zip written byte by byte, so it can say things a zip library would not. */
function handBuiltZip(entries: readonly HandBuiltEntry[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const body = entry.deflate === true ? deflateRawSync(entry.data) : Buffer.from(entry.data);
    const crc = crc32(entry.data);
    const size = entry.declaredSize ?? entry.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(entry.deflate === true ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(entry.unixMode === undefined ? 20 : (3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(entry.deflate === true ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(entry.unixMode === undefined ? 0 : entry.unixMode * 0x10000, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, directory, end]));
}

const text = (value: string) => new TextEncoder().encode(value);

/** Blobs and code directories in the code store, leaving out its package-scope boundary. */
const storedCode = (dataDir: string) => readdirSync(join(dataDir, 'code')).filter((name) => name !== 'package.json').sort();

function sourceTree(): string {
  const root = temporaryDirectory('lambdad-code-');
  mkdirSync(join(root, 'lib', 'deep'), { recursive: true });
  mkdirSync(join(root, 'bin'));
  writeFileSync(join(root, 'index.js'), 'exports.handler = async () => require("./lib/util").value;\n');
  writeFileSync(join(root, 'lib', 'util.js'), 'exports.value = 42;\n');
  writeFileSync(join(root, 'lib', 'deep', 'data.json'), '{"a":1}\n');
  writeFileSync(join(root, '10'), 'a file whose name is a number\n');
  writeFileSync(join(root, 'bin', 'tool'), '#!/bin/sh\necho tool\n');
  chmodSync(join(root, 'bin', 'tool'), 0o755);
  symlinkSync('../lib/util.js', join(root, 'bin', 'util.js'));
  return root;
}

describe('code from a directory', () => {
  it('zips the same tree to the same CodeSha256, wherever and whenever it was written', () => {
    const { registry } = openRegistry();
    const tree = sourceTree();
    const first = registry.createFunction(functionInput('one', { Code: { Directory: tree } }));
    const second = registry.createFunction(functionInput('two', { Code: { Directory: tree } }));
    expect(second.CodeSha256).toBe(first.CodeSha256);

    const copy = join(temporaryDirectory('lambdad-copy-'), 'elsewhere');
    cpSync(tree, copy, { recursive: true, verbatimSymlinks: true });
    utimesSync(join(copy, 'index.js'), new Date('2001-02-03T04:05:06Z'), new Date('2001-02-03T04:05:06Z'));
    chmodSync(join(copy, 'lib', 'util.js'), 0o600);
    const third = registry.createFunction(functionInput('three', { Code: { Directory: copy } }));
    expect(third).toMatchObject({ CodeSha256: first.CodeSha256, CodeSize: first.CodeSize });

    writeFileSync(join(copy, 'lib', 'util.js'), 'exports.value = 43;\n');
    expect(registry.updateFunctionCode('three', { Directory: copy }).CodeSha256).not.toBe(first.CodeSha256);
  });

  it('extracts the tree with its executable bits and links', () => {
    const { registry } = openRegistry();
    registry.createFunction(functionInput('fn', { Code: { Directory: sourceTree() } }));
    const directory = registry.resolveForInvoke('fn').codeDirectory;
    expect(readFileSync(join(directory, 'lib', 'deep', 'data.json'), 'utf8')).toBe('{"a":1}\n');
    expect(readFileSync(join(directory, '10'), 'utf8')).toBe('a file whose name is a number\n');
    expect(statSync(join(directory, 'bin', 'tool')).mode & 0o777).toBe(0o755);
    expect(statSync(join(directory, 'index.js')).mode & 0o777).toBe(0o644);
    expect(lstatSync(join(directory, 'bin', 'util.js')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(directory, 'bin', 'util.js'))).toBe('../lib/util.js');
  });

  it('refuses a tree over the unzipped limit before reading its files', () => {
    const { registry } = openRegistry();
    const tree = temporaryDirectory('lambdad-big-');
    // A sparse file: its size is declared, its bytes were never written.
    writeFileSync(join(tree, 'huge.bin'), '');
    truncateSync(join(tree, 'huge.bin'), 262_144_001);
    expect(failure(() => registry.createFunction(functionInput('fn', { Code: { Directory: tree } })))).toMatchObject(UNZIPPED_TOO_LARGE);
  });
});

describe('code from zip bytes', () => {
  it('reports base64 SHA-256 of the zip as CodeSha256 and its length as CodeSize, and keeps the zip as it came', () => {
    const test = openRegistry();
    const zip = zipOf({ 'index.js': 'exports.handler = async () => 1;\n', 'lib/a.js': '// a\n' });
    const created = test.registry.createFunction(functionInput('fn', { Code: { ZipFile: zip } }));
    const digest = createHash('sha256').update(zip).digest();
    expect(created.CodeSha256).toBe(digest.toString('base64'));
    expect(created.CodeSha256).toHaveLength(44);
    expect(created.CodeSize).toBe(zip.length);
    const blob = join(test.dataDir, 'code', `${digest.toString('hex')}.zip`);
    expect(new Uint8Array(readFileSync(blob))).toEqual(zip);
    expect(readFileSync(join(test.registry.codeDirectory(created.CodeSha256), 'lib', 'a.js'), 'utf8')).toBe('// a\n');
  });

  it('keeps unix modes recorded in the zip', () => {
    const { registry } = openRegistry();
    const zip = handBuiltZip([
      { name: 'index.js', data: text('exports.handler = async () => 1;\n'), unixMode: 0o100644 },
      { name: 'bin/run', data: text('#!/bin/sh\n'), unixMode: 0o100750, deflate: true },
    ]);
    registry.createFunction(functionInput('fn', { Code: { ZipFile: zip } }));
    const directory = registry.resolveForInvoke('fn').codeDirectory;
    expect(statSync(join(directory, 'bin', 'run')).mode & 0o777).toBe(0o750);
    expect(readFileSync(join(directory, 'bin', 'run'), 'utf8')).toBe('#!/bin/sh\n');
  });

  it('stores each zip once and extracts it once, however many functions use it', () => {
    const test = openRegistry();
    test.registry.createFunction(functionInput('a'));
    test.registry.createFunction(functionInput('b', { Publish: true }));
    expect(storedCode(test.dataDir)).toHaveLength(2);
  });

  it('refuses a zip over 52428800 bytes before looking inside', () => {
    const { registry } = openRegistry();
    expect(failure(() => registry.createFunction(functionInput('fn', { Code: { ZipFile: new Uint8Array(52_428_801) } })))).toMatchObject({
      code: 'RequestEntityTooLargeException',
      message: 'Zipped size must be smaller than 52428800 bytes',
    });
  });

  it('refuses a zip whose central directory declares too much, before inflating anything', () => {
    const { registry } = openRegistry();
    // The data is not deflate at all: had it been inflated, the zip would have been called corrupt instead.
    const huge = handBuiltZip([{ name: 'bomb.bin', data: text('not deflate data'), deflate: false, declaredSize: 0xfffffffe }]);
    expect(failure(() => registry.createFunction(functionInput('fn', { Code: { ZipFile: huge } })))).toMatchObject(UNZIPPED_TOO_LARGE);
    const together = handBuiltZip([
      { name: 'a.bin', data: text('a'), declaredSize: 150_000_000 },
      { name: 'b.bin', data: text('b'), declaredSize: 150_000_000 },
    ]);
    expect(failure(() => registry.createFunction(functionInput('fn', { Code: { ZipFile: together } })))).toMatchObject(UNZIPPED_TOO_LARGE);
  });

  it('stops inflating an entry that grows past the size it declared', () => {
    const test = openRegistry();
    const zeros = new Uint8Array(8 * 1024 * 1024);
    const liar = handBuiltZip([{ name: 'index.js', data: zeros, deflate: true, declaredSize: 100 }]);
    expect(failure(() => test.registry.createFunction(functionInput('fn', { Code: { ZipFile: liar } })))).toMatchObject(CANNOT_UNZIP);
    // Nothing half-extracted is left behind.
    expect(storedCode(test.dataDir)).toEqual([]);
  });

  it('stops a zip bomb (under 1 MB, inflating to 300 MB, declaring 1 KB) having written at most what it declared', () => {
    const zeros = new Uint8Array(300 * 1024 * 1024);
    const bomb = handBuiltZip([{ name: 'bomb.bin', data: zeros, deflate: true, declaredSize: 1024 }]);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const [entry] = readCentralDirectory(bomb);
    let written = 0;
    expect(() => inflateEntry(bomb, entry!, (chunk) => (written += chunk.length))).toThrow(ZipFormatError);
    expect(written).toBeLessThanOrEqual(1024);
    const test = openRegistry();
    expect(failure(() => test.registry.createFunction(functionInput('fn', { Code: { ZipFile: bomb } })))).toMatchObject(CANNOT_UNZIP);
    expect(storedCode(test.dataDir)).toEqual([]);
  });

  it.each([
    ['random bytes', new Uint8Array(Array.from({ length: 500 }, (_, i) => (i * 7919) % 251))],
    ['an empty file', new Uint8Array(0)],
    ['a truncated zip', zipOf().subarray(0, 40)],
    ['a zip with a wrong CRC', (() => {
      const zip = handBuiltZip([{ name: 'index.js', data: text('exports.handler = 1;\n') }]);
      zip[30 + 'index.js'.length] ^= 0xff;
      return zip;
    })()],
  ])('refuses %s as a zip it cannot unzip', (_case, bytes) => {
    const { registry } = openRegistry();
    expect(failure(() => registry.createFunction(functionInput('fn', { Code: { ZipFile: bytes } })))).toMatchObject(CANNOT_UNZIP);
  });

  it.each([
    ['a parent directory', '../evil.js'],
    ['a nested parent directory', 'lib/../../evil.js'],
    ['an absolute path', '/tmp/lambdad-evil.js'],
    ['a Windows parent directory', '..\\evil.js'],
  ])('refuses an entry that climbs out through %s (zip-slip)', (_case, name) => {
    const test = openRegistry();
    const zip = zipSync({ 'index.js': text('// ok\n'), [name]: text('// evil\n') });
    expect(failure(() => test.registry.createFunction(functionInput('fn', { Code: { ZipFile: zip } })))).toMatchObject({
      code: 'InvalidParameterValueException',
      message: `Could not unzip uploaded file. The entry '${name.replaceAll('\\', '/')}' would be written outside the function's directory.`,
    });
    expect(existsSync(join(test.dataDir, 'evil.js'))).toBe(false);
    expect(existsSync('/tmp/lambdad-evil.js')).toBe(false);
    expect(storedCode(test.dataDir)).toEqual([]);
  });

  it('refuses a symbolic link that points outside the code', () => {
    const test = openRegistry();
    const zip = handBuiltZip([
      { name: 'index.js', data: text('// ok\n') },
      { name: 'lib/escape', data: text('../../../etc'), unixMode: 0o120777 },
    ]);
    expect(failure(() => test.registry.createFunction(functionInput('fn', { Code: { ZipFile: zip } })))).toMatchObject({
      code: 'InvalidParameterValueException',
      message: "Could not unzip uploaded file. The entry 'lib/escape' would be written outside the function's directory.",
    });
    expect(storedCode(test.dataDir)).toEqual([]);
  });

  it('refuses a link whose path passes through an earlier link, judged where it really lands', () => {
    const test = openRegistry();
    // `d` is the code directory itself, so `d/d/d/x -> ../../..` lands three levels above it.
    const zip = handBuiltZip([
      { name: 'index.js', data: text('// ok\n') },
      { name: 'd', data: text('.'), unixMode: 0o120777 },
      { name: 'd/d/d/x', data: text('../../..'), unixMode: 0o120777 },
    ]);
    expect(failure(() => test.registry.createFunction(functionInput('fn', { Code: { ZipFile: zip } })))).toMatchObject({
      code: 'InvalidParameterValueException',
      message: "Could not unzip uploaded file. The entry 'd/d/d/x' would be written outside the function's directory.",
    });
    expect(storedCode(test.dataDir)).toEqual([]);
  });

  it('refuses code beyond the account’s code storage', () => {
    const zip = zipOf();
    const { registry } = openRegistry({ codeStorageMaxBytes: 3 * zip.length });
    registry.createFunction(functionInput('a', { Publish: true }));
    expect(failure(() => registry.createFunction(functionInput('b', { Publish: true })))).toMatchObject({
      code: 'CodeStorageExceededException',
      message: 'Code storage limit exceeded.',
    });
    registry.createFunction(functionInput('b'));
    registry.updateFunctionConfiguration('b', { Timeout: 5 });
    expect(failure(() => registry.publishVersion('b'))).toMatchObject({ code: 'CodeStorageExceededException' });
    expect(registry.listVersionsByFunction('b').Versions).toHaveLength(1);
  });
});

describe('code on disk across restarts', () => {
  it('drops code no version uses when it opens, and keeps the rest', () => {
    const test = openRegistry();
    const kept = test.registry.createFunction(functionInput('kept'));
    const gone = test.registry.createFunction(functionInput('gone', { Code: { ZipFile: zipOf({ 'index.js': '// gone\n' }) } }));
    test.registry.deleteFunction('gone');
    const hex = (sha: string) => Buffer.from(sha, 'base64').toString('hex');
    const reopened = test.reopen();
    expect(storedCode(test.dataDir)).toEqual([hex(kept.CodeSha256), `${hex(kept.CodeSha256)}.zip`]);
    expect(existsSync(join(test.dataDir, 'code', hex(gone.CodeSha256)))).toBe(false);
    expect(reopened.registry.resolveForInvoke('kept').codeDirectory).toBe(join(test.dataDir, 'code', hex(kept.CodeSha256)));
  });

  it('keeps code out of any package scope around the data directory', () => {
    // Node takes the nearest package.json to decide whether `.js` is CommonJS: the data directory may sit
    // inside an ESM project, and a function's code must not become ESM because of it.
    const test = openRegistry();
    test.registry.createFunction(functionInput('fn'));
    const boundary = join(test.dataDir, 'code', 'package.json');
    expect(JSON.parse(readFileSync(boundary, 'utf8'))).toEqual({});
    test.reopen();
    expect(JSON.parse(readFileSync(boundary, 'utf8'))).toEqual({});
  });

  it('extracts again from the kept zip when the code directory went missing', () => {
    const test = openRegistry();
    test.registry.createFunction(functionInput('fn'));
    const directory = test.registry.resolveForInvoke('fn').codeDirectory;
    const reopened = test.reopen();
    rmSync(directory, { recursive: true });
    expect(reopened.registry.resolveForInvoke('fn').codeDirectory).toBe(directory);
    expect(readFileSync(join(directory, 'index.js'), 'utf8')).toContain('exports.handler');
  });
});
