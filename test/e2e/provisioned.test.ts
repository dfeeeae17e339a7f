/**
 * Provisioned concurrency end to end: contexts initialised ahead for an alias, IN_PROGRESS then READY, used
 * with no Init Duration, spill-over on demand; the configs through the AWS API with the AWS SDK.
 */
import {
  DeleteProvisionedConcurrencyConfigCommand,
  GetProvisionedConcurrencyConfigCommand,
  LambdaClient,
  ListProvisionedConcurrencyConfigsCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, FIXTURES, json, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';
const hasInitDuration = (log: string): boolean => /\tInit Duration: /.test(log);

describe('provisioned concurrency', () => {
  let harness: TestDaemon;
  let lambda: LambdaClient;

  beforeAll(async () => {
    harness = await startDaemon();
    lambda = new LambdaClient({ endpoint: harness.daemon.url, region: 'us-east-1', credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    lambda.destroy();
    await harness.stop();
  });

  function publishWithAlias(name: string): void {
    const service = harness.daemon.service;
    service.createFunction({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'provisioned.handler', Code: { Directory: `${FIXTURES}/behaviours` }, Timeout: 10 });
    service.publishVersion(name);
    service.createAlias(name, { Name: 'live', FunctionVersion: '1' });
  }

  async function untilReady(name: string): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const config = await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: 'live' }));
      if (config.Status !== 'IN_PROGRESS' || Date.now() > deadline) return config as unknown as Record<string, unknown>;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('initialises N contexts ahead: READY, no Init Duration, provisioned-concurrency; the N+1th concurrent call is on demand', async () => {
    publishWithAlias('warm-ahead');
    const put = await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'warm-ahead', Qualifier: 'live', ProvisionedConcurrentExecutions: 2 }));
    expect(put.$metadata.httpStatusCode).toBe(202);
    expect(put).toMatchObject({ RequestedProvisionedConcurrentExecutions: 2, Status: 'IN_PROGRESS' });
    expect(put.LastModified).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);

    expect(await untilReady('warm-ahead')).toMatchObject({ Status: 'READY', RequestedProvisionedConcurrentExecutions: 2, AvailableProvisionedConcurrentExecutions: 2, AllocatedProvisionedConcurrentExecutions: 2 });
    // The init ran when the contexts were provisioned: its log is already in the function's log group.
    const initLines = harness.daemon.service.getLogEvents({ logGroupName: '/aws/lambda/warm-ahead' }).filter((e) => e.message.includes('initialising'));
    expect(initLines).toHaveLength(2);

    const service = harness.daemon.service;
    const runs = await Promise.all([1, 2, 3].map(() => service.invoke({ functionName: 'warm-ahead', qualifier: 'live', payload: event({ ms: 300 }) })));
    const provisioned = runs.filter((run) => json(run.payload).initializationType === 'provisioned-concurrency');
    const onDemand = runs.filter((run) => json(run.payload).initializationType === 'on-demand');
    expect(provisioned).toHaveLength(2);
    expect(onDemand).toHaveLength(1);
    for (const run of provisioned) expect(hasInitDuration(run.log)).toBe(false);
    expect(hasInitDuration(onDemand[0]!.log)).toBe(true);

    const listed = await lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'warm-ahead' }));
    expect(listed.ProvisionedConcurrencyConfigs).toEqual([expect.objectContaining({ FunctionArn: `${ARN}warm-ahead:live`, Status: 'READY' })]);

    const deleted = await lambda.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: 'warm-ahead', Qualifier: 'live' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    const gone = await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'warm-ahead', Qualifier: 'live' })).catch((error) => error);
    expect(gone.name).toBe('ProvisionedConcurrencyConfigNotFoundException');
    expect(gone.$metadata.httpStatusCode).toBe(404);
  });

  it('refuses $LATEST, a missing alias, and more than the reserved concurrency', async () => {
    publishWithAlias('refused');
    const latest = await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'refused', Qualifier: '$LATEST', ProvisionedConcurrentExecutions: 1 })).catch((error) => error);
    expect(latest.name).toBe('InvalidParameterValueException');
    expect(latest.message).toBe('Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
    const missing = await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'refused', Qualifier: 'nope', ProvisionedConcurrentExecutions: 1 })).catch((error) => error);
    expect(missing.name).toBe('ResourceNotFoundException');
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'refused', ReservedConcurrentExecutions: 1 }));
    const tooMany = await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'refused', Qualifier: 'live', ProvisionedConcurrentExecutions: 2 })).catch((error) => error);
    expect(tooMany.name).toBe('InvalidParameterValueException');
    expect(tooMany.message).toBe('Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function');
  });

  it('comes back after a restart and follows its alias to a new version', async () => {
    publishWithAlias('follows');
    await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'follows', Qualifier: 'live', ProvisionedConcurrentExecutions: 1 }));
    lambda.destroy();
    harness = await harness.restart();
    lambda = new LambdaClient({ endpoint: harness.daemon.url, region: 'us-east-1', credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' }, maxAttempts: 1 });
    expect(await untilReady('follows')).toMatchObject({ Status: 'READY', AllocatedProvisionedConcurrentExecutions: 1 });

    const service = harness.daemon.service;
    service.updateFunctionConfiguration('follows', { Description: 'v2' });
    service.publishVersion('follows');
    service.updateAlias('follows', 'live', { FunctionVersion: '2' });
    expect(await untilReady('follows')).toMatchObject({ Status: 'READY' });
    const run = await service.invoke({ functionName: 'follows', qualifier: 'live', payload: event({}) });
    expect(run.executedVersion).toBe('2');
    expect(json(run.payload).initializationType).toBe('provisioned-concurrency');
    expect(hasInitDuration(run.log)).toBe(false);
  });
});
