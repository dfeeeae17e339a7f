/** The shared log ring a worker writes and the daemon reads: order, init split, Unicode, overflow. */
import { describe, expect, it } from 'vitest';
import { Journal } from '../../dist/daemon/contexts/journal.js';

describe('Journal', () => {
  it('returns records in order, init output apart from the invocation\'s, and starts empty again', () => {
    const ring = Journal.create(4096);
    ring.write(1, 'loading');
    ring.markInvocationStart();
    ring.write(2, 'héllo wörld ✓');
    ring.write(3, 'second');
    expect(ring.drain()).toEqual({
      initLogs: [{ timestamp: 1, message: 'loading' }],
      logs: [
        { timestamp: 2, message: 'héllo wörld ✓' },
        { timestamp: 3, message: 'second' },
      ],
      dropped: 0,
      peakMemoryBytes: 0,
    });
    expect(ring.drain()).toEqual({ initLogs: [], logs: [], dropped: 0, peakMemoryBytes: 0 });
  });

  it('is readable through a second view of the same memory, as the other thread has it', () => {
    const writer = Journal.create(1024);
    const reader = new Journal(writer.buffer);
    writer.markInvocationStart();
    writer.write(7, 'across threads');
    expect(reader.drain().logs).toEqual([{ timestamp: 7, message: 'across threads' }]);
  });

  it('counts the records that no longer fit instead of overwriting earlier ones', () => {
    const ring = Journal.create(64);
    ring.write(1, 'a'.repeat(30));
    ring.write(2, 'b'.repeat(30));
    ring.write(3, 'c');
    const drained = ring.drain();
    expect(drained.logs.map((record) => record.message)).toEqual(['a'.repeat(30)]);
    expect(drained.dropped).toBe(2);
  });
});
