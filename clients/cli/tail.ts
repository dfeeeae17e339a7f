/**
 * `logs tail`: as `aws logs tail` on the function's log group, the events since --since (10 minutes by
 * default), and with --follow every new one until SIGINT. Each event's message is printed on its own line.
 */
import type { LambdadClient, LogEvent } from '../node/index.js';
import { UsageError } from './args.js';

/** The command was stopped by SIGINT, which the AWS CLI answers with exit code 130. */
export class Interrupted extends Error {}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DEFAULT_SINCE = '10m';

/** Epoch milliseconds of `since`: a duration back from `now` (`30s`, `10m`, `2h`, `1d`, `1w`) or a date. */
function startTime(since: string, now: number): number {
  const relative = /^(\d+)([smhdw])$/.exec(since);
  if (relative !== null) return now - Number(relative[1]) * UNIT_MS[relative[2]!]!;
  const date = Date.parse(since);
  if (Number.isNaN(date)) throw new UsageError(`Error parsing parameter '--since': expected a duration such as 10m, 2h or 1d, or a date, got '${since}'`, false);
  return date;
}

function print(event: LogEvent): void {
  process.stdout.write(event.Message.endsWith('\n') ? event.Message : `${event.Message}\n`);
}

const keyOf = (event: LogEvent): string => `${event.LogStreamName}\n${event.Timestamp}\n${event.Message}`;

/** Stored events since --since, matching --filter-pattern when given. */
async function stored(client: LambdadClient, input: Record<string, unknown>): Promise<LogEvent[]> {
  const FilterPattern = input.FilterPattern as string | undefined;
  const request = {
    FunctionName: input.FunctionName as string,
    StartTime: startTime((input.Since as string | undefined) ?? DEFAULT_SINCE, Date.now()),
    ...(FilterPattern === undefined ? {} : { FilterPattern }),
  };
  return (await client.filterLogEvents(request)).Events ?? [];
}

/** `logs filter`: the stored events matching --filter-pattern, each message on its own line. */
export async function filter(client: LambdadClient, input: Record<string, unknown>): Promise<undefined> {
  (await stored(client, input)).forEach(print);
  return undefined;
}

export async function tail(client: LambdadClient, input: Record<string, unknown>): Promise<undefined> {
  const FunctionName = input.FunctionName as string;
  const FilterPattern = input.FilterPattern as string | undefined;
  if (input.Follow !== true) {
    (await stored(client, input)).forEach(print);
    return undefined;
  }

  // Subscribed before the stored events are read, so that nothing written in between is missed. What arrives
  // both ways is printed once: `unseen` counts the stored events not yet met among the pushed ones (counted,
  // so that identical lines stay distinct); pushes before the stored events are read wait in `early`.
  let unseen: Map<string, number> | null = null;
  const early: LogEvent[] = [];
  const onEvent = (event: LogEvent): void => {
    if (unseen === null) {
      early.push(event);
      return;
    }
    const key = keyOf(event);
    const count = unseen.get(key) ?? 0;
    if (count === 0) print(event);
    else if (count === 1) unseen.delete(key);
    else unseen.set(key, count - 1);
  };
  const subscription = await client.tailLogs(FunctionName, onEvent, FilterPattern === undefined ? {} : { filterPattern: FilterPattern });
  const interrupted = new Promise((resolve) => process.once('SIGINT', resolve));
  const counts = new Map<string, number>();
  for (const event of await stored(client, input)) {
    print(event);
    counts.set(keyOf(event), (counts.get(keyOf(event)) ?? 0) + 1);
  }
  unseen = counts;
  early.splice(0).forEach(onEvent);
  await interrupted;
  await subscription.stop();
  throw new Interrupted();
}
