/**
 * The normal client of the hostile-client benchmark (bench/hostile.ts), in its own process: signed no-op
 * Invokes, one at a time per kind, until stopped.
 * - `sdk`: the AWS SDK v3 (`@aws-sdk/client-lambda`) over HTTP, its usual keep-alive connection;
 * - `ws`: lambdad's own client (clients/node) over one WebSocket connection (msgpack, presigned upgrade);
 * - `newcomer`: the AWS SDK on a new TCP connection for every call, a few a second: a client arriving
 *   while the attack runs.
 * No retries: every refusal counts.
 */
import { Agent } from 'node:http';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { LambdadClient } from '../clients/node/index.js';
import { childSide, type Figures } from './hostile-child.js';
import { summarize } from './stats.js';

export interface NormalSettings {
  readonly url: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly functionName: string;
  /** A kind's next call starts this long after the previous one started (at once if that took longer). */
  readonly intervalMs: number;
  readonly newcomerIntervalMs: number;
  readonly warmUpCalls: number;
  /** A call unanswered this long failed. */
  readonly callTimeoutMs: number;
  /** Calls per kind at most, whatever the time. */
  readonly maxCalls: number;
}

const { settings, ready, onStop } = childSide<NormalSettings>();
// The AWS SDK's notice that it will need Node 22 in 2027, once per phase, says nothing about the run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const PAYLOAD = new TextEncoder().encode('{}');
/** Distinct failure messages printed per kind: enough to see what went wrong, not a flood. */
const PRINTED_FAILURES = 3;

const sdk = (keepAlive: boolean): LambdaClient =>
  new LambdaClient({
    endpoint: settings.url,
    region: 'us-east-1',
    credentials: settings.credentials,
    maxAttempts: 1,
    requestHandler: { requestTimeout: settings.callTimeoutMs, throwOnRequestTimeout: true, connectionTimeout: settings.callTimeoutMs, httpAgent: new Agent({ keepAlive, maxSockets: 1 }) },
  });
const keptAlive = sdk(true);
const newcomer = sdk(false);
const ws = await LambdadClient.connect({ url: settings.url, codec: 'msgpack', credentials: settings.credentials, invokeTimeoutMs: settings.callTimeoutMs });

const viaSdk = (client: LambdaClient) => async (): Promise<void> => {
  const output = await client.send(new InvokeCommand({ FunctionName: settings.functionName, Payload: PAYLOAD }));
  if (output.StatusCode !== 200 || output.FunctionError !== undefined) throw new Error(`Invoke answered ${output.StatusCode} ${output.FunctionError ?? ''}`);
};
const viaWs = async (): Promise<void> => {
  const output = await ws.invoke(settings.functionName, PAYLOAD);
  if (output.FunctionError !== undefined) throw new Error(`Invoke answered ${output.FunctionError}`);
};
const kinds = { sdk: { call: viaSdk(keptAlive), intervalMs: settings.intervalMs }, ws: { call: viaWs, intervalMs: settings.intervalMs }, newcomer: { call: viaSdk(newcomer), intervalMs: settings.newcomerIntervalMs } };

let stopping = false;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function loop(kind: string, call: () => Promise<void>, intervalMs: number, samples: number[]): Promise<number> {
  let failed = 0;
  const printed = new Set<string>();
  for (let calls = 0; !stopping && calls < settings.maxCalls; calls++) {
    const started = performance.now();
    try {
      await call();
      samples.push(performance.now() - started);
    } catch (error) {
      failed += 1;
      const message = `${(error as Error).name}: ${(error as Error).message}`.slice(0, 200);
      if (printed.size < PRINTED_FAILURES && !printed.has(message)) {
        printed.add(message);
        process.stderr.write(`normal client (${kind}) failed after ${Math.round(performance.now() - started)} ms: ${message}\n`);
      }
    }
    await sleep(intervalMs - (performance.now() - started));
  }
  return failed;
}

for (const { call } of Object.values(kinds)) for (let i = 0; i < settings.warmUpCalls; i++) await call();
const samples: Record<string, number[]> = {};
const loops = Object.entries(kinds).map(async ([kind, { call, intervalMs }]) => [kind, await loop(kind, call, intervalMs, (samples[kind] = []))] as const);
ready();

onStop(async () => {
  stopping = true;
  const failures = await Promise.all(loops);
  ws.close();
  keptAlive.destroy();
  newcomer.destroy();
  const figures: Figures = {};
  for (const [kind, failed] of failures) {
    const { p50, p99, n } = summarize(samples[kind]!);
    Object.assign(figures, { [`${kind}Calls`]: n + failed, [`${kind}Failed`]: failed, [`${kind}P50Ms`]: p50, [`${kind}P99Ms`]: p99, [`${kind}MaxMs`]: Math.max(0, ...samples[kind]!) });
  }
  return figures;
});
