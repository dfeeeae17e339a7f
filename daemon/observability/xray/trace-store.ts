/**
 * The traces the collector received, in their own SQLite file (`traces.db`), and the two X-Ray queries over
 * them: GetTraceSummaries (traces of a time range with duration and error flags) and BatchGetTraces (whole traces, with
 * subsegments sent on their own folded into the segment they belong to, as X-Ray shows them). Writes are
 * batched every few tens of milliseconds, off the receive path; the newest SEGMENTS_KEPT documents are kept.
 */
import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { openStore } from '../../sqlite.js';
import { ROOT } from '../trace-header.js';
import { invocationSegments, spanEndMs, type InvocationSpan, type SegmentDocument } from './segments.js';

/** Documents kept; past this the oldest received go first. */
export const SEGMENTS_KEPT = 100_000;
const SUMMARIES_PAGE = 100;
const FLUSH_DELAY_MS = 50;

/** A segment starts at most this long before its trace id's time (clock skew between machines). */
const SKEW_SECONDS = 60;

// No index on trace_id: ids are random, and keeping a random-key index costs a write ~3× the row's. Segments of a
// trace start after its id's time (the Root carries it), so a trace is found in a start_time range instead.
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
    -- 0: a segment document as received; 1: a lambdad invocation's span, whose two segments are made on reading.
    kind INTEGER NOT NULL,
    document TEXT NOT NULL
  ) STRICT;
  CREATE INDEX segments_by_start ON segments (start_time);`,
};

/** Epoch seconds in a trace id (`1-{8 hex}-…`); NaN for an id that is not one. */
function traceTime(traceId: string): number {
  return ROOT.test(traceId) ? parseInt(traceId.slice(2, 10), 16) : NaN;
}

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
  readonly kind: number;
  readonly id: string;
  readonly parent_id: string | null;
  readonly is_subsegment: number;
  readonly start_time: number;
  readonly end_time: number | null;
  readonly document: string;
}

type Node = Record<string, unknown> & { id?: unknown; subsegments?: unknown };

const DOCUMENT = 0;
const SPAN = 1;

/** The documents a row stands for: the one received, or an invocation's service and function segments. */
function documentsOf(row: { kind: number; document: string }): Node[] {
  return row.kind === SPAN ? invocationSegments(JSON.parse(row.document) as InvocationSpan) : [JSON.parse(row.document) as Node];
}

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
  #pending: ({ document: SegmentDocument; span?: undefined } | { span: InvocationSpan })[] = [];
  #timer: NodeJS.Timeout | null = null;
  readonly #insert: Database.Statement;
  readonly #prune: Database.Statement;
  readonly #dropInProgress: Database.Statement;

  constructor(dataDir: string) {
    this.#db = openStore(join(dataDir, 'traces.db'), SCHEMA);
    this.#insert = this.#db.prepare(
      'INSERT INTO segments (trace_id, id, parent_id, is_subsegment, start_time, end_time, error, fault, throttle, kind, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#dropInProgress = this.#db.prepare('DELETE FROM segments WHERE start_time = ? AND trace_id = ? AND id = ? AND end_time IS NULL');
    this.#prune = this.#db.prepare('DELETE FROM segments WHERE rowid <= (SELECT MAX(rowid) FROM segments) - ?');
  }

  /** Keeps a checked document; a complete one replaces the in-progress version sent before it. */
  add(document: SegmentDocument): void {
    this.#pending.push({ document });
    this.#timer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS).unref();
  }

  /** Keeps a sampled invocation of lambdad's own: one small row, its segments made when they are read. */
  addInvocation(span: InvocationSpan): void {
    this.#pending.push({ span });
    this.#timer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS).unref();
  }

  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const documents = this.#pending;
    if (documents.length === 0) return;
    this.#pending = [];
    this.#db.transaction(() => {
      for (const pending of documents) {
        if (pending.span !== undefined) {
          const { span } = pending;
          this.#insert.run(span.traceId, span.segmentId, null, 0, span.startMs / 1000, spanEndMs(span) / 1000, 0, span.error === undefined ? 0 : 1, 0, SPAN, JSON.stringify(span));
          continue;
        }
        const { document } = pending;
        const parent = typeof document['parent_id'] === 'string' ? document['parent_id'] : null;
        const end = typeof document['end_time'] === 'number' ? document['end_time'] : null;
        if (end !== null) this.#dropInProgress.run(document['start_time'], document.trace_id, document.id);
        const flags = (['error', 'fault', 'throttle'] as const).map((flag) => (flagged(document, flag) ? 1 : 0));
        this.#insert.run(document.trace_id, document.id, parent, document['type'] === 'subsegment' ? 1 : 0, document['start_time'], end, ...flags, DOCUMENT, JSON.stringify(document));
      }
      // Rows are only appended, so the newest SEGMENTS_KEPT are a rowid range.
      this.#prune.run(SEGMENTS_KEPT);
    })();
  }

  /** Traces whose id's time is in [startTime, endTime] (epoch seconds), newest first, a page at a time. */
  summaries(startTime: number, endTime: number, nextToken?: string): { summaries: TraceSummary[]; total: number; nextToken?: string } {
    this.flush();
    const token = nextToken === undefined ? 0 : Number(Buffer.from(nextToken, 'base64url').toString('utf8'));
    const offset = Number.isSafeInteger(token) && token >= 0 ? token : 0;
    const grouped = this.#db
      .prepare(
        `SELECT trace_id, MIN(start_time) AS start, MAX(COALESCE(end_time, start_time)) AS last, MAX(error) AS error, MAX(fault) AS fault,
          MAX(throttle) AS throttle, MAX(end_time IS NULL) AS partial
        FROM segments WHERE start_time >= ? GROUP BY trace_id`,
      )
      .all(Math.floor(startTime) - SKEW_SECONDS) as { trace_id: string; start: number; last: number; error: number; fault: number; throttle: number; partial: number }[];
    const matching = grouped.filter((row) => traceTime(row.trace_id) >= Math.floor(startTime) && traceTime(row.trace_id) <= endTime).sort((a, b) => b.start - a.start);
    const total = matching.length;
    const rows = matching.slice(offset, offset + SUMMARIES_PAGE);
    const topLevel = this.#db.prepare('SELECT kind, document FROM segments WHERE start_time >= ? AND trace_id = ? AND is_subsegment = 0 ORDER BY start_time');
    const summaries = rows.map((row): TraceSummary => {
      const segments = (topLevel.all(traceTime(row.trace_id) - SKEW_SECONDS, row.trace_id) as { kind: number; document: string }[]).flatMap(documentsOf);
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
    const select = this.#db.prepare('SELECT kind, id, parent_id, is_subsegment, start_time, end_time, document FROM segments WHERE start_time >= ? AND trace_id = ? ORDER BY is_subsegment, start_time');
    const traces: Trace[] = [];
    const unprocessed: string[] = [];
    for (const traceId of new Set(traceIds)) {
      const time = traceTime(traceId);
      const rows = Number.isNaN(time) ? [] : (select.all(time - SKEW_SECONDS, traceId) as Row[]);
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
  const roots: Node[] = rows.filter((row) => row.is_subsegment === 0).flatMap(documentsOf);
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
