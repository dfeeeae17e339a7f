/** Laying code into a runner's /var/task and /opt: layers merged in order, and never a write through a link. */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { linkTree } from '../../dist/daemon/contexts/runner/link-tree.js';

let work: string;
afterEach(() => rmSync(work, { recursive: true, force: true }));

it('lays layers in order, a later one winning, and keeps a link a layer ships as a link', async () => {
  work = mkdtempSync(join(tmpdir(), 'lambdad-link-'));
  const first = join(work, 'first');
  const second = join(work, 'second');
  mkdirSync(join(first, 'lib'), { recursive: true });
  mkdirSync(join(second, 'lib'), { recursive: true });
  writeFileSync(join(first, 'lib', 'a.txt'), 'first a');
  writeFileSync(join(first, 'lib', 'b.txt'), 'first b');
  writeFileSync(join(second, 'lib', 'b.txt'), 'second b');
  symlinkSync('lib/a.txt', join(second, 'alias'));
  const opt = join(work, 'opt');
  await linkTree(first, opt);
  await linkTree(second, opt);
  expect(readFileSync(join(opt, 'lib', 'a.txt'), 'utf8')).toBe('first a');
  expect(readFileSync(join(opt, 'lib', 'b.txt'), 'utf8')).toBe('second b');
  expect(readlinkSync(join(opt, 'alias'))).toBe('lib/a.txt');
});

it('never writes through a link an earlier layer left where a later one has a directory', async () => {
  work = mkdtempSync(join(tmpdir(), 'lambdad-link-'));
  const outside = join(work, 'outside');
  mkdirSync(outside);
  const first = join(work, 'first');
  const second = join(work, 'second');
  mkdirSync(first);
  mkdirSync(join(second, 'd'), { recursive: true });
  symlinkSync(outside, join(first, 'd'));
  writeFileSync(join(second, 'd', 'planted'), 'x');
  const opt = join(work, 'opt');
  await linkTree(first, opt);
  await linkTree(second, opt);
  expect(existsSync(join(outside, 'planted'))).toBe(false);
  expect(lstatSync(join(opt, 'd')).isDirectory()).toBe(true);
  expect(readFileSync(join(opt, 'd', 'planted'), 'utf8')).toBe('x');
});
