/** The log store on its own: time-window queries, and logs written by an earlier layout carried over. */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogStore } from '../../dist/daemon/observability/log-store.js';

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lambdad-logs-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('LogStore', () => {
  it('answers a time window and a limit event by event, across invocations and streams', () => {
    const store = new LogStore(dataDir(), 1 << 20);
    store.append('/aws/lambda/f', 'stream-a', [
      { timestamp: 100, message: 'a1' },
      { timestamp: 200, message: 'a2' },
    ]);
    store.append('/aws/lambda/f', 'stream-b', [{ timestamp: 300, message: 'b1' }]);
    store.append('/aws/lambda/g', 'stream-c', [{ timestamp: 150, message: 'other function' }]);
    expect(store.query({ logGroupName: '/aws/lambda/f', startTime: 150, endTime: 300 }).map((event) => event.message)).toEqual(['a2']);
    expect(store.query({ logGroupName: '/aws/lambda/f', logStreamName: 'stream-b' }).map((event) => event.message)).toEqual(['b1']);
    expect(store.query({ logGroupName: '/aws/lambda/f', limit: 2 }).map((event) => event.message)).toEqual(['a1', 'a2']);
    store.close();
  });

  it('carries over logs kept one row per event by an earlier version', () => {
    const dir = dataDir();
    const legacy = new Database(join(dir, 'logs.db'));
    legacy.exec(`CREATE TABLE log_events (id INTEGER PRIMARY KEY AUTOINCREMENT, log_group TEXT NOT NULL, log_stream TEXT NOT NULL,
      timestamp INTEGER NOT NULL, ingestion_time INTEGER NOT NULL, message TEXT NOT NULL, bytes INTEGER NOT NULL)`);
    legacy.prepare('INSERT INTO log_events (log_group, log_stream, timestamp, ingestion_time, message, bytes) VALUES (?, ?, ?, ?, ?, ?)').run('/aws/lambda/f', 's', 42, 43, 'kept', 30);
    legacy.close();
    const store = new LogStore(dir, 1 << 20);
    expect(store.query({ logGroupName: '/aws/lambda/f' })).toEqual([{ logStreamName: 's', timestamp: 42, ingestionTime: 43, message: 'kept' }]);
    store.close();
  });
});
