/**
 * `xray get-trace-summaries` and `xray batch-get-traces`, as `aws xray` names them, against lambdad's collector.
 * Times are epoch seconds, a date, or a duration back from now (`30s`, `10m`, `2h`, `1d`); summaries are read
 * page after page, as the AWS CLI does.
 */
import type { LambdadClient, Operations } from '../node/index.js';
import { UsageError } from './args.js';

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 };

/** Epoch seconds of a --start-time/--end-time value. */
function epochSeconds(value: string, flag: string, nowSeconds: number): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const relative = /^(\d+)([smhdw])$/.exec(value);
  if (relative !== null) return nowSeconds - Number(relative[1]) * UNIT_SECONDS[relative[2]!]!;
  const date = Date.parse(value);
  if (Number.isNaN(date)) throw new UsageError(`Error parsing parameter '--${flag}': expected epoch seconds, a date or a duration such as 10m, got '${value}'`, false);
  return date / 1000;
}

type Summaries = Operations['GetTraceSummaries']['output'];

export async function getTraceSummaries(client: LambdadClient, input: Record<string, unknown>): Promise<Summaries> {
  const now = Date.now() / 1000;
  const StartTime = epochSeconds((input.StartTime as string | undefined) ?? '1h', 'start-time', now);
  const EndTime = input.EndTime === undefined ? now : epochSeconds(input.EndTime as string, 'end-time', now);
  const summaries: Summaries['TraceSummaries'] = [];
  let page: Summaries;
  let NextToken: string | undefined;
  do {
    page = await client.getTraceSummaries({ StartTime, EndTime, ...(NextToken === undefined ? {} : { NextToken }) });
    summaries.push(...(page.TraceSummaries ?? []));
    NextToken = page.NextToken;
  } while (NextToken !== undefined);
  return { TraceSummaries: summaries, ApproximateTime: page.ApproximateTime, TracesProcessedCount: page.TracesProcessedCount };
}
