/**
 * Loads the function's handler as Lambda's Node.js runtime does: `dir/file.export.path`, the file one of
 * `.js` (CommonJS or ESM by the nearest package.json), `.mjs`, `.cjs`, relative to the code directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

export type Handler = (event: unknown, context: object, callback: (error?: unknown, result?: unknown) => void) => unknown;

/** A failure of Init, named by Lambda's runtime error types. */
export class InitError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = errorType;
  }
}

function isEsmPackage(directory: string, root: string): boolean {
  for (let current = directory; current.startsWith(root); current = dirname(current)) {
    const manifest = join(current, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string }).type === 'module';
      } catch {
        return false;
      }
    }
    if (current === root) break;
  }
  return false;
}

async function importModule(root: string, modulePath: string): Promise<Record<string, unknown>> {
  const base = resolve(root, modulePath);
  if (!base.startsWith(root + sep) && base !== root) throw new InitError('Runtime.MalformedHandlerName', 'Bad handler');
  const load = (file: string, esm: boolean): Promise<Record<string, unknown>> =>
    esm ? import(pathToFileURL(file).href) : Promise.resolve(createRequire(file)(file) as Record<string, unknown>);

  if (existsSync(`${base}.mjs`)) return load(`${base}.mjs`, true);
  if (existsSync(`${base}.cjs`)) return load(`${base}.cjs`, false);
  if (existsSync(`${base}.js`)) return load(`${base}.js`, isEsmPackage(dirname(base), root));
  // Lambda also resolves a bare module name from the package's node_modules.
  try {
    return createRequire(join(root, 'index.js'))(modulePath) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new InitError('Runtime.ImportModuleError', `Error: Cannot find module '${modulePath}'\nRequire stack:\n- ${root}`, error);
    }
    throw error;
  }
}

export async function loadHandler(codeDirectory: string, handlerString: string): Promise<Handler> {
  const root = resolve(codeDirectory);
  const slash = handlerString.lastIndexOf('/');
  const directory = handlerString.slice(0, slash + 1);
  const [fileName, ...exportPath] = handlerString.slice(slash + 1).split('.');
  if (fileName === undefined || fileName === '' || exportPath.length === 0 || exportPath.includes('')) {
    throw new InitError('Runtime.MalformedHandlerName', 'Bad handler');
  }

  let loaded: Record<string, unknown>;
  try {
    loaded = await importModule(root, directory + fileName);
  } catch (error) {
    if (error instanceof InitError) throw error;
    const cause = error as Error;
    if (cause instanceof SyntaxError) throw new InitError('Runtime.UserCodeSyntaxError', `${cause.name}: ${cause.message}`, cause);
    if ((cause as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' || (cause as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new InitError('Runtime.ImportModuleError', `${cause.name}: ${cause.message}`, cause);
    }
    // Anything else thrown by the module's top-level code is reported as itself, as Lambda does.
    throw cause;
  }

  let value: unknown = loaded;
  for (const key of exportPath) value = value == null ? undefined : (value as Record<string, unknown>)[key];
  // An ESM namespace of a CommonJS module keeps module.exports under `default`.
  if (value === undefined && 'default' in loaded && loaded.default != null) {
    value = exportPath.reduce<unknown>((object, key) => (object == null ? undefined : (object as Record<string, unknown>)[key]), loaded.default);
  }
  const shown = `${fileName}.${exportPath.join('.')}`;
  if (value === undefined) throw new InitError('Runtime.HandlerNotFound', `${shown} is undefined or not exported`);
  if (typeof value !== 'function') throw new InitError('Runtime.HandlerNotFound', `${shown} is not a function`);
  return value as Handler;
}
