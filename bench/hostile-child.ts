/**
 * The hostile-client benchmark's processes (the normal client, each attacker) run apart from the benchmark's own
 * process, so neither the attack nor the sampling shares an event loop with the latency measured. Each is forked
 * with its settings as JSON in argv[2], says `ready` when it is, runs until told to stop, then answers with its
 * figures and exits. A child whose parent is gone exits.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A child's figures: flat numbers, so they go into the report as they are. */
export type Figures = Record<string, number>;

type Message = { ready: true } | { figures: Figures };

export interface Child {
  readonly pid: number;
  /** Asks for the figures; kills the child if they have not come within `timeoutMs` (null then). */
  stop(timeoutMs: number): Promise<Figures | null>;
  /** SIGKILL, for cleaning up after a failure. */
  kill(): void;
}

/** Forks bench/<file> with `settings`; resolves once it says it is ready. */
export function startChild(file: string, settings: unknown, readyTimeoutMs: number): Promise<Child> {
  const child: ChildProcess = fork(fileURLToPath(new URL(`./${file}`, import.meta.url)), [JSON.stringify(settings)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const kill = (): void => void child.kill('SIGKILL');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const figures = new Promise<Figures | null>((resolve) => {
    child.on('message', (message: Message) => 'figures' in message && resolve(message.figures));
    void exited.then(() => resolve(null));
  });
  const handle: Child = {
    pid: child.pid!,
    kill,
    stop: async (timeoutMs) => {
      if (child.connected) child.send({ stop: true });
      const timer = setTimeout(kill, timeoutMs);
      const result = await figures;
      await exited;
      clearTimeout(timer);
      return result;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`${file} was not ready within ${readyTimeoutMs} ms`));
    }, readyTimeoutMs);
    child.on('message', (message: Message) => {
      if (!('ready' in message)) return;
      clearTimeout(timer);
      resolve(handle);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${file} exited before it was ready`));
    });
  });
}

/** In a child: its settings, and the hooks to say it is ready and to answer the stop with its figures. */
export function childSide<Settings>(): { settings: Settings; ready(): void; onStop(figures: () => Promise<Figures> | Figures): void } {
  if (process.send === undefined) throw new Error('run by bench/hostile.js, not on its own');
  process.once('disconnect', () => process.exit(1));
  return {
    settings: JSON.parse(process.argv[2]!) as Settings,
    ready: () => process.send!({ ready: true }),
    onStop: (figures) =>
      process.once('message', async () => {
        const result = await figures();
        process.send!({ figures: result }, () => process.exit(0));
      }),
  };
}
