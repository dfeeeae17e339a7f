/** A function package built in memory: `index.js` holding `source` (a `marker` makes a different CodeSha256). */
import { strToU8, zipSync } from 'fflate';

export function zipOf(source: string, marker = ''): Uint8Array {
  return zipSync({ 'index.js': strToU8(source + marker) }, { mtime: new Date('2020-01-01T00:00:00Z') });
}
