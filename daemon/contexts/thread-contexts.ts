/**
 * `thread` isolation: each execution context a worker thread of the daemon's own process, with a directory of
 * its own under the work directory as its TMPDIR. Fastest, and no boundary at all: for trusted code.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Ids } from '../clock.js';
import { ThreadContext } from './execution-context.js';
import type { ContextFactory } from './index.js';
import { resetDirectory } from './scratch.js';

export function threadContexts(workDirectory: string, ids: Ids): ContextFactory {
  // Directories of contexts that died with an earlier daemon process.
  resetDirectory(workDirectory);
  return {
    start(shape, _versionKey, onDeath) {
      const tmpDirectory = join(workDirectory, ids.hex(8));
      mkdirSync(tmpDirectory, { recursive: true });
      return new ThreadContext({ shape, tmpDirectory, onDeath });
    },
    servesVersion: () => false,
    close: () => Promise.resolve(),
  };
}
