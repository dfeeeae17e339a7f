/** `lambdad <operation>` as a user runs it: the real CLI in a child process, against a real daemon. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';

const MAIN = fileURLToPath(new URL('../../dist/daemon/main.js', import.meta.url));
const BEHAVIOURS = join(FIXTURES, 'behaviours');

let daemon: TestDaemon;
let cwd: string;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `lambdad <args>` in the working directory, with only PATH in its environment. */
function lambdad(args: string[], options: { endpoint?: boolean } = {}): Promise<Run> {
  const endpoint = options.endpoint === false ? [] : ['--endpoint-url', daemon.daemon.url];
  const child = spawn(process.execPath, [MAIN, ...args, ...endpoint], { cwd, env: { PATH: process.env.PATH ?? '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** Runs a command that must succeed; resolves with its JSON output. */
async function ok(args: string[]): Promise<any> {
  const run = await lambdad(args);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return run.stdout === '' ? undefined : JSON.parse(run.stdout);
}

const ECHO = 'exports.handler = async (event) => event;\nexports.context = async (event, context) => context.clientContext;\n';

function echoZip(source = ECHO): Uint8Array {
  return zipSync({ 'index.js': new TextEncoder().encode(source) }, { mtime: new Date(2020, 0, 1) });
}

/** A function of the behaviours fixtures, whose code is sent as a directory. */
function createFromDirectory(name: string, handler: string, extra: string[] = []): Promise<any> {
  return ok(['create-function', '--function-name', name, '--runtime', 'nodejs20.x', '--role', ROLE, '--handler', handler, '--code', BEHAVIOURS, ...extra]);
}

beforeAll(async () => {
  daemon = await startDaemon();
  cwd = mkdtempSync(join(tmpdir(), 'lambdad-cli-'));
});

afterAll(async () => {
  await daemon.stop();
  rmSync(cwd, { recursive: true, force: true });
});

describe('help', () => {
  it('lists the operations at the top level and the parameters of each operation', async () => {
    const top = await lambdad(['--help'], { endpoint: false });
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('usage: lambdad start [options]');
    for (const operation of ['create-function', 'invoke', 'create-alias', 'list-versions-by-function', 'logs tail']) expect(top.stdout).toContain(`  ${operation} `);
    const invoke = await lambdad(['invoke', '--help'], { endpoint: false });
    expect(invoke.code).toBe(0);
    expect(invoke.stdout).toMatch(/^usage: lambdad invoke --function-name <string> .*\[--log-type <string>\].* <outfile>$/m);
    expect(invoke.stdout).toMatch(/--client-context <string> +client context JSON, base64/);
    expect(invoke.stdout).toContain('--endpoint-url');
  });
});

describe('functions', () => {
  it('creates a function from a zip file, with the shorthand environment, as the AWS CLI prints it', async () => {
    const zip = echoZip();
    writeFileSync(join(cwd, 'my-function.zip'), zip);
    const run = await lambdad([
      'create-function', '--function-name', 'my-function', '--runtime', 'nodejs20.x', '--role', ROLE, '--handler', 'index.handler',
      '--zip-file', 'fileb://my-function.zip', '--memory-size', '256', '--timeout', '5', '--description', 'echo',
      '--environment', 'Variables={GREETING=hello,COLOUR=blue green}',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\{\n {4}"FunctionName": "my-function",\n/);
    const created = JSON.parse(run.stdout);
    expect(created).toMatchObject({
      FunctionName: 'my-function',
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 5,
      Description: 'echo',
      Version: '$LATEST',
      CodeSha256: createHash('sha256').update(zip).digest('base64'),
      Environment: { Variables: { GREETING: 'hello', COLOUR: 'blue green' } },
    });
  });

  it('creates a function from a directory with --code and --publish, and reads it back', async () => {
    const created = await createFromDirectory('from-dir', 'counter.handler', ['--publish', '--environment', '{"Variables":{"MODE":"json"}}']);
    expect(created).toMatchObject({ FunctionName: 'from-dir', Version: '1', Environment: { Variables: { MODE: 'json' } } });
    const latest = await ok(['get-function-configuration', '--function-name', 'from-dir']);
    expect(latest).toMatchObject({ Version: '$LATEST', CodeSha256: created.CodeSha256 });
    const first = await ok(['get-function-configuration', '--function-name', 'from-dir', '--qualifier', '1', '--codec', 'protobuf']);
    expect(first).toMatchObject({ Version: '1', FunctionArn: expect.stringMatching(/:function:from-dir:1$/) });
  });

  it('publishes a version after each code update, and none when nothing changed', async () => {
    writeFileSync(join(cwd, 'v1.zip'), echoZip());
    const created = await ok(['create-function', '--function-name', 'MyFunction', '--runtime', 'nodejs20.x', '--role', ROLE, '--handler', 'index.handler', '--zip-file', 'fileb://v1.zip']);
    expect((await ok(['publish-version', '--function-name', 'MyFunction', '--description', 'first'])).Version).toBe('1');
    // A relative --code is sent as the absolute path of the directory.
    mkdirSync(join(cwd, 'v2'));
    writeFileSync(join(cwd, 'v2', 'index.js'), `${ECHO}// v2\n`);
    const updated = await ok(['update-function-code', '--function-name', 'MyFunction', '--code', 'v2', '--revision-id', created.RevisionId]);
    expect(updated.CodeSha256).not.toBe(created.CodeSha256);
    const second = await ok(['publish-version', '--function-name', 'MyFunction', '--code-sha256', updated.CodeSha256]);
    expect(second).toMatchObject({ Version: '2', CodeSha256: updated.CodeSha256, FunctionArn: expect.stringMatching(/:function:MyFunction:2$/) });
    expect((await ok(['publish-version', '--function-name', 'MyFunction'])).Version).toBe('2');
    const { Versions } = await ok(['list-versions-by-function', '--function-name', 'MyFunction']);
    expect(Versions.map((version: { Version: string }) => version.Version)).toEqual(['$LATEST', '1', '2']);
  });

  it('changes the configuration, and pages through list-functions with --max-items and --marker', async () => {
    const updated = await ok(['update-function-configuration', '--function-name', 'from-dir', '--memory-size', '512', '--environment', 'Variables={}']);
    expect(updated).toMatchObject({ MemorySize: 512 });
    expect(updated.Environment?.Variables ?? {}).toEqual({});
    const all = await ok(['list-functions']);
    const names = all.Functions.map((fn: { FunctionName: string }) => fn.FunctionName);
    expect(names).toEqual(expect.arrayContaining(['my-function', 'from-dir', 'MyFunction']));
    expect(all.NextToken).toBeUndefined();
    const first = await ok(['list-functions', '--max-items', '1']);
    expect(first.Functions).toHaveLength(1);
    expect(first.NextToken).toEqual(expect.any(String));
    const rest = await ok(['list-functions', '--starting-token', first.NextToken]);
    expect(await ok(['list-functions', '--marker', first.NextToken])).toEqual(rest);
    expect([...first.Functions, ...rest.Functions].map((fn: { FunctionName: string }) => fn.FunctionName)).toEqual(names);
  });
});

describe('aliases', () => {
  it('creates the seed alias with the shorthand routing config, in each way the shell may pass it', async () => {
    // `AdditionalVersionWeights={"2"=0.02}` typed in a shell arrives without its quotes.
    const alias = await ok(['create-alias', '--name', 'MyAlias', '--function-name', 'MyFunction', '--function-version', '1', '--routing-config', 'AdditionalVersionWeights={2=0.02}']);
    expect(alias).toMatchObject({ Name: 'MyAlias', FunctionVersion: '1', AliasArn: expect.stringMatching(/:function:MyFunction:MyAlias$/), RoutingConfig: { AdditionalVersionWeights: { '2': 0.02 } } });
    const quoted = await ok(['create-alias', '--name', 'Quoted', '--function-name', 'MyFunction', '--function-version', '1', '--routing-config', 'AdditionalVersionWeights={"2"=0.5}']);
    expect(quoted.RoutingConfig).toEqual({ AdditionalVersionWeights: { '2': 0.5 } });
    const json = await ok(['update-alias', '--name', 'Quoted', '--function-name', 'MyFunction', '--routing-config', '{"AdditionalVersionWeights":{"2":0.25}}']);
    expect(json.RoutingConfig).toEqual({ AdditionalVersionWeights: { '2': 0.25 } });
  });

  it('clears the routing with AdditionalVersionWeights={}, lists and deletes aliases', async () => {
    const cleared = await ok(['update-alias', '--name', 'MyAlias', '--function-name', 'MyFunction', '--routing-config', 'AdditionalVersionWeights={}', '--description', 'one version']);
    expect(cleared.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    const read = await ok(['get-alias', '--name', 'MyAlias', '--function-name', 'MyFunction']);
    expect(read).toMatchObject({ Description: 'one version', RevisionId: cleared.RevisionId });
    expect(read.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    expect((await ok(['list-aliases', '--function-name', 'MyFunction'])).Aliases.map((a: { Name: string }) => a.Name)).toEqual(['MyAlias', 'Quoted']);
    expect(await ok(['delete-alias', '--name', 'Quoted', '--function-name', 'MyFunction'])).toBeUndefined();
    expect((await ok(['list-aliases', '--function-name', 'MyFunction', '--function-version', '1'])).Aliases).toHaveLength(1);
  });
});

describe('invoke', () => {
  it('runs the seed command: the result goes to the outfile, the status to stdout', async () => {
    const run = await lambdad(['invoke', '--function-name', 'my-function', '--payload', '{ "key": "value" }', 'response.json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{\n    "StatusCode": 200,\n    "ExecutedVersion": "$LATEST"\n}\n');
    expect(readFileSync(join(cwd, 'response.json'), 'utf8')).toBe('{"key":"value"}');
  });

  it('takes payloads from files, an alias qualifier, a client context and the raw-in-base64-out flag', async () => {
    writeFileSync(join(cwd, 'event.json'), '{"from":"file"}');
    const status = await ok(['invoke', '--function-name', 'MyFunction', '--qualifier', 'MyAlias', '--payload', 'file://event.json', '--cli-binary-format', 'raw-in-base64-out', 'out.json']);
    expect(status).toEqual({ StatusCode: 200, ExecutedVersion: '1' });
    expect(JSON.parse(readFileSync(join(cwd, 'out.json'), 'utf8'))).toEqual({ from: 'file' });
    const clientContext = Buffer.from(JSON.stringify({ custom: { tenant: 'a' } })).toString('base64');
    await ok(['update-function-configuration', '--function-name', 'my-function', '--handler', 'index.context']);
    await ok(['invoke', '--function-name', 'my-function', '--client-context', clientContext, 'context.json']);
    expect(JSON.parse(readFileSync(join(cwd, 'context.json'), 'utf8'))).toMatchObject({ custom: { tenant: 'a' } });
    expect(await ok(['invoke', '--function-name', 'my-function', '--invocation-type', 'DryRun', 'dry.json'])).toEqual({ StatusCode: 204 });
  });

  it('returns the log tail with --log-type Tail, and FunctionError for a failing handler', async () => {
    await createFromDirectory('logger', 'logs.handler');
    const status = await ok(['invoke', '--function-name', 'logger', '--payload', '{"name":"Ada"}', '--log-type', 'Tail', 'out.json']);
    expect(status).toMatchObject({ StatusCode: 200, ExecutedVersion: '$LATEST' });
    const log = Buffer.from(status.LogResult, 'base64').toString('utf8');
    expect(log).toMatch(/^START RequestId: \S+ Version: \$LATEST$/m);
    expect(log).toMatch(/\tINFO\thello { from: 'Ada' }\n/);
    expect(log).toMatch(/\nREPORT RequestId: \S+\tDuration: /);

    await createFromDirectory('thrower', 'failures.thrower');
    const failed = await ok(['invoke', '--function-name', 'thrower', 'error.json']);
    expect(failed).toEqual({ StatusCode: 200, FunctionError: 'Unhandled', ExecutedVersion: '$LATEST' });
    expect(JSON.parse(readFileSync(join(cwd, 'error.json'), 'utf8'))).toMatchObject({ errorType: 'TypeError', errorMessage: 'the event was not what I expected' });
  });
});

describe('logs', () => {
  it('logs tail prints the messages of the recent events, get-log-events returns them', async () => {
    const run = await lambdad(['logs', 'tail', '--function-name', 'logger']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\S+Z\tundefined\tINFO\tloading module$/);
    expect(lines).toContainEqual(expect.stringMatching(/^START RequestId: \S+ Version: \$LATEST$/));
    expect(lines.at(-1)).toMatch(/^REPORT RequestId: \S+\tDuration: /);
    const { Events } = await ok(['get-log-events', '--function-name', 'logger', '--limit', '2']);
    expect(Events).toHaveLength(2);
    expect(Events[0]).toMatchObject({ LogGroupName: '/aws/lambda/logger', LogStreamName: expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/) });
  });

  it('logs tail --follow prints new events until SIGINT, then exits 130', async () => {
    const child = spawn(process.execPath, [MAIN, 'logs', 'tail', '--function-name', 'logger', '--follow', '--since', '1s', '--endpoint-url', daemon.daemon.url], {
      cwd,
      env: { PATH: process.env.PATH ?? '' },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const status = await ok(['invoke', '--function-name', 'logger', '--payload', '{"name":"Bo"}', 'out.json']);
    expect(status.StatusCode).toBe(200);
    await expect.poll(() => stdout, { timeout: 10_000 }).toMatch(/\tINFO\thello { from: 'Bo' }\n[\s\S]*REPORT RequestId: /);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stdout.match(/hello \{ from: 'Bo' \}/g)).toHaveLength(1);
  });

  it('logs filter prints only the messages a filter pattern matches; logs tail --follow filters new ones too', async () => {
    const warnings = await lambdad(['logs', 'filter', '--function-name', 'logger', '--filter-pattern', 'WARN careful']);
    expect(warnings.code).toBe(0);
    const lines = warnings.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/\tWARN\tcareful$/);
    const either = (await lambdad(['logs', 'filter', '--function-name', 'logger', '--filter-pattern', '?careful ?broken -WARN'])).stdout.trimEnd().split('\n');
    for (const line of either) expect(line).toMatch(/\tERROR\tbroken$/);
    const phrase = (await lambdad(['logs', 'filter', '--function-name', 'logger', '--filter-pattern', '"raw line"'])).stdout.trimEnd().split('\n');
    expect(phrase.every((line) => line.includes('raw line'))).toBe(true);
    const json = await lambdad(['logs', 'filter', '--function-name', 'logger', '--filter-pattern', '{ $.level = "ERROR" }']);
    expect(json.code).toBe(254);
    expect(json.stderr).toContain('InvalidParameterValueException');

    const child = spawn(process.execPath, [MAIN, 'logs', 'tail', '--function-name', 'logger', '--follow', '--since', '1s', '--filter-pattern', 'hello', '--endpoint-url', daemon.daemon.url], {
      cwd,
      env: { PATH: process.env.PATH ?? '' },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    await ok(['invoke', '--function-name', 'logger', '--payload', '{"name":"Cy"}', 'out.json']);
    await expect.poll(() => stdout, { timeout: 10_000 }).toMatch(/\tINFO\thello { from: 'Cy' }\n/);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stdout).not.toMatch(/REPORT RequestId|careful/);
  });
});

describe('concurrency', () => {
  it('reserves concurrency, shows the account, provisions an alias and shows where to download the code', async () => {
    await createFromDirectory('reserved', 'provisioned.handler', ['--publish']);
    expect(await ok(['put-function-concurrency', '--function-name', 'reserved', '--reserved-concurrent-executions', '100'])).toEqual({ ReservedConcurrentExecutions: 100 });
    expect(await ok(['get-function-concurrency', '--function-name', 'reserved', '--codec', 'protobuf'])).toEqual({ ReservedConcurrentExecutions: 100 });
    expect((await ok(['get-account-settings'])).AccountLimit).toMatchObject({ ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 900 });

    await ok(['create-alias', '--function-name', 'reserved', '--name', 'live', '--function-version', '1']);
    const put = await ok(['put-provisioned-concurrency-config', '--function-name', 'reserved', '--qualifier', 'live', '--provisioned-concurrent-executions', '1']);
    expect(put).toMatchObject({ RequestedProvisionedConcurrentExecutions: 1, Status: expect.stringMatching(/^(IN_PROGRESS|READY)$/) });
    const listed = await ok(['list-provisioned-concurrency-configs', '--function-name', 'reserved', '--codec', 'protobuf']);
    expect(listed.ProvisionedConcurrencyConfigs).toEqual([expect.objectContaining({ FunctionArn: expect.stringMatching(/:function:reserved:live$/), RequestedProvisionedConcurrentExecutions: 1 })]);
    expect((await lambdad(['delete-provisioned-concurrency-config', '--function-name', 'reserved', '--qualifier', 'live'])).code).toBe(0);
    const missing = await lambdad(['get-provisioned-concurrency-config', '--function-name', 'reserved', '--qualifier', 'live']);
    expect(missing.code).toBe(254);
    expect(missing.stderr).toContain('An error occurred (ProvisionedConcurrencyConfigNotFoundException) when calling the GetProvisionedConcurrencyConfig operation');

    const details = await ok(['get-function', '--function-name', 'reserved']);
    expect(details.Concurrency).toEqual({ ReservedConcurrentExecutions: 100 });
    expect((await fetch(details.Code.Location)).status).toBe(200);
    expect((await lambdad(['delete-function-concurrency', '--function-name', 'reserved'])).code).toBe(0);
    // As the AWS CLI: an empty answer prints nothing.
    expect(await ok(['get-function-concurrency', '--function-name', 'reserved'])).toBeUndefined();
  });
});

describe('asynchronous invocation and queues', () => {
  it('queues an Event invoke whose success record reaches a queue, read and deleted from the CLI', async () => {
    const queue = await ok(['create-queue', '--queue-name', 'cli-outcomes', '--visibility-timeout', '5']);
    expect(queue).toMatchObject({ QueueName: 'cli-outcomes', QueueArn: 'arn:aws:sqs:us-east-1:000000000000:cli-outcomes', VisibilityTimeout: 5 });
    await createFromDirectory('cli-async', 'counter.handler');
    const config = await ok(['put-function-event-invoke-config', '--function-name', 'cli-async', '--maximum-retry-attempts', '0', '--destination-config', `OnSuccess={Destination=${queue.QueueArn}}`]);
    expect(config).toMatchObject({ MaximumRetryAttempts: 0, DestinationConfig: { OnSuccess: { Destination: queue.QueueArn } } });
    expect((await ok(['list-function-event-invoke-configs', '--function-name', 'cli-async'])).FunctionEventInvokeConfigs).toHaveLength(1);

    expect(await ok(['invoke', '--function-name', 'cli-async', '--invocation-type', 'Event', '--payload', '{"from":"cli"}', 'event.json'])).toEqual({ StatusCode: 202 });
    let received: any;
    const deadline = Date.now() + 15_000;
    do {
      received = await ok(['receive-message', '--queue-name', queue.QueueArn, '--codec', 'protobuf']);
    } while ((received.Messages ?? []).length === 0 && Date.now() < deadline);
    const [message] = received.Messages;
    expect(JSON.parse(message.Body)).toMatchObject({ requestContext: { condition: 'Success' }, requestPayload: { from: 'cli' }, responsePayload: { count: 1 } });
    expect(message.Attributes.ApproximateReceiveCount).toBe('1');
    expect((await lambdad(['delete-message', '--queue-name', 'cli-outcomes', '--receipt-handle', message.ReceiptHandle])).code).toBe(0);
    const sent = await ok(['send-message', '--queue-name', 'cli-outcomes', '--message-body', 'by hand']);
    expect(sent.MD5OfMessageBody).toBe(createHash('md5').update('by hand').digest('hex'));
    expect((await ok(['list-queues'])).Queues.map((q: { QueueName: string }) => q.QueueName)).toContain('cli-outcomes');
    expect((await lambdad(['delete-function-event-invoke-config', '--function-name', 'cli-async'])).code).toBe(0);
    expect((await lambdad(['delete-queue', '--queue-name', 'cli-outcomes'])).code).toBe(0);
  });
});

describe('errors', () => {
  it('prints a service error as the AWS CLI does, with exit code 254', async () => {
    const run = await lambdad(['get-function-configuration', '--function-name', 'nope']);
    expect(run.code).toBe(254);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('An error occurred (ResourceNotFoundException) when calling the GetFunctionConfiguration operation: Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope\n');
    const invoke = await lambdad(['invoke', '--function-name', 'nope', 'out.json']);
    expect(invoke.code).toBe(254);
    expect(invoke.stderr).toMatch(/^An error occurred \(ResourceNotFoundException\) when calling the Invoke operation: /);
  });

  it('refuses a bad command line with a message naming the flag, and exit code 252', async () => {
    const cases: [string[], string][] = [
      [['create-function', '--function-name', 'x'], 'lambdad: error: the following arguments are required: --role, --handler, --runtime'],
      [['invoke', '--function-name', 'x'], 'lambdad: error: the following arguments are required: outfile'],
      [['get-alias', '--function-name', 'x', '--name', 'a', '--colour', 'blue'], 'lambdad: error: Unknown options: --colour'],
      [['get-alias', '--function-name', '--name', 'a'], 'lambdad: error: argument --function-name: expected one argument'],
      [['update-function-configuration', '--function-name', 'x', '--timeout', 'soon'], "Error parsing parameter '--timeout': expected an integer, got 'soon'"],
      [['update-function-configuration', '--function-name', 'x', '--environment', 'Variables={A=1'], "Error parsing parameter '--environment': Expected: '}', received: 'EOF'"],
      [['update-alias', '--function-name', 'x', '--name', 'a', '--routing-config', 'AdditionalVersionWeights={2=lots}'], "Error parsing parameter '--routing-config': Invalid type for parameter RoutingConfig.AdditionalVersionWeights.2"],
      [['create-function', '--function-name', 'x', '--runtime', 'r', '--role', 'r', '--handler', 'h', '--zip-file', 'fileb://missing.zip'], "Error parsing parameter '--zip-file': Unable to load paramfile fileb://missing.zip"],
      [['list-functions', '--output', 'text'], "lambdad: error: argument --output: Invalid choice 'text', valid choices are: json"],
      [['frobnicate'], "lambdad: error: argument operation: Invalid choice 'frobnicate'"],
    ];
    const runs = await Promise.all(cases.map(([args]) => lambdad(args)));
    runs.forEach((run, index) => {
      expect(run.code, cases[index]![0].join(' ')).toBe(252);
      expect(run.stderr).toContain(cases[index]![1]);
    });
  });

  it('says when it cannot reach the daemon (exit code 255)', async () => {
    const run = await lambdad(['list-functions', '--endpoint-url', 'http://127.0.0.1:9'], { endpoint: false });
    expect(run.code).toBe(255);
    expect(run.stderr).toBe('Could not connect to the endpoint URL: "http://127.0.0.1:9"\n');
  });

  it('deletes a version, then the function; the next call is not found', async () => {
    expect(await ok(['delete-function', '--function-name', 'from-dir', '--qualifier', '1'])).toBeUndefined();
    expect(await ok(['delete-function', '--function-name', 'from-dir'])).toBeUndefined();
    expect((await lambdad(['get-function-configuration', '--function-name', 'from-dir'])).code).toBe(254);
  });
});
