/**
 * Hot reload of $LATEST from a folder: a function created from a directory with Watch follows its edits — the
 * next invocation after a save runs the new code, within a second — while published versions keep theirs.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, json, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { zipOf } from '../helpers/zip.js';

let harness: TestDaemon;
let work: string;

const handler = (text: string): string => `exports.handler = async () => ${JSON.stringify(text)};\n`;

async function result(name: string, qualifier?: string): Promise<unknown> {
  return json((await harness.daemon.service.invoke({ functionName: name, payload: event({}), ...(qualifier === undefined ? {} : { qualifier }) })).payload);
}

/** Invokes until the result is `wanted` or `withinMs` passed; resolves with how long it took, or -1. */
async function timeUntil(name: string, wanted: unknown, withinMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < withinMs) {
    if ((await result(name)) === wanted) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return (await result(name)) === wanted ? performance.now() - started : -1;
}

/**
 * For "this edit is not followed": a watched function edited right after, whose reload is awaited. Once it has
 * run its new code, an edit that was followed would have been too.
 */
async function afterAWatchedEdit(name: string): Promise<void> {
  const directory = codeDirectory(name, 'before');
  harness.daemon.service.createFunction({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: directory }, Watch: true });
  expect(await result(name)).toBe('before');
  writeFileSync(join(directory, 'index.js'), handler('after'));
  expect(await timeUntil(name, 'after', 1000)).toBeGreaterThanOrEqual(0);
}

function codeDirectory(name: string, text: string): string {
  const directory = join(work, name);
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, 'index.js'), handler(text));
  return directory;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'lambdad-watch-'));
  harness = await startDaemon();
});
afterAll(async () => {
  await harness.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('hot reload', () => {
  it('runs an edit within a second; a published version keeps the code it was published with', async () => {
    const directory = codeDirectory('watched', 'v1');
    const created = harness.daemon.service.createFunction({ FunctionName: 'watched', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: directory }, Watch: true, Publish: true });
    expect(await result('watched')).toBe('v1');
    writeFileSync(join(directory, 'index.js'), handler('v2'));
    const took = await timeUntil('watched', 'v2', 1000);
    expect(took).toBeGreaterThanOrEqual(0);
    expect(took).toBeLessThan(1000);
    expect(harness.daemon.service.getFunctionConfiguration('watched').CodeSha256).not.toBe(created.CodeSha256);
    expect(await result('watched', '1')).toBe('v1');
    // A new file in a new folder counts too.
    mkdirSync(join(directory, 'lib'));
    writeFileSync(join(directory, 'lib', 'text.js'), 'module.exports = "v3";\n');
    writeFileSync(join(directory, 'index.js'), `exports.handler = async () => require('./lib/text.js');\n`);
    expect(await timeUntil('watched', 'v3', 1000)).toBeGreaterThanOrEqual(0);
  });

  it('recovers from a half-written file: the finished save wins', async () => {
    const directory = codeDirectory('saved', 'first');
    const created = harness.daemon.service.createFunction({ FunctionName: 'saved', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: directory }, Watch: true });
    writeFileSync(join(directory, 'index.js'), 'exports.handler = async () => "sec');
    // The half-written file is taken as the new code before the save finishes.
    const deadline = Date.now() + 1000;
    while (harness.daemon.service.getFunctionConfiguration('saved').CodeSha256 === created.CodeSha256 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(harness.daemon.service.getFunctionConfiguration('saved').CodeSha256).not.toBe(created.CodeSha256);
    writeFileSync(join(directory, 'index.js'), handler('second'));
    expect(await timeUntil('saved', 'second', 1000)).toBeGreaterThanOrEqual(0);
  });

  it('does not watch without Watch, stops when code comes as a zip, and picks up edits made while stopped', async () => {
    const still = codeDirectory('still', 'same');
    harness.daemon.service.createFunction({ FunctionName: 'still', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: still } });
    writeFileSync(join(still, 'index.js'), handler('changed'));
    await afterAWatchedEdit('sentinel-still');
    expect(await result('still')).toBe('same');

    const followed = codeDirectory('followed', 'before restart');
    harness.daemon.service.createFunction({ FunctionName: 'followed', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: followed }, Watch: true });
    await harness.daemon.stop();
    writeFileSync(join(followed, 'index.js'), handler('after restart'));
    harness = await harness.restart();
    expect(await timeUntil('followed', 'after restart', 1000)).toBeGreaterThanOrEqual(0);
    harness.daemon.service.updateFunctionCode('followed', { ZipFile: zipOf(handler('from a zip')) });
    writeFileSync(join(followed, 'index.js'), handler('ignored'));
    await afterAWatchedEdit('sentinel-followed');
    expect(await result('followed')).toBe('from a zip');

    expect(() => harness.daemon.service.createFunction({ FunctionName: 'zipped', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: new Uint8Array(0) }, Watch: true })).toThrow(
      expect.objectContaining({ code: 'InvalidParameterValueException', message: expect.stringContaining('Watch needs code from a directory') }),
    );
  });

  it('is the default for directory code with --watch-directories on, unless Watch is false', async () => {
    const daemon = await startDaemon({ 'watch-directories': 'on' });
    try {
      const on = codeDirectory('default-on', 'a');
      const off = codeDirectory('default-off', 'a');
      daemon.daemon.service.createFunction({ FunctionName: 'on', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: on } });
      daemon.daemon.service.createFunction({ FunctionName: 'off', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: off }, Watch: false });
      writeFileSync(join(on, 'index.js'), handler('b'));
      writeFileSync(join(off, 'index.js'), handler('b'));
      const run = async (name: string): Promise<unknown> => json((await daemon.daemon.service.invoke({ functionName: name, payload: event({}) })).payload);
      const deadline = Date.now() + 1000;
      while ((await run('on')) !== 'b' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await run('on')).toBe('b');
      expect(await run('off')).toBe('a');
    } finally {
      await daemon.stop();
    }
  });
});
