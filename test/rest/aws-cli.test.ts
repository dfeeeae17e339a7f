/**
 * The AWS CLI v2 (Debian's `awscli`, at /usr/bin/aws) against a real daemon, with the credentials that
 * `lambdad credentials --env` prints and `--endpoint-url`: the commands of the Lambda docs, unchanged.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { zipOf } from '../helpers/zip.js';
import { strToU8, zipSync } from 'fflate';

const run = promisify(execFile);
const AWS = '/usr/bin/aws';
const MAIN = new URL('../../dist/daemon/main.js', import.meta.url).pathname;
// CI installs Debian's awscli and sets LAMBDAD_REQUIRE_AWS_CLI=1, so there the test cannot be skipped; a
// developer machine without the AWS CLI skips it.
const available = existsSync(AWS) || process.env['LAMBDAD_REQUIRE_AWS_CLI'] === '1';

const HANDLER = `exports.handler = async (event, context) => ({ received: event, version: context.functionVersion });`;

describe.skipIf(!available)('the AWS CLI v2 against lambdad', () => {
  let harness: TestDaemon;
  let work: string;
  let env: NodeJS.ProcessEnv;

  /**
   * `aws lambda <command>` typed as a shell line, exactly as the docs print it (the shell strips the quotes
   * of `{"2"=0.02}`), with --endpoint-url; stdout parsed as JSON when there is any.
   */
  async function aws(command: string, service: 'lambda' | 'xray' = 'lambda'): Promise<any> {
    const line = `${AWS} ${service} ${command} --endpoint-url ${harness.daemon.url} --output json`;
    const { stdout } = await run('/bin/sh', ['-c', line], { env, cwd: work, timeout: 30_000 });
    return stdout.trim() === '' ? null : JSON.parse(stdout);
  }

  beforeAll(async () => {
    harness = await startDaemon({ auth: 'sigv4' });
    work = mkdtempSync(join(tmpdir(), 'lambdad-awscli-'));
    const { port } = new URL(harness.daemon.url);
    const { stdout } = await run(process.execPath, [MAIN, 'credentials', '--env', '--data-dir', harness.dataDir, '--port', port]);
    const printed = Object.fromEntries(stdout.trim().split('\n').map((line) => /^export (\w+)=(.*)$/.exec(line)!.slice(1, 3) as [string, string]));
    // Only what `lambdad credentials --env` printed, plus PATH and HOME: no profile of the machine leaks in.
    env = { PATH: process.env['PATH'], HOME: work, AWS_CONFIG_FILE: join(work, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(work, 'none'), AWS_PAGER: '', ...printed };
    writeFileSync(join(work, 'function.zip'), zipOf(HANDLER));
    writeFileSync(join(work, 'function-v2.zip'), zipOf(HANDLER, '// v2'));
  });
  afterAll(async () => {
    await harness.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs the documented commands: create, publish twice, weighted alias, update alias, invoke', async () => {
    const created = await aws(`create-function --function-name MyFunction --runtime nodejs20.x --handler index.handler --role arn:aws:iam::000000000000:role/lambda-role --zip-file fileb://function.zip`);
    expect(created).toMatchObject({ FunctionName: 'MyFunction', FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:MyFunction', Version: '$LATEST', State: 'Pending' });

    expect(await aws(`publish-version --function-name MyFunction`)).toMatchObject({ Version: '1' });
    await aws(`update-function-code --function-name MyFunction --zip-file fileb://function-v2.zip`);
    expect(await aws(`publish-version --function-name MyFunction`)).toMatchObject({ Version: '2' });

    const alias = await aws(`create-alias --name MyAlias --function-name MyFunction --function-version 1 --routing-config AdditionalVersionWeights={"2"=0.02}`);
    expect(alias).toMatchObject({ Name: 'MyAlias', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.02 } } });

    const updated = await aws(`update-alias --name MyAlias --function-name MyFunction --function-version 2 --routing-config AdditionalVersionWeights={}`);
    expect(updated.FunctionVersion).toBe('2');
    expect(updated.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});

    const invoked = await aws(`invoke --function-name MyFunction --cli-binary-format raw-in-base64-out --payload '{ "key": "value" }' response.json`);
    expect(invoked).toEqual({ StatusCode: 200, ExecutedVersion: '$LATEST' });
    expect(JSON.parse(readFileSync(join(work, 'response.json'), 'utf8'))).toEqual({ received: { key: 'value' }, version: '$LATEST' });

    const viaAlias = await aws(`invoke --function-name MyFunction --qualifier MyAlias --cli-binary-format raw-in-base64-out --payload '{}' alias.json`);
    expect(viaAlias).toEqual({ StatusCode: 200, ExecutedVersion: '2' });

    expect(await aws(`put-function-concurrency --function-name MyFunction --reserved-concurrent-executions 100`)).toEqual({ ReservedConcurrentExecutions: 100 });
    expect((await aws(`get-account-settings`)).AccountLimit).toMatchObject({ ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 900 });
  });

  it('queues an Event invoke (202) and runs it; configures where its outcome goes', async () => {
    harness.daemon.service.createQueue('outcomes');
    const config = await aws(`put-function-event-invoke-config --function-name MyFunction --maximum-retry-attempts 1 --destination-config OnSuccess={Destination=arn:aws:sqs:us-east-1:000000000000:outcomes}`);
    expect(config).toMatchObject({ FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:MyFunction:$LATEST', MaximumRetryAttempts: 1, DestinationConfig: { OnSuccess: { Destination: 'arn:aws:sqs:us-east-1:000000000000:outcomes' } } });
    const queued = await aws(`invoke --function-name MyFunction --invocation-type Event --cli-binary-format raw-in-base64-out --payload '{ "key": "value" }' event.json`);
    expect(queued).toEqual({ StatusCode: 202 });
    expect(readFileSync(join(work, 'event.json'), 'utf8')).toBe('');
    const deadline = Date.now() + 15_000;
    let messages = harness.daemon.service.receiveMessages('outcomes', 1);
    while (messages.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      messages = harness.daemon.service.receiveMessages('outcomes', 1);
    }
    expect(JSON.parse(messages[0]!.Body)).toMatchObject({ requestContext: { condition: 'Success' }, requestPayload: { key: 'value' }, responsePayload: { received: { key: 'value' } } });
  });

  it('publishes a layer and creates a function that requires its module (publish-layer-version, create-function --layers)', async () => {
    writeFileSync(join(work, 'layer.zip'), zipSync({ 'nodejs/node_modules/greeting/index.js': strToU8('module.exports = "hello from the layer";\n') }));
    writeFileSync(join(work, 'uses-layer.zip'), zipOf(`exports.handler = async () => require('greeting');`));
    const layer = await aws(`publish-layer-version --layer-name my-layer --zip-file fileb://layer.zip --compatible-runtimes nodejs20.x nodejs22.x --compatible-architectures x86_64`);
    expect(layer).toMatchObject({ LayerArn: 'arn:aws:lambda:us-east-1:000000000000:layer:my-layer', LayerVersionArn: 'arn:aws:lambda:us-east-1:000000000000:layer:my-layer:1', Version: 1, CompatibleRuntimes: ['nodejs20.x', 'nodejs22.x'], Content: { CodeSize: expect.any(Number), Location: expect.stringMatching(/^http/) } });
    const created = await aws(`create-function --function-name UsesLayer --runtime nodejs20.x --handler index.handler --role arn:aws:iam::000000000000:role/lambda-role --zip-file fileb://uses-layer.zip --layers ${layer.LayerVersionArn}`);
    expect(created.Layers).toEqual([{ Arn: layer.LayerVersionArn, CodeSize: layer.Content.CodeSize }]);
    await aws(`invoke --function-name UsesLayer layer-out.json`);
    expect(JSON.parse(readFileSync(join(work, 'layer-out.json'), 'utf8'))).toBe('hello from the layer');
    expect((await aws(`get-layer-version --layer-name my-layer --version-number 1`)).LayerVersionArn).toBe(layer.LayerVersionArn);
    expect((await aws(`get-layer-version-by-arn --arn ${layer.LayerVersionArn}`)).Version).toBe(1);
    expect((await aws(`list-layers --compatible-runtime nodejs22.x`)).Layers.map((l: { LayerName: string }) => l.LayerName)).toContain('my-layer');
    expect((await aws(`list-layer-versions --layer-name my-layer`)).LayerVersions).toHaveLength(1);
    const six = `${layer.LayerVersionArn} `.repeat(6);
    const refused = await aws(`update-function-configuration --function-name UsesLayer --layers ${six}`).catch((error: { stderr: string }) => error);
    expect(refused.stderr).toContain('An error occurred (InvalidParameterValueException) when calling the UpdateFunctionConfiguration operation: Cannot reference more than 5 layers.');
    expect(await aws(`delete-layer-version --layer-name my-layer --version-number 1`)).toBeNull();
  });

  it('refuses --vpc-config when the role may not create network interfaces, with the spec error', async () => {
    harness.daemon.service.putNetwork({
      Vpcs: [{ VpcId: 'vpc-0a1b2c3d', CidrBlock: '10.0.0.0/16' }],
      Subnets: [{ SubnetId: 'subnet-0a1b2c3d', VpcId: 'vpc-0a1b2c3d', CidrBlock: '10.0.1.0/24' }],
      SecurityGroups: [{ GroupId: 'sg-0a1b2c3d', VpcId: 'vpc-0a1b2c3d' }],
    });
    const basic = harness.daemon.service.putRole('lambda-basic', ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']);
    const vpcRole = harness.daemon.service.putRole('lambda-vpc', ['arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']);
    const command = (role: string, name: string): string =>
      `create-function --function-name ${name} --runtime nodejs20.x --handler index.handler --role ${role} --zip-file fileb://function.zip --vpc-config SubnetIds=subnet-0a1b2c3d,SecurityGroupIds=sg-0a1b2c3d`;
    const refused = await aws(command(basic.Arn, 'InVpcRefused')).catch((error: { code: number; stderr: string }) => error);
    expect(refused.code).toBe(254);
    expect(refused.stderr).toContain('An error occurred (InvalidParameterValueException) when calling the CreateFunction operation: The provided execution role does not have permissions to call CreateNetworkInterface on EC2');
    const created = await aws(command(vpcRole.Arn, 'InVpc'));
    // (AWS CLI 2.9's model predates Ipv6AllowedForDualStack, so it does not print it.)
    expect(created.VpcConfig).toMatchObject({ SubnetIds: ['subnet-0a1b2c3d'], SecurityGroupIds: ['sg-0a1b2c3d'], VpcId: 'vpc-0a1b2c3d' });
  });

  it('reads traces with aws xray: get-trace-summaries and batch-get-traces', async () => {
    const root = `1-${Math.floor(Date.now() / 1000).toString(16)}-0123456789abcdef01234567`;
    await harness.daemon.service.invoke({ functionName: 'MyFunction', payload: new TextEncoder().encode('{}'), traceHeader: `Root=${root};Sampled=1` });
    const now = Math.floor(Date.now() / 1000);
    let summaries = await aws(`get-trace-summaries --start-time ${now - 60} --end-time ${now + 1}`, 'xray');
    for (let tries = 0; tries < 50 && !summaries.TraceSummaries.some((s: { Id: string }) => s.Id === root); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      summaries = await aws(`get-trace-summaries --start-time ${now - 60} --end-time ${now + 1}`, 'xray');
    }
    expect(summaries.TraceSummaries.find((s: { Id: string }) => s.Id === root)).toMatchObject({ HasFault: false, HasError: false });
    const traces = await aws(`batch-get-traces --trace-ids ${root}`, 'xray');
    const origins = traces.Traces[0].Segments.map((segment: { Document: string }) => JSON.parse(segment.Document).origin);
    expect(origins.sort()).toEqual(['AWS::Lambda', 'AWS::Lambda::Function']);
  });

  it('reports errors as the AWS CLI does, exit code 254', async () => {
    const failure = await aws(`get-function-configuration --function-name NoSuchFunction`).catch((error: { code: number; stderr: string }) => error);
    expect(failure.code).toBe(254);
    expect(failure.stderr).toContain('An error occurred (ResourceNotFoundException) when calling the GetFunctionConfiguration operation: Function not found: arn:aws:lambda:us-east-1:000000000000:function:NoSuchFunction');
  });
});
