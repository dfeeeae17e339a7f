/** X-Ray trace headers: parsing and continuing the caller's, new roots, and the default sampling rule. */
import { describe, expect, it } from 'vitest';
import { formatTraceHeader, parseTraceHeader, TraceHeaders } from '../../dist/daemon/observability/trace-header.js';

const HEADER = /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01](;.+)?$/;

function headers(nowMs: number, draws: number[] = []): TraceHeaders {
  let n = 0;
  const ids = { uuid: () => 'unused', hex: (bytes: number) => (n++).toString(16).padStart(bytes * 2, '0') };
  return new TraceHeaders({ now: () => nowMs }, ids, () => draws.shift() ?? 1);
}

describe('trace headers', () => {
  it("continues the caller's Root, its decision, its Lineage and unknown pairs, under a new Parent", () => {
    const incoming = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:0;Self=x';
    const header = formatTraceHeader(headers(0).forInvocation(incoming, 'PassThrough'));
    expect(header).toMatch(HEADER);
    expect(header).toBe('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000;Sampled=1;Lineage=a87bd80c:0;Self=x');
    expect(parseTraceHeader('Root=not-a-root;Sampled=1')).toBeNull();
  });

  it('starts a new Root from the time when none came in; PassThrough does not sample it', () => {
    const header = formatTraceHeader(headers(Date.UTC(2016, 5, 9, 21, 46, 16)).forInvocation(undefined, 'PassThrough'));
    expect(header).toMatch(/^Root=1-5759e.{3}-0{24};Parent=0{15}1;Sampled=0$/);
  });

  it('samples Active invocations with the default rule: the first each second, then 5 %', () => {
    const traces = headers(10_000, [0.5, 0.01, 0.9]);
    expect([1, 2, 3, 4].map(() => traces.forInvocation(undefined, 'Active').sampled)).toEqual([true, false, true, false]);
    expect(traces.forInvocation('Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0', 'Active').sampled).toBe(false);
    expect(traces.forInvocation('Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?', 'Active').sampled).toBe(false);
  });
});
