/**
 * lambdad's execution model with nothing in it, for the floors: one single-thread Piscina pool per call in
 * flight, each a thread of its own, reused most recently used first (as lambdad reuses warm contexts), running
 * a no-op. What lambdad pays on top of this is its own work; what this pays on top of one shared Piscina worker
 * is the model's (a thread woken per call, on whichever CPU the kernel left it).
 */
import { Piscina } from 'piscina';

const NOOP_WORKER = new URL('./noop-worker.js', import.meta.url).href;

export class ContextPools {
  /** Idle pools, most recently used last. */
  readonly #idle: Piscina[] = [];
  readonly #all: Piscina[] = [];

  async run(payload: Uint8Array): Promise<Uint8Array> {
    const pool = this.#idle.pop() ?? this.#start();
    try {
      return (await pool.run(payload, { transferList: [payload.buffer as ArrayBuffer] })) as Uint8Array;
    } finally {
      this.#idle.push(pool);
    }
  }

  async destroy(): Promise<void> {
    await Promise.all(this.#all.map((pool) => pool.destroy()));
  }

  #start(): Piscina {
    const pool = new Piscina({ filename: NOOP_WORKER, minThreads: 1, maxThreads: 1, idleTimeout: Infinity, atomics: 'sync', recordTiming: false, env: {} });
    this.#all.push(pool);
    return pool;
  }
}
