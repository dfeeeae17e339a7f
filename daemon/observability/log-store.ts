/**
 * Function logs, as CloudWatch Logs keeps them: log group `/aws/lambda/<name>`, one stream per execution
 * context, events with a timestamp. Persisted in their own SQLite file, written in batches off the invoke
 * path, and bounded per log group: past the byte budget the oldest events go first.
 */
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
}

interface PendingBatch {
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly events: readonly LogEvent[];
}

const FLUSH_DELAY_MS = 50;
/** Trim a group to this share of its budget, so trimming is not needed on every flush. */
const TRIM_TO = 0.9;

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
    this.#db.exec(`CREATE TABLE IF NOT EXISTS log_events (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      log_group TEXT NOT NULL,
      log_stream TEXT NOT NULL,
      timestamp INTEGER NOT NULL,
      ingestion_time INTEGER NOT NULL,
      message TEXT NOT NULL,
      bytes INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS log_events_by_group ON log_events (log_group, id);`);
    for (const row of this.#db.prepare('SELECT log_group AS g, SUM(bytes) AS b FROM log_events GROUP BY log_group').all() as { g: string; b: number }[]) {
      this.#groupBytes.set(row.g, row.b);
    }
    this.#insert = this.#db.prepare('INSERT INTO log_events (log_group, log_stream, timestamp, ingestion_time, message, bytes) VALUES (?, ?, ?, ?, ?, ?)');
    this.#oldest = this.#db.prepare('SELECT id, bytes FROM log_events WHERE log_group = ? ORDER BY id LIMIT 500');
    this.#deleteUpTo = this.#db.prepare('DELETE FROM log_events WHERE log_group = ? AND id <= ?');
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
      for (const batch of batches) {
        let added = 0;
        for (const event of batch.events) {
          const bytes = Buffer.byteLength(event.message) + 26; // CloudWatch counts 26 bytes of overhead per event
          this.#insert.run(batch.logGroupName, batch.logStreamName, event.timestamp, now, event.message, bytes);
          added += bytes;
        }
        this.#groupBytes.set(batch.logGroupName, (this.#groupBytes.get(batch.logGroupName) ?? 0) + added);
        touched.add(batch.logGroupName);
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
    if (query.startTime !== undefined) clauses.push('timestamp >= @start');
    if (query.endTime !== undefined) clauses.push('timestamp < @end');
    const rows = this.#db
      .prepare(`SELECT log_stream, timestamp, ingestion_time, message FROM log_events WHERE ${clauses.join(' AND ')} ORDER BY id LIMIT @limit`)
      .all({ group: query.logGroupName, stream: query.logStreamName, start: query.startTime, end: query.endTime, limit: query.limit ?? 10_000 }) as {
      log_stream: string;
      timestamp: number;
      ingestion_time: number;
      message: string;
    }[];
    return rows.map((row) => ({ logStreamName: row.log_stream, timestamp: row.timestamp, ingestionTime: row.ingestion_time, message: row.message }));
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
