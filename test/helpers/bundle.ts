/**
 * A function package with its dependencies bundled in (esbuild), as one is deployed to Lambda: a sandboxed
 * runner sees only the package, so a handler cannot borrow the repository's node_modules.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

/** Bundles `entry` into `index.js` (CommonJS) of a new temporary directory; returns the directory. */
export async function bundleFunction(entry: string): Promise<string> {
  const directory = mkdtempSync(join(tmpdir(), 'lambdad-bundle-'));
  await build({ entryPoints: [entry], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: join(directory, 'index.js'), logLevel: 'error' });
  return directory;
}
