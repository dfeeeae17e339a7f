/**
 * Function logs, as CloudWatch Logs keeps them: log group `/aws/lambda/<name>`, one stream per execution
 * context, events with a timestamp. Persisted in their own SQLite file: the events a stream got since the last
 * write are one row (a JSON array), written in transactions every few tens of milliseconds, off the invoke path.
 * Bounded per log group: past the byte budget the oldest events go first.
 */
import type { LogFilter } from './filter-pattern.js';
import Database from 'better-sqlite3';
import { join } from 'node:path';

export interface LogEvent {
  readonly timestamp: number;
  readonly message: string;
}

export interface StoredLogEvent extends LogEvent {
  readonly logStreamName: string;
  readonly ingestionTime: number;
}

export interface LogQuery {
  readonly logGroupName: string;
  readonly logStreamName?: string;
  readonly startTime?: number;
  readonly endTime?: number;
  readonly limit?: number;
  /** Only events whose message matches (a compiled filter pattern). */
  readonly filter?: LogFilter | null;
  /** Only these streams (FilterLogEvents' LogStreamNames). */
  readonly logStreamNames?: readonly string[];
}

interface StreamRow {
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly events: LogEvent[];
  bytes: number;
}

interface PendingBatch {
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly events: readonly LogEvent[];
}

const FLUSH_DELAY_MS = 50;
/** What CloudWatch Logs counts for each event on top of its message. */
const EVENT_OVERHEAD_BYTES = 26;
/** Trim a group to this share of its budget, so trimming is not needed on every flush. */
const TRIM_TO = 0.9;
/** A row holds at most this share of a group's budget. */
const ROW_SHARE = 1 / 16;

export class LogStore {
  readonly #db: Database.Database;
  readonly #bytesPerGroup: number;
  readonly #groupBytes = new Map<string, number>();
  #pending: PendingBatch[] = [];
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #subscribers = new Map<string, Set<(event: StoredLogEvent) => void>>();
  readonly #insert: Database.Statement;
  readonly #oldest: Database.Statement;
  readonly #deleteUpTo: Database.Statement;

  constructor(dataDir: string, bytesPerGroup: number) {
    this.#bytesPerGroup = bytesPerGroup;
    this.#db = new Database(join(dataDir, 'logs.db'));
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS log_batches (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      log_group TEXT NOT NULL,
      log_stream TEXT NOT NULL,
      first_timestamp INTEGER NOT NULL,
      last_timestamp INTEGER NOT NULL,
      ingestion_time INTEGER NOT NULL,
      events TEXT NOT NULL,
      bytes INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS log_batches_by_group ON log_batches (log_group, id);`);
    this.#migrateEventRows();
    for (const row of this.#db.prepare('SELECT log_group AS g, SUM(bytes) AS b FROM log_batches GROUP BY log_group').all() as { g: string; b: number }[]) {
      this.#groupBytes.set(row.g, row.b);
    }
    this.#insert = this.#db.prepare(
      'INSERT INTO log_batches (log_group, log_stream, first_timestamp, last_timestamp, ingestion_time, events, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#oldest = this.#db.prepare('SELECT id, bytes FROM log_batches WHERE log_group = ? ORDER BY id LIMIT 500');
    this.#deleteUpTo = this.#db.prepare('DELETE FROM log_batches WHERE log_group = ? AND id <= ?');
  }

  /** Data directories written before events were kept per invocation have a row per event: move them over. */
  #migrateEventRows(): void {
    const legacy = this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'log_events'").get();
    if (legacy === undefined) return;
    this.#db.transaction(() => {
      this.#db.exec(`INSERT INTO log_batches (log_group, log_stream, first_timestamp, last_timestamp, ingestion_time, events, bytes)
        SELECT log_group, log_stream, timestamp, timestamp, ingestion_time, json_array(json_array(timestamp, message)), bytes FROM log_events ORDER BY id;
        DROP TABLE log_events;`);
    })();
  }

  /**
   * Queues events for writing; they are durable within a few tens of milliseconds. After close() — an
   * invocation cut off at the end of a shutdown's grace period — there is nowhere to write them.
   */
  append(logGroupName: string, logStreamName: string, events: readonly LogEvent[]): void {
    if (this.#closed) return;
    this.#pending.push({ logGroupName, logStreamName, events });
    const subscribers = this.#subscribers.get(logGroupName);
    if (subscribers !== undefined) {
      const now = Date.now();
      for (const event of events) for (const subscriber of subscribers) subscriber({ ...event, logStreamName, ingestionTime: now });
    }
    this.#timer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS).unref();
  }

  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const batches = this.#pending;
    if (batches.length === 0) return;
    this.#pending = [];
    const now = Date.now();
    const touched = new Set<string>();
    this.#db.transaction(() => {
      for (const row of byStream(batches, this.#bytesPerGroup * ROW_SHARE)) {
        let first = Infinity;
        let last = -Infinity;
        const events: [number, string][] = [];
        for (const event of row.events) {
          first = Math.min(first, event.timestamp);
          last = Math.max(last, event.timestamp);
          events.push([event.timestamp, event.message]);
        }
        this.#insert.run(row.logGroupName, row.logStreamName, first, last, now, JSON.stringify(events), row.bytes);
        this.#groupBytes.set(row.logGroupName, (this.#groupBytes.get(row.logGroupName) ?? 0) + row.bytes);
        touched.add(row.logGroupName);
      }
      for (const group of touched) this.#trim(group);
    })();
  }

  /** Calls `subscriber` with every event appended to the group from now on; returns the unsubscribe. */
  subscribe(logGroupName: string, subscriber: (event: StoredLogEvent) => void): () => void {
    let subscribers = this.#subscribers.get(logGroupName);
    if (subscribers === undefined) this.#subscribers.set(logGroupName, (subscribers = new Set()));
    subscribers.add(subscriber);
    return () => {
      subscribers.delete(subscriber);
      if (subscribers.size === 0) this.#subscribers.delete(logGroupName);
    };
  }

  query(query: LogQuery): StoredLogEvent[] {
    this.flush();
    const clauses = ['log_group = @group'];
    if (query.logStreamName !== undefined) clauses.push('log_stream = @stream');
    if (query.startTime !== undefined) clauses.push('last_timestamp >= @start');
    if (query.endTime !== undefined) clauses.push('first_timestamp < @end');
    const rows = this.#db
      .prepare(`SELECT log_stream, ingestion_time, events FROM log_batches WHERE ${clauses.join(' AND ')} ORDER BY id`)
      .iterate({ group: query.logGroupName, stream: query.logStreamName, start: query.startTime, end: query.endTime }) as IterableIterator<{
      log_stream: string;
      ingestion_time: number;
      events: string;
    }>;
    const limit = query.limit ?? 10_000;
    const found: StoredLogEvent[] = [];
    for (const row of rows) {
      for (const [timestamp, message] of JSON.parse(row.events) as [number, string][]) {
        if ((query.startTime !== undefined && timestamp < query.startTime) || (query.endTime !== undefined && timestamp >= query.endTime)) continue;
        if (query.filter != null && !query.filter(message)) continue;
        if (query.logStreamNames !== undefined && !query.logStreamNames.includes(row.log_stream)) continue;
        found.push({ logStreamName: row.log_stream, timestamp, ingestionTime: row.ingestion_time, message });
        if (found.length >= limit) {
          rows.return?.();
          return found;
        }
      }
    }
    return found;
  }

  close(): void {
    this.flush();
    this.#closed = true;
    this.#db.close();
  }

  #trim(group: string): void {
    let total = this.#groupBytes.get(group) ?? 0;
    if (total <= this.#bytesPerGroup) return;
    const target = this.#bytesPerGroup * TRIM_TO;
    while (total > target) {
      const rows = this.#oldest.all(group) as { id: number; bytes: number }[];
      if (rows.length === 0) break;
      let lastId = 0;
      for (const row of rows) {
        total -= row.bytes;
        lastId = row.id;
        if (total <= target) break;
      }
      this.#deleteUpTo.run(group, lastId);
    }
    this.#groupBytes.set(group, Math.max(0, total));
  }
}

/**
 * A flush's events as one row per log stream, in the order they were appended (a row per invocation made the
 * inserts most of a flush's cost), an invocation's events never split. A row stays under `maxRowBytes`, so
 * that trimming, a row at a time, keeps close to the budget.
 */
function byStream(batches: readonly PendingBatch[], maxRowBytes: number): StreamRow[] {
  const rows: StreamRow[] = [];
  const open = new Map<string, StreamRow>();
  for (const batch of batches) {
    if (batch.events.length === 0) continue;
    let bytes = 0;
    for (const event of batch.events) bytes += Buffer.byteLength(event.message) + EVENT_OVERHEAD_BYTES;
    const key = `${batch.logGroupName}\n${batch.logStreamName}`;
    let row = open.get(key);
    if (row === undefined || row.bytes + bytes > maxRowBytes) {
      row = { logGroupName: batch.logGroupName, logStreamName: batch.logStreamName, events: [], bytes: 0 };
      rows.push(row);
      open.set(key, row);
    }
    row.events.push(...batch.events);
    row.bytes += bytes;
  }
  return rows;
}
