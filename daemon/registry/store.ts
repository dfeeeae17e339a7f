/**
 * The registry's durable state in SQLite (`<dataDir>/lambdad.db`): functions, their versions ($LATEST is
 * version 0) and aliases. WAL with synchronous=NORMAL: a committed change survives the process being killed.
 * Every statement is prepared once; callers group multi-row changes with `transaction`.
 */
import type Database from 'better-sqlite3';
import { openStore } from '../sqlite.js';
import type { Runtime } from '../limits.js';
import type { AliasRecord, Architecture, LayerReference, LayerVersionRecord, TracingMode, VersionRecord, VpcPlacement } from './records.js';

const SCHEMA_VERSION = 5;

const PROVISIONED_TABLE = `
  CREATE TABLE provisioned_concurrency (
    function_name TEXT NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
    -- An alias name or a published version number, as the caller gave it.
    qualifier TEXT NOT NULL,
    requested INTEGER NOT NULL,
    last_modified INTEGER NOT NULL,
    PRIMARY KEY (function_name, qualifier)
  ) STRICT;`;

const LAYER_TABLES = `
  CREATE TABLE layers (
    name TEXT PRIMARY KEY,
    -- Version numbers are not reused after a layer version is deleted.
    last_version_number INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE layer_versions (
    layer_name TEXT NOT NULL REFERENCES layers (name),
    version_number INTEGER NOT NULL,
    description TEXT NOT NULL,
    compatible_runtimes TEXT NOT NULL,
    compatible_architectures TEXT NOT NULL,
    license_info TEXT,
    code_sha256 TEXT NOT NULL,
    code_size INTEGER NOT NULL,
    unzipped_size INTEGER NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (layer_name, version_number)
  ) STRICT;`;

/** What brings a registry of version N (the key) to version N + 1. */
const MIGRATIONS: Readonly<Record<number, string>> = Object.freeze({
  1: 'ALTER TABLE functions ADD COLUMN reserved_concurrency INTEGER',
  2: PROVISIONED_TABLE,
  3: 'ALTER TABLE versions ADD COLUMN dead_letter_target TEXT',
  4: `ALTER TABLE versions ADD COLUMN layers TEXT; ALTER TABLE versions ADD COLUMN vpc_config TEXT; ALTER TABLE functions ADD COLUMN watch_directory TEXT; ${LAYER_TABLES}`,
});

const SCHEMA = `
  CREATE TABLE functions (
    name TEXT PRIMARY KEY,
    -- The highest version number ever published: numbers are not reused after a version is deleted.
    last_version_number INTEGER NOT NULL DEFAULT 0,
    -- PutFunctionConcurrency's ReservedConcurrentExecutions; NULL draws from the unreserved pool.
    reserved_concurrency INTEGER,
    -- Hot reload: the directory $LATEST's code follows; NULL when not watched.
    watch_directory TEXT
  ) STRICT;
  CREATE TABLE versions (
    function_name TEXT NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
    version_number INTEGER NOT NULL,
    runtime TEXT NOT NULL,
    role TEXT NOT NULL,
    handler TEXT NOT NULL,
    description TEXT NOT NULL,
    timeout INTEGER NOT NULL,
    memory_size INTEGER NOT NULL,
    environment TEXT,
    tracing_mode TEXT NOT NULL,
    architecture TEXT NOT NULL,
    ephemeral_storage INTEGER NOT NULL,
    code_sha256 TEXT NOT NULL,
    code_size INTEGER NOT NULL,
    last_modified INTEGER NOT NULL,
    revision_id TEXT NOT NULL,
    source_fingerprint TEXT,
    dead_letter_target TEXT,
    -- JSON array of the layer versions it uses, in order: ARN, code and sizes, kept even if a layer version goes.
    layers TEXT,
    -- JSON of the checked VpcConfig (subnets, security groups, VPC); NULL outside any VPC.
    vpc_config TEXT,
    PRIMARY KEY (function_name, version_number)
  ) STRICT;
  CREATE TABLE aliases (
    function_name TEXT NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    version_number INTEGER NOT NULL,
    description TEXT NOT NULL,
    routing_version_number INTEGER,
    routing_weight REAL,
    revision_id TEXT NOT NULL,
    PRIMARY KEY (function_name, name),
    -- A version an alias points to cannot go while the alias does (checked at the end of the statement,
    -- so deleting the whole function, which cascades to both, is fine).
    FOREIGN KEY (function_name, version_number) REFERENCES versions (function_name, version_number),
    FOREIGN KEY (function_name, routing_version_number) REFERENCES versions (function_name, version_number)
  ) STRICT;
  ${PROVISIONED_TABLE}
  ${LAYER_TABLES}
`;

const VERSION_COLUMNS = `
  function_name AS functionName, version_number AS versionNumber, runtime, role, handler, description, timeout,
  memory_size AS memorySize, environment, tracing_mode AS tracingMode, architecture,
  ephemeral_storage AS ephemeralStorage, code_sha256 AS codeSha256, code_size AS codeSize,
  last_modified AS lastModified, revision_id AS revisionId, source_fingerprint AS sourceFingerprint,
  dead_letter_target AS deadLetterTarget, layers, vpc_config AS vpc`;

const LAYER_VERSION_COLUMNS = `
  layer_name AS layerName, version_number AS versionNumber, description, compatible_runtimes AS compatibleRuntimes,
  compatible_architectures AS compatibleArchitectures, license_info AS licenseInfo, code_sha256 AS codeSha256,
  code_size AS codeSize, unzipped_size AS unzippedSize, created`;

const ALIAS_COLUMNS = `
  function_name AS functionName, name, version_number AS versionNumber, description,
  routing_version_number AS routingVersionNumber, routing_weight AS routingWeight, revision_id AS revisionId`;

const PROVISIONED_COLUMNS = 'function_name AS functionName, qualifier, requested, last_modified AS lastModified';

/** A provisioned-concurrency config as stored: what was asked for, not how far it got. */
export interface ProvisionedRecord {
  readonly functionName: string;
  readonly qualifier: string;
  readonly requested: number;
  readonly lastModified: number;
}

interface VersionRow extends Omit<VersionRecord, 'environment' | 'runtime' | 'tracingMode' | 'architecture' | 'layers' | 'vpc'> {
  readonly environment: string | null;
  readonly layers: string | null;
  readonly vpc: string | null;
  readonly runtime: string;
  readonly tracingMode: string;
  readonly architecture: string;
}

interface LayerVersionRow extends Omit<LayerVersionRecord, 'compatibleRuntimes' | 'compatibleArchitectures'> {
  readonly compatibleRuntimes: string;
  readonly compatibleArchitectures: string;
}

interface AliasRow {
  readonly functionName: string;
  readonly name: string;
  readonly versionNumber: number;
  readonly description: string;
  readonly routingVersionNumber: number | null;
  readonly routingWeight: number | null;
  readonly revisionId: string;
}

export class Store {
  readonly #db: Database.Database;
  readonly #statements: Statements;

  constructor(file: string) {
    this.#db = openStore(file, { name: 'registry', sql: SCHEMA, version: SCHEMA_VERSION, migrations: MIGRATIONS });
    this.#statements = prepareStatements(this.#db);
  }

  close(): void {
    this.#db.close();
  }

  /** Runs `work` in one transaction: all of its changes are committed, or none. */
  transaction<T>(work: () => T): T {
    return this.#db.transaction(work)();
  }

  functionExists(name: string): boolean {
    return this.#statements.functionExists.get(name) !== undefined;
  }

  lastVersionNumber(name: string): number {
    return (this.#statements.lastVersionNumber.get(name) as { n: number }).n;
  }

  insertFunction(name: string): void {
    this.#statements.insertFunction.run(name);
  }

  setLastVersionNumber(name: string, versionNumber: number): void {
    this.#statements.setLastVersionNumber.run(versionNumber, name);
  }

  deleteFunction(name: string): void {
    this.#statements.deleteFunction.run(name);
  }

  version(functionName: string, versionNumber: number): VersionRecord | undefined {
    const row = this.#statements.version.get(functionName, versionNumber) as VersionRow | undefined;
    return row === undefined ? undefined : toVersionRecord(row);
  }

  /** The highest published version still there. */
  newestPublished(functionName: string): VersionRecord | undefined {
    const row = this.#statements.newestPublished.get(functionName) as VersionRow | undefined;
    return row === undefined ? undefined : toVersionRecord(row);
  }

  /** Inserts a version, or replaces $LATEST. */
  putVersion(record: VersionRecord): void {
    this.#statements.putVersion.run({
      ...record,
      environment: record.environment === null ? null : JSON.stringify(record.environment),
      layers: record.layers.length === 0 ? null : JSON.stringify(record.layers),
      vpc: record.vpc === null ? null : JSON.stringify(record.vpc),
    });
  }

  setWatchDirectory(name: string, directory: string | null): void {
    this.#statements.setWatchDirectory.run(directory, name);
  }

  watchDirectory(name: string): string | null {
    return (this.#statements.watchDirectory.get(name) as { d: string | null } | undefined)?.d ?? null;
  }

  watchedFunctions(): { name: string; directory: string }[] {
    return this.#statements.watchedFunctions.all() as { name: string; directory: string }[];
  }

  lastLayerVersionNumber(name: string): number {
    return (this.#statements.lastLayerVersionNumber.get(name) as { n: number } | undefined)?.n ?? 0;
  }

  putLayerVersion(record: LayerVersionRecord): void {
    this.#statements.putLayer.run(record.layerName, record.versionNumber);
    this.#statements.putLayerVersion.run({
      ...record,
      compatibleRuntimes: JSON.stringify(record.compatibleRuntimes),
      compatibleArchitectures: JSON.stringify(record.compatibleArchitectures),
    });
  }

  layerVersion(layerName: string, versionNumber: number): LayerVersionRecord | undefined {
    const row = this.#statements.layerVersion.get(layerName, versionNumber) as LayerVersionRow | undefined;
    return row === undefined ? undefined : toLayerVersionRecord(row);
  }

  /** A layer's versions, newest first, below `beforeNumber`. */
  layerVersions(layerName: string, beforeNumber: number, limit: number): LayerVersionRecord[] {
    return (this.#statements.layerVersions.all(layerName, beforeNumber, limit) as LayerVersionRow[]).map(toLayerVersionRecord);
  }

  /** Every layer version, by layer name then newest first (ListLayers picks each layer's latest match). */
  allLayerVersions(): LayerVersionRecord[] {
    return (this.#statements.allLayerVersions.all() as LayerVersionRow[]).map(toLayerVersionRecord);
  }

  deleteLayerVersion(layerName: string, versionNumber: number): void {
    this.#statements.deleteLayerVersion.run(layerName, versionNumber);
  }

  deleteVersion(functionName: string, versionNumber: number): void {
    this.#statements.deleteVersion.run(functionName, versionNumber);
  }

  /** A function's versions after `afterNumber`, in order ($LATEST, 1, 2, …). */
  versions(functionName: string, afterNumber: number, limit: number): VersionRecord[] {
    return (this.#statements.versions.all(functionName, afterNumber, limit) as VersionRow[]).map(toVersionRecord);
  }

  /** Versions of all functions after the key (name, number), by name then number; `latestOnly` keeps $LATEST. */
  allVersions(after: readonly [string, number], latestOnly: boolean, limit: number): VersionRecord[] {
    const statement = latestOnly ? this.#statements.allLatest : this.#statements.allVersions;
    return (statement.all(after[0], after[1], limit) as VersionRow[]).map(toVersionRecord);
  }

  alias(functionName: string, name: string): AliasRecord | undefined {
    const row = this.#statements.alias.get(functionName, name) as AliasRow | undefined;
    return row === undefined ? undefined : toAliasRecord(row);
  }

  putAlias(record: AliasRecord): void {
    this.#statements.putAlias.run({
      functionName: record.functionName,
      name: record.name,
      versionNumber: record.versionNumber,
      description: record.description,
      routingVersionNumber: record.routing?.versionNumber ?? null,
      routingWeight: record.routing?.weight ?? null,
      revisionId: record.revisionId,
    });
  }

  deleteAlias(functionName: string, name: string): void {
    this.#statements.deleteAlias.run(functionName, name);
  }

  /** A function's aliases named after `afterName`, by name; `versionNumber` keeps those pointing there. */
  aliases(functionName: string, afterName: string, versionNumber: number | null, limit: number): AliasRecord[] {
    return (this.#statements.aliases.all(functionName, afterName, versionNumber, versionNumber, limit) as AliasRow[]).map(toAliasRecord);
  }

  /** Names of the aliases that route to a version, as primary or additional version. */
  aliasesUsing(functionName: string, versionNumber: number): string[] {
    return (this.#statements.aliasesUsing.all(functionName, versionNumber, versionNumber) as { name: string }[]).map((row) => row.name);
  }

  functionCount(): number {
    return (this.#statements.functionCount.get() as { n: number }).n;
  }

  /** Every version's code counts, as in Lambda's code storage quota. */
  totalCodeSize(): number {
    return (this.#statements.totalCodeSize.get() as { n: number }).n;
  }

  reservedConcurrency(name: string): number | null {
    return (this.#statements.reservedConcurrency.get(name) as { n: number | null } | undefined)?.n ?? null;
  }

  setReservedConcurrency(name: string, reserved: number | null): void {
    this.#statements.setReservedConcurrency.run(reserved, name);
  }

  /** Every function with reserved concurrency, and how much. */
  reservations(): Map<string, number> {
    const rows = this.#statements.reservations.all() as { name: string; n: number }[];
    return new Map(rows.map((row) => [row.name, row.n]));
  }

  provisioned(functionName: string, qualifier: string): ProvisionedRecord | undefined {
    return this.#statements.provisioned.get(functionName, qualifier) as ProvisionedRecord | undefined;
  }

  putProvisioned(record: ProvisionedRecord): void {
    this.#statements.putProvisioned.run(record.functionName, record.qualifier, record.requested, record.lastModified);
  }

  deleteProvisioned(functionName: string, qualifier: string): void {
    this.#statements.deleteProvisioned.run(functionName, qualifier);
  }

  /** A function's configs after `afterQualifier`, or (no function) every config. */
  provisionedList(functionName: string | null, afterQualifier: string, limit: number): ProvisionedRecord[] {
    return (functionName === null ? this.#statements.allProvisioned.all() : this.#statements.provisionedList.all(functionName, afterQualifier, limit)) as ProvisionedRecord[];
  }

  codeInUse(): Set<string> {
    return new Set((this.#statements.codeInUse.all() as { sha: string }[]).map((row) => row.sha));
  }
}

function prepareStatements(db: Database.Database) {
  return {
    functionExists: db.prepare('SELECT 1 FROM functions WHERE name = ?'),
    lastVersionNumber: db.prepare('SELECT last_version_number AS n FROM functions WHERE name = ?'),
    insertFunction: db.prepare('INSERT INTO functions (name) VALUES (?)'),
    setLastVersionNumber: db.prepare('UPDATE functions SET last_version_number = ? WHERE name = ?'),
    deleteFunction: db.prepare('DELETE FROM functions WHERE name = ?'),
    provisioned: db.prepare(`SELECT ${PROVISIONED_COLUMNS} FROM provisioned_concurrency WHERE function_name = ? AND qualifier = ?`),
    putProvisioned: db.prepare('INSERT OR REPLACE INTO provisioned_concurrency (function_name, qualifier, requested, last_modified) VALUES (?, ?, ?, ?)'),
    deleteProvisioned: db.prepare('DELETE FROM provisioned_concurrency WHERE function_name = ? AND qualifier = ?'),
    provisionedList: db.prepare(`SELECT ${PROVISIONED_COLUMNS} FROM provisioned_concurrency WHERE function_name = ? AND qualifier > ? ORDER BY qualifier LIMIT ?`),
    allProvisioned: db.prepare(`SELECT ${PROVISIONED_COLUMNS} FROM provisioned_concurrency ORDER BY function_name, qualifier`),
    reservedConcurrency: db.prepare('SELECT reserved_concurrency AS n FROM functions WHERE name = ?'),
    setReservedConcurrency: db.prepare('UPDATE functions SET reserved_concurrency = ? WHERE name = ?'),
    reservations: db.prepare('SELECT name, reserved_concurrency AS n FROM functions WHERE reserved_concurrency IS NOT NULL'),
    version: db.prepare(`SELECT ${VERSION_COLUMNS} FROM versions WHERE function_name = ? AND version_number = ?`),
    newestPublished: db.prepare(
      `SELECT ${VERSION_COLUMNS} FROM versions WHERE function_name = ? AND version_number > 0 ORDER BY version_number DESC LIMIT 1`,
    ),
    putVersion: db.prepare(`
      INSERT INTO versions (function_name, version_number, runtime, role, handler, description, timeout, memory_size,
        environment, tracing_mode, architecture, ephemeral_storage, code_sha256, code_size, last_modified, revision_id,
        source_fingerprint, dead_letter_target, layers, vpc_config)
      VALUES (@functionName, @versionNumber, @runtime, @role, @handler, @description, @timeout, @memorySize,
        @environment, @tracingMode, @architecture, @ephemeralStorage, @codeSha256, @codeSize, @lastModified, @revisionId,
        @sourceFingerprint, @deadLetterTarget, @layers, @vpc)
      ON CONFLICT (function_name, version_number) DO UPDATE SET
        runtime = excluded.runtime, role = excluded.role, handler = excluded.handler,
        description = excluded.description, timeout = excluded.timeout, memory_size = excluded.memory_size,
        environment = excluded.environment, tracing_mode = excluded.tracing_mode, architecture = excluded.architecture,
        ephemeral_storage = excluded.ephemeral_storage, code_sha256 = excluded.code_sha256,
        code_size = excluded.code_size, last_modified = excluded.last_modified, revision_id = excluded.revision_id,
        source_fingerprint = excluded.source_fingerprint, dead_letter_target = excluded.dead_letter_target,
        layers = excluded.layers, vpc_config = excluded.vpc_config`),
    deleteVersion: db.prepare('DELETE FROM versions WHERE function_name = ? AND version_number = ?'),
    versions: db.prepare(
      `SELECT ${VERSION_COLUMNS} FROM versions WHERE function_name = ? AND version_number > ? ORDER BY version_number LIMIT ?`,
    ),
    allVersions: db.prepare(
      `SELECT ${VERSION_COLUMNS} FROM versions WHERE (function_name, version_number) > (?, ?)
       ORDER BY function_name, version_number LIMIT ?`,
    ),
    allLatest: db.prepare(
      `SELECT ${VERSION_COLUMNS} FROM versions WHERE version_number = 0 AND (function_name, version_number) > (?, ?)
       ORDER BY function_name LIMIT ?`,
    ),
    alias: db.prepare(`SELECT ${ALIAS_COLUMNS} FROM aliases WHERE function_name = ? AND name = ?`),
    putAlias: db.prepare(`
      INSERT INTO aliases (function_name, name, version_number, description, routing_version_number, routing_weight, revision_id)
      VALUES (@functionName, @name, @versionNumber, @description, @routingVersionNumber, @routingWeight, @revisionId)
      ON CONFLICT (function_name, name) DO UPDATE SET
        version_number = excluded.version_number, description = excluded.description,
        routing_version_number = excluded.routing_version_number, routing_weight = excluded.routing_weight,
        revision_id = excluded.revision_id`),
    deleteAlias: db.prepare('DELETE FROM aliases WHERE function_name = ? AND name = ?'),
    aliases: db.prepare(
      `SELECT ${ALIAS_COLUMNS} FROM aliases WHERE function_name = ? AND name > ? AND (? IS NULL OR version_number = ?)
       ORDER BY name LIMIT ?`,
    ),
    aliasesUsing: db.prepare(
      `SELECT name FROM aliases WHERE function_name = ? AND (version_number = ? OR routing_version_number = ?) ORDER BY name`,
    ),
    functionCount: db.prepare('SELECT count(*) AS n FROM functions'),
    totalCodeSize: db.prepare('SELECT (SELECT coalesce(sum(code_size), 0) FROM versions) + (SELECT coalesce(sum(code_size), 0) FROM layer_versions) AS n'),
    // Layer code in use: layer versions still there, and the ones deleted but still named by a function version.
    codeInUse: db.prepare(`SELECT code_sha256 AS sha FROM versions UNION SELECT code_sha256 FROM layer_versions
      UNION SELECT json_extract(value, '$.codeSha256') FROM versions, json_each(versions.layers) WHERE versions.layers IS NOT NULL`),
    setWatchDirectory: db.prepare('UPDATE functions SET watch_directory = ? WHERE name = ?'),
    watchDirectory: db.prepare('SELECT watch_directory AS d FROM functions WHERE name = ?'),
    watchedFunctions: db.prepare('SELECT name, watch_directory AS directory FROM functions WHERE watch_directory IS NOT NULL ORDER BY name'),
    lastLayerVersionNumber: db.prepare('SELECT last_version_number AS n FROM layers WHERE name = ?'),
    putLayer: db.prepare('INSERT INTO layers (name, last_version_number) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET last_version_number = excluded.last_version_number'),
    putLayerVersion: db.prepare(`
      INSERT INTO layer_versions (layer_name, version_number, description, compatible_runtimes, compatible_architectures, license_info,
        code_sha256, code_size, unzipped_size, created)
      VALUES (@layerName, @versionNumber, @description, @compatibleRuntimes, @compatibleArchitectures, @licenseInfo,
        @codeSha256, @codeSize, @unzippedSize, @created)`),
    layerVersion: db.prepare(`SELECT ${LAYER_VERSION_COLUMNS} FROM layer_versions WHERE layer_name = ? AND version_number = ?`),
    layerVersions: db.prepare(`SELECT ${LAYER_VERSION_COLUMNS} FROM layer_versions WHERE layer_name = ? AND version_number < ? ORDER BY version_number DESC LIMIT ?`),
    allLayerVersions: db.prepare(`SELECT ${LAYER_VERSION_COLUMNS} FROM layer_versions ORDER BY layer_name, version_number DESC`),
    deleteLayerVersion: db.prepare('DELETE FROM layer_versions WHERE layer_name = ? AND version_number = ?'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

function toVersionRecord(row: VersionRow): VersionRecord {
  return {
    ...row,
    // Written by this module from checked values only.
    runtime: row.runtime as Runtime,
    tracingMode: row.tracingMode as TracingMode,
    architecture: row.architecture as Architecture,
    environment: row.environment === null ? null : Object.freeze(JSON.parse(row.environment) as Record<string, string>),
    layers: row.layers === null ? [] : (JSON.parse(row.layers) as LayerReference[]),
    vpc: row.vpc === null ? null : (JSON.parse(row.vpc) as VpcPlacement),
  };
}

function toLayerVersionRecord(row: LayerVersionRow): LayerVersionRecord {
  return { ...row, compatibleRuntimes: JSON.parse(row.compatibleRuntimes) as string[], compatibleArchitectures: JSON.parse(row.compatibleArchitectures) as string[] };
}

function toAliasRecord(row: AliasRow): AliasRecord {
  return {
    functionName: row.functionName,
    name: row.name,
    versionNumber: row.versionNumber,
    description: row.description,
    routing:
      row.routingVersionNumber === null || row.routingWeight === null
        ? null
        : { versionNumber: row.routingVersionNumber, weight: row.routingWeight },
    revisionId: row.revisionId,
  };
}
