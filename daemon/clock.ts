import { randomBytes, randomUUID } from 'node:crypto';

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

export const randomIds: Ids = Object.freeze({
  uuid: () => randomUUID(),
  hex: (bytes: number) => randomBytes(bytes).toString('hex'),
});
