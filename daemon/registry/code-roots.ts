/**
 * Where `Code.Directory` may take code from. A directory is a path on the daemon's disk: only a client on the
 * daemon's own machine may name one (to anyone else it would be a way to read that disk), only under the roots
 * the operator allowed (`--code-roots`), and never under the data directory, which holds every function's code
 * and the databases.
 */
import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { LambdaError } from '../errors.js';

const invalid = (message: string): LambdaError => new LambdaError('InvalidParameterValueException', message);

/** The real path when the directory exists (links resolved), so no link can lead out of a root. */
const realOrResolved = (path: string): string => (existsSync(path) ? realpathSync(path) : resolve(path));

function isUnder(root: string, path: string): boolean {
  const inside = relative(root, path);
  return inside === '' || (inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside));
}

export class CodeRoots {
  readonly #roots: readonly string[];
  readonly #dataDir: string;

  constructor(roots: readonly string[], dataDir: string) {
    this.#roots = roots.map(realOrResolved);
    this.#dataDir = realOrResolved(dataDir);
  }

  /** The directory's real path, or InvalidParameterValueException saying why lambdad may not read it. */
  resolve(directory: string, fromLocalClient: boolean): string {
    if (!fromLocalClient) {
      throw invalid('Code.Directory names a directory on the daemon\'s machine and is accepted only from a client on that machine; send the code as a ZipFile.');
    }
    if (!existsSync(directory)) throw invalid(`Code directory not found: ${directory}`);
    const real = realpathSync(directory);
    if (isUnder(this.#dataDir, real)) throw invalid(`Code directory ${directory} is inside lambdad's data directory, which code is never read from.`);
    if (!this.#roots.some((root) => isUnder(root, real))) {
      throw invalid(`Code directory ${directory} is outside the directories lambdad may read code from (--code-roots: ${this.#roots.join(', ')}).`);
    }
    return real;
  }
}
