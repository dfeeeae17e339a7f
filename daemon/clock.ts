import { randomFillSync, randomUUID } from 'node:crypto';

/** Wall-clock time, injected so time-based rules are testable without sleeping. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** Identifier source, injected for the same reason as the clock. */
export interface Ids {
  uuid(): string;
  /** `bytes` random bytes as lowercase hex. */
  hex(bytes: number): string;
}

/** Random bytes drawn a pool at a time, as randomUUID does: one fill serves hundreds of ids. */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

function randomHex(bytes: number): string {
  if (bytes > POOL_BYTES) return randomFillSync(Buffer.alloc(bytes)).toString('hex');
  if (poolOffset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  poolOffset += bytes;
  return pool.toString('hex', poolOffset - bytes, poolOffset);
}

export const randomIds: Ids = Object.freeze({
  uuid: () => randomUUID(),
  hex: randomHex,
});
