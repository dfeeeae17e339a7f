/**
 * X-Ray trace headers (spec xray-and-vpc.md §1): `Root=1-{8 hex epoch}-{24 hex};Parent={16 hex};Sampled=0|1`,
 * with `Lineage` and unknown pairs kept as they came. Each invocation gets a header: the caller's Root when one
 * came in (a new one otherwise), a new Parent (the function segment), and a sampling decision — the caller's,
 * else X-Ray's default rule for `Active` tracing (the first request each second, then 5 %), else not sampled.
 */
import type { Clock, Ids } from '../clock.js';

export const ROOT = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
export const SEGMENT_ID = /^[0-9a-f]{16}$/;
const DEFAULT_RULE_RATE = 0.05;

export interface TraceHeader {
  readonly root: string;
  /** The function segment's id, which the function's own subsegments name as their parent. */
  readonly parent: string;
  /** The caller's Parent: the upstream (sub)segment lambdad's service segment hangs under. */
  readonly caller?: string;
  readonly sampled: boolean;
  /** Other pairs (Lineage, Self, …) in their order, as received. */
  readonly rest: readonly (readonly [string, string])[];
}

/** The pairs of a header; null when it has no valid Root (then it is not continued). */
export function parseTraceHeader(header: string | undefined): { root: string; parent: string | undefined; sampled: string | undefined; rest: [string, string][] } | null {
  if (header === undefined) return null;
  let root: string | undefined;
  let parent: string | undefined;
  let sampled: string | undefined;
  const rest: [string, string][] = [];
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index <= 0) continue;
    const key = part.slice(0, index).trim();
    const value = part.slice(index + 1).trim();
    const lower = key.toLowerCase();
    if (lower === 'root') root = value;
    else if (lower === 'sampled') sampled = value;
    else if (lower === 'parent') parent = SEGMENT_ID.test(value) ? value : undefined;
    else rest.push([key, value]);
  }
  return root !== undefined && ROOT.test(root) ? { root, parent, sampled, rest } : null;
}

export function formatTraceHeader(header: TraceHeader): string {
  return [`Root=${header.root}`, `Parent=${header.parent}`, `Sampled=${header.sampled ? 1 : 0}`, ...header.rest.map(([key, value]) => `${key}=${value}`)].join(';');
}

export class TraceHeaders {
  readonly #clock: Clock;
  readonly #ids: Ids;
  readonly #random: () => number;
  /** The second the default rule's one-per-second reservoir was last used in. */
  #reservoirSecond = -1;

  constructor(clock: Clock, ids: Ids, random: () => number = Math.random) {
    this.#clock = clock;
    this.#ids = ids;
    this.#random = random;
  }

  /** The header an invocation runs under, from the caller's (if any) and the function's TracingConfig mode. */
  forInvocation(incoming: string | undefined, mode: 'Active' | 'PassThrough'): TraceHeader {
    const parsed = parseTraceHeader(incoming);
    const decided = parsed?.sampled === '1' ? true : parsed?.sampled === '0' ? false : undefined;
    return {
      root: parsed?.root ?? this.#newRoot(),
      parent: this.#ids.hex(8),
      ...(parsed?.parent === undefined ? {} : { caller: parsed.parent }),
      sampled: decided ?? (mode === 'Active' && this.#sample()),
      rest: parsed?.rest ?? [],
    };
  }

  #newRoot(): string {
    const epoch = Math.floor(this.#clock.now() / 1000).toString(16).padStart(8, '0');
    return `1-${epoch}-${this.#ids.hex(12)}`;
  }

  /** X-Ray's default sampling rule: a reservoir of one request per second, then a fixed rate of 5 %. */
  #sample(): boolean {
    const second = Math.floor(this.#clock.now() / 1000);
    if (second !== this.#reservoirSecond) {
      this.#reservoirSecond = second;
      return true;
    }
    return this.#random() < DEFAULT_RULE_RATE;
  }
}
