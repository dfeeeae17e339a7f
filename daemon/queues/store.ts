/**
 * The queues' durable state in SQLite (`<dataDir>/queues.db`), apart from the registry's database so that
 * message traffic never contends with the control plane's writes. WAL with synchronous=NORMAL: a committed
 * message survives the process being killed. Every statement is prepared once.
 */
import type Database from 'better-sqlite3';
import { openStore } from '../sqlite.js';

const SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE queues (
    name TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    visibility_timeout INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE messages (
    -- Send order: receiving hands out the oldest visible message first.
    seq INTEGER PRIMARY KEY,
    queue TEXT NOT NULL REFERENCES queues (name) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    md5 TEXT NOT NULL,
    -- MessageAttributes as JSON, NULL when the sender gave none.
    attributes TEXT,
    sent_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_receive_ms INTEGER,
    -- Until this moment the message is in flight: received and not handed out again.
    visible_ms INTEGER NOT NULL,
    -- The handle of the latest receive only: an earlier receiver can no longer delete the message.
    receipt_handle TEXT UNIQUE
  ) STRICT;
  CREATE INDEX messages_by_queue ON messages (queue, seq);
`;

/** A queue as stored, with its messages counted at some moment. */
export interface QueueRow {
  readonly name: string;
  readonly createdMs: number;
  readonly visibilityTimeout: number;
  readonly visible: number;
  readonly inFlight: number;
}

export interface MessageRow {
  readonly seq: number;
  readonly messageId: string;
  readonly body: string;
  readonly md5: string;
  readonly attributes: string | null;
  readonly sentMs: number;
  readonly receiveCount: number;
  readonly firstReceiveMs: number | null;
}

export interface NewMessage {
  readonly queue: string;
  readonly messageId: string;
  readonly body: string;
  readonly md5: string;
  readonly attributes: string | null;
  readonly sentMs: number;
}

export class QueueStore {
  readonly #db: Database.Database;
  readonly #statements: Statements;

  constructor(file: string) {
    this.#db = openStore(file, { name: 'queues', sql: SCHEMA, version: SCHEMA_VERSION });
    this.#statements = prepareStatements(this.#db);
  }

  close(): void {
    this.#db.close();
  }

  /** Runs `work` in one transaction, write-locked from the start since every caller reads then writes. */
  transaction<T>(work: () => T): T {
    return this.#db.transaction(work).immediate();
  }

  /** A queue with its messages counted as of `nowMs`. */
  queue(name: string, nowMs: number): QueueRow | undefined {
    return this.#statements.queue.get({ name, now: nowMs }) as QueueRow | undefined;
  }

  /** A queue's visibility timeout in seconds: the cheap way to learn whether it exists. */
  visibilityTimeout(name: string): number | undefined {
    return (this.#statements.visibilityTimeout.get(name) as { seconds: number } | undefined)?.seconds;
  }

  queues(nowMs: number): QueueRow[] {
    return this.#statements.queues.all({ now: nowMs }) as QueueRow[];
  }

  insertQueue(name: string, createdMs: number, visibilityTimeout: number): void {
    this.#statements.insertQueue.run(name, createdMs, visibilityTimeout);
  }

  /** Deletes a queue and, by cascade, its messages; false if there was no such queue. */
  deleteQueue(name: string): boolean {
    return this.#statements.deleteQueue.run(name).changes > 0;
  }

  insertMessage(message: NewMessage): void {
    this.#statements.insertMessage.run({ ...message, visibleMs: message.sentMs });
  }

  /** Up to `limit` messages visible at `nowMs`, oldest first. */
  visibleMessages(queue: string, nowMs: number, limit: number): MessageRow[] {
    return this.#statements.visibleMessages.all(queue, nowMs, limit) as MessageRow[];
  }

  /** Records a receive: one more count, a new handle, in flight until `visibleMs`. */
  markReceived(seq: number, receiptHandle: string, nowMs: number, visibleMs: number): void {
    this.#statements.markReceived.run({ seq, receiptHandle, now: nowMs, visibleMs });
  }

  /** False if no message of the queue holds this handle. */
  deleteMessage(queue: string, receiptHandle: string): boolean {
    return this.#statements.deleteMessage.run(queue, receiptHandle).changes > 0;
  }
}

const QUEUE_SELECT = `
  SELECT q.name, q.created_ms AS createdMs, q.visibility_timeout AS visibilityTimeout,
    coalesce(sum(m.visible_ms <= @now), 0) AS visible, coalesce(sum(m.visible_ms > @now), 0) AS inFlight
  FROM queues q LEFT JOIN messages m ON m.queue = q.name`;

function prepareStatements(db: Database.Database) {
  return {
    queue: db.prepare(`${QUEUE_SELECT} WHERE q.name = @name GROUP BY q.name`),
    queues: db.prepare(`${QUEUE_SELECT} GROUP BY q.name ORDER BY q.name`),
    visibilityTimeout: db.prepare('SELECT visibility_timeout AS seconds FROM queues WHERE name = ?'),
    insertQueue: db.prepare('INSERT INTO queues (name, created_ms, visibility_timeout) VALUES (?, ?, ?)'),
    deleteQueue: db.prepare('DELETE FROM queues WHERE name = ?'),
    insertMessage: db.prepare(`
      INSERT INTO messages (queue, message_id, body, md5, attributes, sent_ms, visible_ms)
      VALUES (@queue, @messageId, @body, @md5, @attributes, @sentMs, @visibleMs)`),
    visibleMessages: db.prepare(`
      SELECT seq, message_id AS messageId, body, md5, attributes, sent_ms AS sentMs, receive_count AS receiveCount,
        first_receive_ms AS firstReceiveMs
      FROM messages WHERE queue = ? AND visible_ms <= ? ORDER BY seq LIMIT ?`),
    markReceived: db.prepare(`
      UPDATE messages SET receive_count = receive_count + 1, first_receive_ms = coalesce(first_receive_ms, @now),
        visible_ms = @visibleMs, receipt_handle = @receiptHandle
      WHERE seq = @seq`),
    deleteMessage: db.prepare('DELETE FROM messages WHERE queue = ? AND receipt_handle = ?'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;
