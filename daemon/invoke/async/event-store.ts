/**
 * Asynchronous invocation's durable state in SQLite (`<dataDir>/events.db`): the events accepted with 202 and
 * not yet finished, and the functions' event-invoke configs. An event is written (committed) before its 202
 * is sent; it leaves the store only once its outcome has been delivered. WAL, synchronous NORMAL: a committed
 * write survives the process being killed.
 */
import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { openStore } from '../../sqlite.js';

/** Where an event is in its life. Finished events are deleted, not kept in a state. */
export enum EventState {
  /** Waiting for `dueAt`: a first attempt, a retry after a function error, or after a throttle. */
  Queued = 'queued',
  /** Taken by the dispatcher. Found in this state at start, the daemon died during it: it runs again. */
  Running = 'running',
}

export interface EventRecord {
  /** The request id: the same for every attempt (the handler's awsRequestId). */
  readonly id: string;
  readonly functionName: string;
  /** The qualifier the caller named (version or alias), or null for unqualified. */
  readonly qualifier: string | null;
  readonly payload: Uint8Array;
  readonly state: EventState;
  /** Attempts that ran the function (not throttles). */
  readonly attempts: number;
  /** Throttles in a row, for the backoff. */
  readonly throttles: number;
  readonly enqueuedAt: number;
  readonly dueAt: number;
}

export interface EventInvokeConfigRecord {
  readonly functionName: string;
  /** `$LATEST`, a version number or an alias name. */
  readonly qualifier: string;
  readonly maximumRetryAttempts: number | null;
  readonly maximumEventAgeInSeconds: number | null;
  readonly onSuccess: string | null;
  readonly onFailure: string | null;
  readonly lastModified: number;
}

const SCHEMA_VERSION = 1;
const SCHEMA = `
  CREATE TABLE events (
    id TEXT PRIMARY KEY,
    function_name TEXT NOT NULL,
    qualifier TEXT,
    payload BLOB NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    throttles INTEGER NOT NULL,
    enqueued_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX events_due ON events (state, due_at);
  CREATE TABLE event_invoke_configs (
    function_name TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    maximum_retry_attempts INTEGER,
    maximum_event_age_seconds INTEGER,
    on_success TEXT,
    on_failure TEXT,
    last_modified INTEGER NOT NULL,
    PRIMARY KEY (function_name, qualifier)
  ) STRICT;
`;

const EVENT_COLUMNS = `id, function_name AS functionName, qualifier, payload, state, attempts, throttles, enqueued_at AS enqueuedAt, due_at AS dueAt`;
const CONFIG_COLUMNS = `function_name AS functionName, qualifier, maximum_retry_attempts AS maximumRetryAttempts,
  maximum_event_age_seconds AS maximumEventAgeInSeconds, on_success AS onSuccess, on_failure AS onFailure, last_modified AS lastModified`;

export class EventStore {
  readonly #db: Database.Database;
  readonly #statements: ReturnType<typeof prepare>;

  constructor(dataDir: string) {
    this.#db = openStore(join(dataDir, 'events.db'), { name: 'events', sql: SCHEMA, version: SCHEMA_VERSION });
    this.#statements = prepare(this.#db);
  }

  close(): void {
    this.#db.close();
  }

  insert(event: EventRecord): void {
    this.#statements.insert.run(event.id, event.functionName, event.qualifier, event.payload, event.state, event.attempts, event.throttles, event.enqueuedAt, event.dueAt);
  }

  /** Queued events due by `now`, oldest first, marked Running in the same transaction. */
  take(now: number, limit: number): EventRecord[] {
    return this.#db.transaction(() => {
      const due = this.#statements.due.all(EventState.Queued, now, limit) as EventRecord[];
      for (const event of due) this.#statements.setState.run(EventState.Running, event.id);
      return due.map((event) => ({ ...event, state: EventState.Running }));
    })();
  }

  /** Back to the queue, due at `dueAt`, with its counters. */
  requeue(id: string, attempts: number, throttles: number, dueAt: number): void {
    this.#statements.requeue.run(EventState.Queued, attempts, throttles, dueAt, id);
  }

  /** Runs `deliver` (more writes to this store, e.g. an event for a destination function) and deletes the event, atomically. */
  finish(id: string, deliver: () => void = () => undefined): void {
    this.#db.transaction(() => {
      deliver();
      this.#statements.remove.run(id);
    })();
  }

  /** Events a dead daemon left Running go back to the queue: at least once. Returns how many. */
  recover(now: number): number {
    return this.#statements.recover.run(EventState.Queued, now, EventState.Running).changes;
  }

  /** When the next queued event is due, or null with none queued. */
  nextDueAt(): number | null {
    return (this.#statements.nextDue.get(EventState.Queued) as { at: number | null }).at;
  }

  putConfig(config: EventInvokeConfigRecord): void {
    this.#statements.putConfig.run(config.functionName, config.qualifier, config.maximumRetryAttempts, config.maximumEventAgeInSeconds, config.onSuccess, config.onFailure, config.lastModified);
  }

  config(functionName: string, qualifier: string): EventInvokeConfigRecord | undefined {
    return this.#statements.config.get(functionName, qualifier) as EventInvokeConfigRecord | undefined;
  }

  configs(functionName: string, afterQualifier: string, limit: number): EventInvokeConfigRecord[] {
    return this.#statements.configs.all(functionName, afterQualifier, limit) as EventInvokeConfigRecord[];
  }

  deleteConfig(functionName: string, qualifier: string): boolean {
    return this.#statements.deleteConfig.run(functionName, qualifier).changes > 0;
  }

  /** A deleted function's configs (and of one version or alias, with `qualifier`). */
  forgetFunction(functionName: string, qualifier?: string): void {
    if (qualifier === undefined) this.#statements.deleteConfigs.run(functionName);
    else this.#statements.deleteConfig.run(functionName, qualifier);
  }
}

function prepare(db: Database.Database) {
  return {
    insert: db.prepare('INSERT INTO events (id, function_name, qualifier, payload, state, attempts, throttles, enqueued_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    due: db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE state = ? AND due_at <= ? ORDER BY due_at, enqueued_at LIMIT ?`),
    setState: db.prepare('UPDATE events SET state = ? WHERE id = ?'),
    requeue: db.prepare('UPDATE events SET state = ?, attempts = ?, throttles = ?, due_at = ? WHERE id = ?'),
    remove: db.prepare('DELETE FROM events WHERE id = ?'),
    recover: db.prepare('UPDATE events SET state = ?, due_at = ? WHERE state = ?'),
    nextDue: db.prepare('SELECT MIN(due_at) AS at FROM events WHERE state = ?'),
    putConfig: db.prepare(`INSERT OR REPLACE INTO event_invoke_configs (function_name, qualifier, maximum_retry_attempts, maximum_event_age_seconds, on_success, on_failure, last_modified)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    config: db.prepare(`SELECT ${CONFIG_COLUMNS} FROM event_invoke_configs WHERE function_name = ? AND qualifier = ?`),
    configs: db.prepare(`SELECT ${CONFIG_COLUMNS} FROM event_invoke_configs WHERE function_name = ? AND qualifier > ? ORDER BY qualifier LIMIT ?`),
    deleteConfig: db.prepare('DELETE FROM event_invoke_configs WHERE function_name = ? AND qualifier = ?'),
    deleteConfigs: db.prepare('DELETE FROM event_invoke_configs WHERE function_name = ?'),
  };
}
