/**
 * Hot reload: watches the directories that functions' $LATEST code follows (fs.watch, recursive) and, once
 * changes settle (DEBOUNCE_MS without another), reloads that function. A reload that fails — a file being
 * written, a directory briefly gone — is tried again RETRY_MS later, up to MAX_RETRIES times, so an editor's
 * save never leaves the function on broken code for long; the next change starts over anyway.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { DaemonLog } from './observability/daemon-log.js';

const DEBOUNCE_MS = 100;
const RETRY_MS = 500;
const MAX_RETRIES = 10;

interface Watch {
  readonly directory: string;
  readonly watcher: FSWatcher;
  timer: NodeJS.Timeout | null;
  retries: number;
}

export class CodeWatcher {
  readonly #watches = new Map<string, Watch>();
  /** Reloads a function from its directory; throws when it cannot (then it is tried again). */
  readonly #reload: (functionName: string) => void;
  readonly #log: DaemonLog;

  constructor(reload: (functionName: string) => void, log: DaemonLog) {
    this.#reload = reload;
    this.#log = log;
  }

  /** Watches exactly these functions' directories: new ones start (and reload once), others stop. */
  sync(watched: readonly { name: string; directory: string }[]): void {
    const wanted = new Map(watched.map(({ name, directory }) => [name, directory]));
    for (const [name, current] of this.#watches) {
      if (wanted.get(name) !== current.directory) this.#stop(name);
    }
    for (const [name, directory] of wanted) {
      if (!this.#watches.has(name)) this.#start(name, directory);
    }
  }

  close(): void {
    for (const name of [...this.#watches.keys()]) this.#stop(name);
  }

  #start(name: string, directory: string): void {
    let watcher: FSWatcher;
    try {
      watcher = watch(directory, { recursive: true, persistent: false }, () => this.#schedule(name, DEBOUNCE_MS, 0));
    } catch (error) {
      this.#log('watch-failed', { function: name, directory, error: (error as Error).message });
      return;
    }
    watcher.on('error', (error) => {
      this.#log('watch-failed', { function: name, directory, error: error.message });
      this.#stop(name);
    });
    this.#watches.set(name, { directory, watcher, timer: null, retries: 0 });
    // The directory may have changed while nobody watched it (the daemon was stopped).
    this.#schedule(name, 0, 0);
  }

  #stop(name: string): void {
    const current = this.#watches.get(name);
    if (current === undefined) return;
    if (current.timer !== null) clearTimeout(current.timer);
    current.watcher.close();
    this.#watches.delete(name);
  }

  #schedule(name: string, delayMs: number, retries: number): void {
    const current = this.#watches.get(name);
    if (current === undefined) return;
    if (current.timer !== null) clearTimeout(current.timer);
    current.retries = retries;
    current.timer = setTimeout(() => {
      current.timer = null;
      try {
        this.#reload(name);
      } catch (error) {
        this.#log('reload-failed', { function: name, error: (error as Error).message, retry: current.retries + 1 });
        if (current.retries < MAX_RETRIES) this.#schedule(name, RETRY_MS, current.retries + 1);
      }
    }, delayMs);
    current.timer.unref();
  }
}
