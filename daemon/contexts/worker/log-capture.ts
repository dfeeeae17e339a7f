/**
 * Console and stdout/stderr of user code become log records, formatted as Lambda's Node.js runtime writes
 * them: `<ISO time>\t<request id>\t<LEVEL>\t<message>`, with request id `undefined` while the module loads,
 * as on Lambda. Records go straight to the context's journal, in shared memory.
 */
import { format } from 'node:util';
import type { Journal } from '../journal.js';

const LEVELS = [
  ['log', 'INFO'],
  ['info', 'INFO'],
  ['warn', 'WARN'],
  ['error', 'ERROR'],
  ['debug', 'DEBUG'],
  ['trace', 'TRACE'],
] as const;

export class LogCapture {
  #requestId = 'undefined';
  readonly #emit: (level: string, args: unknown[]) => void;

  constructor(journal: Journal) {
    const emit = (this.#emit = (level: string, args: unknown[]): void => {
      const now = Date.now();
      journal.write(now, `${new Date(now).toISOString()}\t${this.#requestId}\t${level}\t${format(...args)}`);
    });
    const target = console as unknown as Record<string, (...args: unknown[]) => void>;
    for (const [method, level] of LEVELS) target[method] = (...args: unknown[]) => emit(level, args);

    const raw = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      const message = text.endsWith('\n') ? text.slice(0, -1) : text;
      if (message !== '') journal.write(Date.now(), message);
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
      return true;
    };
    process.stdout.write = raw as typeof process.stdout.write;
    process.stderr.write = raw as typeof process.stderr.write;
  }

  /** A record of lambdad's own about the running invocation (a blocked connection), whatever user code did to console. */
  warn(message: string): void {
    this.#emit('WARN', [message]);
  }

  /** Console records from now on carry this request id. */
  setRequestId(requestId: string): void {
    this.#requestId = requestId;
  }
}
