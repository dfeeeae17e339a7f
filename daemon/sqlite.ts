/**
 * How lambdad opens its SQLite files (registry, events, queues, logs' neighbours): WAL with synchronous
 * NORMAL, so a committed write survives the process being killed; foreign keys on; a schema_version table,
 * created with the schema on first open and brought forward by the given migrations after.
 */
import Database from 'better-sqlite3';

export class SchemaVersionError extends Error {
  override readonly name = 'SchemaVersionError';
}

export interface StoreSchema {
  /** Named in errors: `registry`, `events`, `queues`. */
  readonly name: string;
  /** Everything a new file needs (without schema_version). */
  readonly sql: string;
  readonly version: number;
  /** The change that brings version N (the key) to N + 1. */
  readonly migrations?: Readonly<Record<number, string>>;
}

export function openStore(file: string, schema: StoreSchema): Database.Database {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.transaction(() => migrate(db, schema)).immediate();
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function migrate(db: Database.Database, schema: StoreSchema): void {
  const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (hasTable === undefined) {
    db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT;');
    db.exec(schema.sql);
    db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(schema.version);
    return;
  }
  let found = (db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined)?.version;
  while (found !== undefined && found < schema.version && schema.migrations?.[found] !== undefined) {
    db.exec(schema.migrations[found]!);
    found += 1;
    db.prepare('UPDATE schema_version SET version = ?').run(found);
  }
  if (found !== schema.version) {
    throw new SchemaVersionError(`${schema.name} schema version ${String(found)} is not ${schema.version}: this lambdad cannot read it`);
  }
}
