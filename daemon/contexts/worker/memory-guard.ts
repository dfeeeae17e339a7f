/**
 * Enforces MemorySize on the memory V8's heap limit does not see: Buffers and ArrayBuffers. The heap itself is
 * bounded by the worker's resourceLimits; this guard measures heap + external memory of this isolate
 * (v8.getHeapStatistics, ~1 µs) at every large allocation the function makes, on a timer while an invocation
 * runs (every 10 ms, backing off to once a second while memory does not grow, so a thousand contexts awaiting
 * I/O do not keep two cores busy sampling), and at its end. Over the limit, the invocation fails as Runtime.OutOfMemory and the context is discarded.
 */
import { getHeapStatistics } from 'node:v8';

/** Allocations smaller than this are only summed; measuring costs more than they could matter. */
const MEASURE_EVERY_BYTES = 1024 * 1024;
const SAMPLE_MIN_MS = 10;
const SAMPLE_MAX_MS = 1_000;

export class OutOfMemoryError extends Error {
  override readonly name = 'Runtime.OutOfMemory';
}

export class MemoryGuard {
  readonly #limitBytes: number;
  #unmeasuredBytes = 0;
  #peakBytes = 0;
  #exceeded = false;
  readonly #onExceeded: () => void;
  readonly #onPeak: (bytes: number) => void;
  #sampleDelayMs = SAMPLE_MIN_MS;
  /** What the last measurement found in use; null before the first. */
  #lastUsedBytes: number | null = null;

  /**
   * `onExceeded` runs when a sample, rather than an allocation, finds the limit crossed; `onPeak` with each
   * new peak.
   */
  constructor(limitBytes: number, onExceeded: () => void, onPeak: (bytes: number) => void) {
    this.#limitBytes = limitBytes;
    this.#onExceeded = onExceeded;
    this.#onPeak = onPeak;
    this.#install();
    // One sampler for the context's life: it only runs while an invocation does (the thread is frozen between).
    this.#sample();
  }

  #sample(): void {
    setTimeout(() => {
      const before = this.#peakBytes;
      this.#measure();
      if (this.#exceeded) this.#onExceeded();
      this.#sampleDelayMs = this.#peakBytes > before ? SAMPLE_MIN_MS : Math.min(SAMPLE_MAX_MS, this.#sampleDelayMs * 2);
      this.#sample();
    }, this.#sampleDelayMs).unref();
  }

  get exceeded(): boolean {
    return this.#exceeded;
  }

  /**
   * Starts a peak measurement for one invocation (an init counts towards the first one). Between invocations
   * nothing runs, so the last measurement stands for the start: the peak is known (and readable should the
   * thread be killed) without measuring again.
   */
  begin(includePreviousPeak: boolean): void {
    this.#sampleDelayMs = SAMPLE_MIN_MS;
    if (this.#lastUsedBytes === null) {
      this.#peakBytes = 0;
      this.#measure();
      return;
    }
    if (!includePreviousPeak) this.#peakBytes = this.#lastUsedBytes;
    this.#onPeak(this.#peakBytes);
  }

  /** Returns the peak of this invocation. */
  end(): number {
    this.#measure();
    return this.#peakBytes;
  }

  #measure(): void {
    const stats = getHeapStatistics();
    const used = stats.used_heap_size + stats.external_memory;
    this.#lastUsedBytes = used;
    if (used > this.#peakBytes) {
      this.#peakBytes = used;
      this.#onPeak(used);
    }
    this.#unmeasuredBytes = 0;
    if (used > this.#limitBytes) this.#exceeded = true;
  }

  #account(bytes: number): void {
    this.#unmeasuredBytes += bytes;
    if (this.#unmeasuredBytes < MEASURE_EVERY_BYTES) return;
    this.#measure();
    if (this.#exceeded) {
      throw new OutOfMemoryError(`Function exceeded its memory limit of ${Math.round(this.#limitBytes / 1048576)} MB`);
    }
  }

  /** Wraps the allocation entry points user code reaches: Buffer's factories, ArrayBuffer and typed arrays. */
  #install(): void {
    const account = (bytes: number): void => this.#account(bytes);
    const sized = <T extends (size: number, ...rest: never[]) => Buffer>(original: T): T =>
      function (this: unknown, size: number, ...rest: never[]) {
        const buffer = original.call(this, size, ...rest);
        account(buffer.byteLength);
        return buffer;
      } as T;
    Buffer.alloc = sized(Buffer.alloc);
    Buffer.allocUnsafe = sized(Buffer.allocUnsafe);
    Buffer.allocUnsafeSlow = sized(Buffer.allocUnsafeSlow);
    const originalFrom = Buffer.from;
    Buffer.from = function (this: unknown, ...args: unknown[]) {
      const buffer = (originalFrom as (...a: unknown[]) => Buffer).apply(this, args);
      // A view over an ArrayBuffer allocates nothing; a copy of a string, an array or a buffer does.
      if (!(args[0] instanceof ArrayBuffer) && !(args[0] instanceof SharedArrayBuffer)) account(buffer.byteLength);
      return buffer;
    } as typeof Buffer.from;
    const originalConcat = Buffer.concat;
    Buffer.concat = function (list: readonly Uint8Array[], totalLength?: number) {
      const buffer = originalConcat.call(this, list, totalLength);
      account(buffer.byteLength);
      return buffer;
    };

    const constructors = [
      'ArrayBuffer', 'SharedArrayBuffer', 'Uint8Array', 'Uint8ClampedArray', 'Int8Array', 'Uint16Array',
      'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
    ] as const;
    const globals = globalThis as unknown as Record<string, unknown>;
    for (const name of constructors) {
      const original = globals[name] as (new (...args: unknown[]) => { byteLength: number }) & { BYTES_PER_ELEMENT?: number };
      const elementBytes = original.BYTES_PER_ELEMENT ?? 1;
      globals[name] = new Proxy(original, {
        construct(target, args, newTarget) {
          const created = Reflect.construct(target, args, newTarget);
          // Only a length allocates; a view over an existing buffer does not.
          if (typeof args[0] === 'number') account(args[0] * elementBytes);
          return created;
        },
      });
    }
  }
}
