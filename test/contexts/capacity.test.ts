/** The host's capacity for execution contexts: the default cap from memory, and when pressure begins. */
import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { availableMemoryBytes, CONTEXT_COST_BYTES, CONTEXTS_FLOOR, contextsForHost, hostFull, pressureOf, versionMaxOf } from '../../dist/daemon/contexts/capacity.js';

const GIB = 1024 ** 3;

describe('contextsForHost', () => {
  it('gives contexts half the available memory at their measured cost', () => {
    expect(contextsForHost({ availableBytes: 4 * GIB, isolation: 'thread', accountConcurrency: 1000 })).toBe(Math.floor((2 * GIB) / CONTEXT_COST_BYTES.thread));
    expect(contextsForHost({ availableBytes: 4 * GIB, isolation: 'process', accountConcurrency: 1000 })).toBe(Math.floor((2 * GIB) / CONTEXT_COST_BYTES.process));
    // A sandboxed context costs more than a thread: fewer fit.
    expect(contextsForHost({ availableBytes: 4 * GIB, isolation: 'process', accountConcurrency: 1000 })).toBeLessThan(contextsForHost({ availableBytes: 4 * GIB, isolation: 'thread', accountConcurrency: 1000 }));
  });

  it('follows the memory figure: more memory, more contexts, never fewer', () => {
    let previous = 0;
    for (let gib = 0.25; gib <= 64; gib *= 2) {
      const contexts = contextsForHost({ availableBytes: gib * GIB, isolation: 'thread', accountConcurrency: 100_000 });
      expect(contexts).toBeGreaterThanOrEqual(previous);
      previous = contexts;
    }
    expect(contextsForHost({ availableBytes: 20 * GIB, isolation: 'thread', accountConcurrency: 100_000 })).toBe(2 * contextsForHost({ availableBytes: 10 * GIB, isolation: 'thread', accountConcurrency: 100_000 }));
  });

  it('stays between a small floor and the account concurrency', () => {
    expect(contextsForHost({ availableBytes: 0, isolation: 'process', accountConcurrency: 1000 })).toBe(CONTEXTS_FLOOR);
    expect(contextsForHost({ availableBytes: 64 * GIB, isolation: 'thread', accountConcurrency: 1000 })).toBe(1000);
    // An account limit below the floor wins: more contexts than that would never be busy at once.
    expect(contextsForHost({ availableBytes: 0, isolation: 'thread', accountConcurrency: 3 })).toBe(3);
  });
});

describe('availableMemoryBytes', () => {
  it('reads a figure between nothing and the machine\'s memory', () => {
    const available = availableMemoryBytes();
    expect(available).toBeGreaterThan(0);
    expect(available).toBeLessThanOrEqual(totalmem());
  });
});

describe('pressureOf', () => {
  it('puts the floor at half the cap and keeps idle contexts above it a twentieth of the keep-warm period, at most 30 s', () => {
    expect(pressureOf(4, 40_000)).toEqual({ floor: 2, idleMs: 2000 });
    expect(pressureOf(1000, 600_000)).toEqual({ floor: 500, idleMs: 30_000 });
    expect(pressureOf(5, 86_400_000)).toEqual({ floor: 3, idleMs: 30_000 });
    expect(pressureOf(1, 1000)).toEqual({ floor: 1, idleMs: 50 });
  });
});

describe('versionMaxOf', () => {
  it('keeps a tenth of a host-bound cap from any one version, and none of an account-bound one', () => {
    expect(versionMaxOf(480, 1000)).toBe(432);
    expect(versionMaxOf(10, 1000)).toBe(9);
    expect(versionMaxOf(4, 1000)).toBe(4);
    expect(versionMaxOf(1000, 1000)).toBe(1000);
  });
});

describe('hostFull', () => {
  it('is the throttle of the other limits, with its own reason', () => {
    const error = hostFull();
    expect(error).toMatchObject({ code: 'TooManyRequestsException', message: 'Rate Exceeded.', details: { Reason: 'HostCapacityExceeded' } });
    expect(error.row.status).toBe(429);
  });
});
