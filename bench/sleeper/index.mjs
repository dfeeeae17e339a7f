// The scale benchmark's function: marks that it is running, then holds its context (awaiting timers) until
// the benchmark opens the gate (looking every 5 s).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const handler = async (event, context) => {
  writeFileSync(join(event.directory, context.awsRequestId), '');
  while (!existsSync(join(event.directory, 'gate'))) await new Promise((resolve) => setTimeout(resolve, 5_000));
  return {};
};
