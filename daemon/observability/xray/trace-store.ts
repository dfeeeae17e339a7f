/**
 * The traces the collector received, in their own SQLite file (`traces.db`), and the two X-Ray queries over
 * them: GetTraceSummaries (recent traces with duration and error flags) and BatchGetTraces (whole traces, with
 * subsegments sent on their own folded into the segment they belong to, as X-Ray shows them). Writes are
 * batched every few tens of milliseconds, off the receive path; the newest SEGMENTS_KEPT documents are kept.
 */
import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { openStore } from '../../sqlite.js';
import type { SegmentDocument } from './segments.js';

/** Documents kept; past this the oldest received go first. */
export const SEGMENTS_KEPT = 100_000;
const SUMMARIES_PAGE = 100;
const FLUSH_DELAY_MS = 50;

const SCHEMA = {
  name: 'traces',
  version: 1,
  sql: `CREATE TABLE segments (
    trace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    parent_id TEXT,
    is_subsegment INTEGER NOT NULL,
    start_time REAL NOT NULL,
    end_time REAL,
    error INTEGER NOT NULL,
    fault INTEGER NOT NULL,
    throttle INTEGER NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (trace_id, id)
  ) STRICT;
  CREATE INDEX segments_by_start ON segments (start_time);`,
};

export interface TraceSummary {
  readonly Id: string;
  readonly StartTime: number;
  readonly Duration: number;
  readonly ResponseTime: number;
  readonly HasError: boolean;
  readonly HasFault: boolean;
  readonly HasThrottle: boolean;
  /** Some segment is still in progress. */
  readonly IsPartial: boolean;
  readonly ServiceIds: { Name: string; Names: string[]; AccountId?: string; Type: string }[];
  readonly Http?: { HttpURL?: string; HttpStatus?: number; HttpMethod?: string };
}

export interface Trace {
  readonly Id: string;
  readonly Duration: number;
  readonly LimitExceeded: boolean;
  readonly Segments: { Id: string; Document: string }[];
}

interface Row {
  readonly id: string;
  readonly parent_id: string | null;
  readonly is_subsegment: number;
  readonly start_time: number;
  readonly end_time: number | null;
  readonly document: string;
}

type Node = Record<string, unknown> & { id?: unknown; subsegments?: unknown };

/** Whether the document or any subsegment in it has the flag set. */
function flagged(node: Node, flag: 'error' | 'fault' | 'throttle'): boolean {
  if (node[flag] === true) return true;
  return Array.isArray(node.subsegments) && node.subsegments.some((child: Node) => typeof child === 'object' && child !== null && flagged(child, flag));
}

function findNode(node: Node, id: string): Node | undefined {
  if (node.id === id) return node;
  if (!Array.isArray(node.subsegments)) return undefined;
  for (const child of node.subsegments as Node[]) {
    const found = typeof child === 'object' && child !== null ? findNode(child, id) : undefined;
    if (found !== undefined) return found;
  }
  return undefined;
}

export class TraceStore {
  readonly #db: Database.Database;
  #pending: SegmentDocument[] = [];
  #timer: NodeJS.Timeout | null = null;
  readonly #insert: Database.Statement;

  constructor(dataDir: string) {
    this.#db = openStore(join(dataDir, 'traces.db'), SCHEMA);
    this.#insert = this.#db.prepare(
      'INSERT OR REPLACE INTO segments (trace_id, id, parent_id, is_subsegment, start_time, end_time, error, fault, throttle, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
  }

  /** Keeps a checked document; a later one with the same id (an in-progress segment completed) replaces it. */
  add(document: SegmentDocument): void {
    this.#pending.push(document);
    this.#timer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS).unref();
  }

  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const documents = this.#pending;
    if (documents.length === 0) return;
    this.#pending = [];
    this.#db.transaction(() => {
      for (const document of documents) {
        const parent = typeof document['parent_id'] === 'string' ? document['parent_id'] : null;
        const end = typeof document['end_time'] === 'number' ? document['end_time'] : null;
        const flags = (['error', 'fault', 'throttle'] as const).map((flag) => (flagged(document, flag) ? 1 : 0));
        this.#insert.run(document.trace_id, document.id, parent, document['type'] === 'subsegment' ? 1 : 0, document['start_time'], end, ...flags, JSON.stringify(document));
      }
      this.#db.prepare('DELETE FROM segments WHERE rowid <= (SELECT rowid FROM segments ORDER BY rowid DESC LIMIT 1 OFFSET ?)').run(SEGMENTS_KEPT);
    })();
  }

  /** Traces that started in [startTime, endTime] (epoch seconds), newest first, a page at a time. */
  summaries(startTime: number, endTime: number, nextToken?: string): { summaries: TraceSummary[]; total: number; nextToken?: string } {
    this.flush();
    const offset = nextToken === undefined ? 0 : Number(Buffer.from(nextToken, 'base64url').toString('utf8'));
    const matching = `SELECT trace_id, MIN(start_time) AS start, MAX(COALESCE(end_time, start_time)) AS last, MAX(error) AS error, MAX(fault) AS fault,
        MAX(throttle) AS throttle, MAX(end_time IS NULL) AS partial
      FROM segments GROUP BY trace_id HAVING start BETWEEN ? AND ?`;
    const total = (this.#db.prepare(`SELECT COUNT(*) AS n FROM (${matching})`).get(startTime, endTime) as { n: number }).n;
    const rows = this.#db.prepare(`${matching} ORDER BY start DESC LIMIT ? OFFSET ?`).all(startTime, endTime, SUMMARIES_PAGE, Number.isSafeInteger(offset) ? offset : 0) as {
      trace_id: string;
      start: number;
      last: number;
      error: number;
      fault: number;
      throttle: number;
      partial: number;
    }[];
    const topLevel = this.#db.prepare('SELECT document FROM segments WHERE trace_id = ? AND is_subsegment = 0 ORDER BY start_time');
    const summaries = rows.map((row): TraceSummary => {
      const segments = (topLevel.all(row.trace_id) as { document: string }[]).map((r) => JSON.parse(r.document) as Node);
      const root = segments[0];
      const http = root?.['http'] as { request?: { url?: string; method?: string }; response?: { status?: number } } | undefined;
      const services = new Map<string, TraceSummary['ServiceIds'][number]>();
      for (const segment of segments) {
        const name = String(segment['name']);
        const type = typeof segment['origin'] === 'string' ? segment['origin'] : 'client';
        const accountId = (segment['aws'] as { account_id?: unknown } | undefined)?.account_id;
        services.set(`${name}\n${type}`, { Name: name, Names: [name], Type: type, ...(typeof accountId === 'string' ? { AccountId: accountId } : {}) });
      }
      const rootEnd = typeof root?.['end_time'] === 'number' ? root['end_time'] : row.last;
      const rootStart = typeof root?.['start_time'] === 'number' ? root['start_time'] : row.start;
      return {
        Id: row.trace_id,
        StartTime: row.start,
        Duration: row.last - row.start,
        ResponseTime: rootEnd - rootStart,
        HasError: row.error === 1,
        HasFault: row.fault === 1,
        HasThrottle: row.throttle === 1,
        IsPartial: row.partial === 1,
        ServiceIds: [...services.values()],
        ...(http === undefined
          ? {}
          : {
              Http: {
                ...(http.request?.url === undefined ? {} : { HttpURL: http.request.url }),
                ...(http.request?.method === undefined ? {} : { HttpMethod: http.request.method }),
                ...(http.response?.status === undefined ? {} : { HttpStatus: http.response.status }),
              },
            }),
      };
    });
    const next = offset + rows.length;
    return { summaries, total, ...(next < total ? { nextToken: Buffer.from(String(next)).toString('base64url') } : {}) };
  }

  /** Whole traces by id; ids with no documents come back as unprocessed. */
  traces(traceIds: readonly string[]): { traces: Trace[]; unprocessed: string[] } {
    this.flush();
    const select = this.#db.prepare('SELECT id, parent_id, is_subsegment, start_time, end_time, document FROM segments WHERE trace_id = ? ORDER BY is_subsegment, start_time');
    const traces: Trace[] = [];
    const unprocessed: string[] = [];
    for (const traceId of new Set(traceIds)) {
      const rows = select.all(traceId) as Row[];
      if (rows.length === 0) {
        unprocessed.push(traceId);
        continue;
      }
      traces.push({ Id: traceId, Duration: duration(rows), LimitExceeded: false, Segments: assemble(rows) });
    }
    return { traces, unprocessed };
  }

  close(): void {
    this.flush();
    this.#db.close();
  }
}

function duration(rows: readonly Row[]): number {
  let start = Infinity;
  let end = -Infinity;
  for (const row of rows) {
    start = Math.min(start, row.start_time);
    end = Math.max(end, row.end_time ?? row.start_time);
  }
  return end - start;
}

/**
 * Segments with the subsegments sent on their own put back in place (under their parent, which starts first);
 * subsegments whose parent never arrived stand alone.
 */
function assemble(rows: readonly Row[]): { Id: string; Document: string }[] {
  const roots: Node[] = rows.filter((row) => row.is_subsegment === 0).map((row) => JSON.parse(row.document) as Node);
  const orphans: Node[] = [];
  for (const row of rows) {
    if (row.is_subsegment === 0) continue;
    const document = JSON.parse(row.document) as Node;
    let parent: Node | undefined;
    for (const root of [...roots, ...orphans]) if ((parent = findNode(root, row.parent_id ?? '')) !== undefined) break;
    if (parent === undefined) {
      orphans.push(document);
      continue;
    }
    delete document['type'];
    delete document['trace_id'];
    delete document['parent_id'];
    parent.subsegments = [...(Array.isArray(parent.subsegments) ? parent.subsegments : []), document];
  }
  return [...roots, ...orphans].map((node) => ({ Id: String(node.id), Document: JSON.stringify(node) }));
}
