/**
 * The AWS Lambda REST API driven by the AWS SDK for JavaScript (`@aws-sdk/client-lambda`), signed with the
 * daemon's credentials, against a real daemon: each operation's success shape (spec lambda-api.md §2) and
 * its errors as the SDK surfaces them (name, HTTP status, message).
 */
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { createHash } from 'node:crypto';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { zipOf } from '../helpers/zip.js';

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const HANDLERS = `
let count = 0;
exports.handler = async (event, context) => {
  console.log('handling', JSON.stringify(event));
  return { count: ++count, event, requestId: context.awsRequestId, clientContext: context.clientContext ?? null, version: context.functionVersion };
};
exports.thrower = async () => { throw new TypeError('no such thing'); };
`;

const decode = (bytes: Uint8Array | undefined): any => JSON.parse(new TextDecoder().decode(bytes));
const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** The error an SDK call rejects with: its name, status and message. */
async function failure(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string; error: any }> {
  try {
    await promise;
  } catch (error: any) {
    return { name: error.name, status: error.$metadata?.httpStatusCode, message: error.message, error };
  }
  throw new Error('expected the call to fail');
}

describe('the AWS SDK for JavaScript against lambdad', () => {
  let harness: TestDaemon;
  let lambda: LambdaClient;

  beforeAll(async () => {
    harness = await startDaemon({ auth: 'sigv4' });
    lambda = new LambdaClient({ endpoint: harness.daemon.url, region: 'us-east-1', credentials: harness.credentials(), maxAttempts: 1 });
  });
  afterAll(async () => {
    lambda.destroy();
    await harness.stop();
  });

  const create = (name: string, extra: Record<string, unknown> = {}) =>
    lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zipOf(HANDLERS) }, ...extra }));

  it('CreateFunction answers 201 with the FunctionConfiguration; a second create conflicts; bad values are refused by name', async () => {
    const zip = zipOf(HANDLERS);
    const created = await lambda.send(new CreateFunctionCommand({ FunctionName: 'sdk-create', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zip }, Description: 'made by the SDK', Timeout: 5, MemorySize: 256, Environment: { Variables: { STAGE: 'test' } } }));
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(created.$metadata.requestId).toMatch(UUID);
    expect(created).toMatchObject({
      FunctionName: 'sdk-create',
      FunctionArn: `${ARN}sdk-create`,
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      CodeSize: zip.byteLength,
      CodeSha256: createHash('sha256').update(zip).digest('base64'),
      Description: 'made by the SDK',
      Timeout: 5,
      MemorySize: 256,
      Version: '$LATEST',
      Environment: { Variables: { STAGE: 'test' } },
      TracingConfig: { Mode: 'PassThrough' },
      State: 'Pending',
      StateReason: 'The function is being created.',
      StateReasonCode: 'Creating',
      PackageType: 'Zip',
      Architectures: ['x86_64'],
      EphemeralStorage: { Size: 512 },
      LoggingConfig: { LogFormat: 'Text', LogGroup: '/aws/lambda/sdk-create' },
    });
    expect(created.RevisionId).toMatch(UUID);
    expect(created.LastModified).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);

    const again = await failure(create('sdk-create'));
    expect(again).toMatchObject({ name: 'ResourceConflictException', status: 409, message: `Function already exist: sdk-create` });
    expect(again.error.Type).toBe('User');

    const runtime = await failure(create('sdk-bad-runtime', { Runtime: 'cobol85' }));
    expect(runtime).toMatchObject({ name: 'InvalidParameterValueException', status: 400 });
    expect(runtime.message).toContain('cobol85');

    const badName = await failure(create('has spaces'));
    expect(badName).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(badName.message).toMatch(/^1 validation error detected: Value 'has spaces' at 'functionName' failed to satisfy constraint/);

    const badType = await failure(lambda.send(new CreateFunctionCommand({ FunctionName: 'sdk-bad-type', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zip }, Timeout: 'soon' as never })));
    expect(badType.status).toBe(400);
    expect((await lambda.send(new ListFunctionsCommand({}))).Functions?.map((f) => f.FunctionName)).toEqual(['sdk-create']);
  });

  it('GetFunction gives the configuration and a link that downloads the same zip', async () => {
    const zip = zipOf(HANDLERS, '// get-function');
    await create('sdk-get', { Code: { ZipFile: zip } });
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'sdk-get' }));
    expect(got.Configuration).toMatchObject({ FunctionName: 'sdk-get', Version: '$LATEST', State: 'Active', LastUpdateStatus: 'Successful' });
    expect(got.Code?.RepositoryType).toBe('S3');
    const download = await fetch(got.Code!.Location!);
    expect(download.status).toBe(200);
    const bytes = new Uint8Array(await download.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('base64')).toBe(got.Configuration!.CodeSha256);
    expect(Object.keys(unzipSync(bytes))).toEqual(['index.js']);

    const tampered = got.Code!.Location!.replace(/Signature=[0-9a-f]/, (match) => match.slice(0, -1) + (match.endsWith('0') ? '1' : '0'));
    expect((await fetch(tampered)).status).toBe(403);

    const missing = await failure(lambda.send(new GetFunctionCommand({ FunctionName: 'sdk-nothing' })));
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${ARN}sdk-nothing` });
  });

  it('GetFunctionConfiguration, ListFunctions with MaxItems/Marker and FunctionVersion=ALL', async () => {
    await create('sdk-list-a');
    await create('sdk-list-b', { Publish: true });
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'sdk-list-b', Qualifier: '1' }));
    expect(config).toMatchObject({ FunctionName: 'sdk-list-b', Version: '1', FunctionArn: `${ARN}sdk-list-b:1` });
    const byArn = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: `${ARN}sdk-list-b:$LATEST` }));
    expect(byArn.Version).toBe('$LATEST');

    const names: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await lambda.send(new ListFunctionsCommand({ MaxItems: 1, ...(marker === undefined ? {} : { Marker: marker }) }));
      expect(page.Functions).toHaveLength(1);
      names.push(page.Functions![0]!.FunctionName!);
      marker = page.NextMarker;
      pages += 1;
    } while (marker !== undefined && pages < 20);
    expect(names.filter((name) => name.startsWith('sdk-list-'))).toEqual(['sdk-list-a', 'sdk-list-b']);

    const all = await lambda.send(new ListFunctionsCommand({ FunctionVersion: 'ALL' }));
    expect(all.Functions!.filter((f) => f.FunctionName === 'sdk-list-b').map((f) => f.Version)).toEqual(['$LATEST', '1']);

    const qualifierClash = await failure(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'sdk-list-b:1', Qualifier: '2' })));
    expect(qualifierClash).toMatchObject({ name: 'InvalidParameterValueException', status: 400, message: 'The derived qualifier from the function name does not match the specified qualifier.' });
  });

  it('UpdateFunctionCode and UpdateFunctionConfiguration change $LATEST; a stale RevisionId is a precondition failure', async () => {
    const created = await create('sdk-update');
    const code = zipOf(HANDLERS, '// v2');
    const updated = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'sdk-update', ZipFile: code, RevisionId: created.RevisionId }));
    expect(updated.CodeSha256).toBe(createHash('sha256').update(code).digest('base64'));
    expect(updated.RevisionId).not.toBe(created.RevisionId);

    const stale = await failure(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'sdk-update', Timeout: 9, RevisionId: created.RevisionId })));
    expect(stale).toMatchObject({
      name: 'PreconditionFailedException',
      status: 412,
      message: 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
    });

    const configured = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'sdk-update', Timeout: 9, Environment: { Variables: { STAGE: 'one' } } }));
    expect(configured).toMatchObject({ Timeout: 9, Environment: { Variables: { STAGE: 'one' } } });
    const tooLong = await failure(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'sdk-update', Timeout: 901 })));
    expect(tooLong).toMatchObject({ name: 'ValidationException', status: 400 });
    const missing = await failure(lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'sdk-gone', ZipFile: code })));
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
  });

  it('PublishVersion answers 201; a wrong CodeSha256 is refused; ListVersionsByFunction lists $LATEST first', async () => {
    const created = await create('sdk-publish');
    const published = await lambda.send(new PublishVersionCommand({ FunctionName: 'sdk-publish', Description: 'first' }));
    expect(published.$metadata.httpStatusCode).toBe(201);
    expect(published).toMatchObject({ Version: '1', FunctionArn: `${ARN}sdk-publish:1`, Description: 'first', CodeSha256: created.CodeSha256 });

    const wrong = await failure(lambda.send(new PublishVersionCommand({ FunctionName: 'sdk-publish', CodeSha256: 'AAAA' })));
    expect(wrong).toMatchObject({
      name: 'InvalidParameterValueException',
      status: 400,
      message: `CodeSHA256 (AAAA) is different from current CodeSHA256 in $LATEST (${created.CodeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
    });
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'sdk-publish' }));
    expect(versions.Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1']);
    expect(versions.NextMarker).toBeUndefined();
  });

  it('aliases: create 201, get, update routing, list, delete 204 (also when absent); conflicts and bad names', async () => {
    await create('sdk-alias', { Publish: true });
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'sdk-alias', ZipFile: zipOf(HANDLERS, '// 2'), Publish: true }));
    const alias = await lambda.send(new CreateAliasCommand({ FunctionName: 'sdk-alias', Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } } }));
    expect(alias.$metadata.httpStatusCode).toBe(201);
    expect(alias).toMatchObject({ AliasArn: `${ARN}sdk-alias:live`, Name: 'live', FunctionVersion: '1', Description: '', RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } } });
    expect(alias.RevisionId).toMatch(UUID);

    const again = await failure(lambda.send(new CreateAliasCommand({ FunctionName: 'sdk-alias', Name: 'live', FunctionVersion: '1' })));
    expect(again).toMatchObject({ name: 'ResourceConflictException', status: 409, message: `Alias already exists: ${ARN}sdk-alias:live` });
    const digits = await failure(lambda.send(new CreateAliasCommand({ FunctionName: 'sdk-alias', Name: '123', FunctionVersion: '1' })));
    expect(digits).toMatchObject({ name: 'ValidationException', status: 400 });

    const updated = await lambda.send(new UpdateAliasCommand({ FunctionName: 'sdk-alias', Name: 'live', FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: {} } }));
    expect(updated.FunctionVersion).toBe('2');
    expect(updated.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    const stale = await failure(lambda.send(new UpdateAliasCommand({ FunctionName: 'sdk-alias', Name: 'live', Description: 'x', RevisionId: alias.RevisionId })));
    expect(stale).toMatchObject({ name: 'PreconditionFailedException', status: 412 });

    expect(await lambda.send(new GetAliasCommand({ FunctionName: 'sdk-alias', Name: 'live' }))).toMatchObject({ FunctionVersion: '2', RevisionId: updated.RevisionId });
    expect((await lambda.send(new ListAliasesCommand({ FunctionName: 'sdk-alias' }))).Aliases?.map((a) => a.Name)).toEqual(['live']);

    const deleted = await lambda.send(new DeleteAliasCommand({ FunctionName: 'sdk-alias', Name: 'live' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect((await lambda.send(new DeleteAliasCommand({ FunctionName: 'sdk-alias', Name: 'live' }))).$metadata.httpStatusCode).toBe(204);
    const gone = await failure(lambda.send(new GetAliasCommand({ FunctionName: 'sdk-alias', Name: 'live' })));
    expect(gone).toMatchObject({ name: 'ResourceNotFoundException', status: 404, message: `Cannot find alias arn: ${ARN}sdk-alias:live` });
  });

  it('Invoke: result, executed version, request id, tail log, client context, function errors, dry run', async () => {
    await create('sdk-invoke', { Publish: true });
    await lambda.send(new CreateAliasCommand({ FunctionName: 'sdk-invoke', Name: 'prod', FunctionVersion: '1' }));
    const clientContext = Buffer.from(JSON.stringify({ custom: { tenant: 'acme' } })).toString('base64');

    const result = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-invoke', Payload: encode({ key: 'value' }), LogType: 'Tail', ClientContext: clientContext }));
    expect(result.StatusCode).toBe(200);
    expect(result.ExecutedVersion).toBe('$LATEST');
    expect(result.FunctionError).toBeUndefined();
    const body = decode(result.Payload);
    expect(body).toMatchObject({ count: 1, event: { key: 'value' }, clientContext: { custom: { tenant: 'acme' } } });
    expect(result.$metadata.requestId).toBe(body.requestId);
    const log = Buffer.from(result.LogResult!, 'base64').toString('utf8');
    expect(log).toContain(`START RequestId: ${body.requestId} Version: $LATEST`);
    expect(log).toContain('handling {"key":"value"}');
    expect(log).toContain(`REPORT RequestId: ${body.requestId}`);

    const viaAlias = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-invoke', Qualifier: 'prod', Payload: encode({}) }));
    expect(viaAlias.ExecutedVersion).toBe('1');
    expect(decode(viaAlias.Payload).version).toBe('1');

    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'sdk-invoke', Handler: 'index.thrower' }));
    const failed = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-invoke', Payload: encode({}) }));
    expect(failed.StatusCode).toBe(200);
    expect(failed.FunctionError).toBe('Unhandled');
    expect(decode(failed.Payload)).toMatchObject({ errorType: 'TypeError', errorMessage: 'no such thing' });

    const dry = await lambda.send(new InvokeCommand({ FunctionName: 'sdk-invoke', InvocationType: 'DryRun' }));
    expect(dry.StatusCode).toBe(204);

    const notJson = await failure(lambda.send(new InvokeCommand({ FunctionName: 'sdk-invoke', Qualifier: 'prod', Payload: new TextEncoder().encode('{not json') })));
    expect(notJson).toMatchObject({ name: 'InvalidRequestContentException', status: 400 });
    expect(notJson.message).toMatch(/^Could not parse request body into json: Could not parse payload into json: /);

    const tooLarge = await failure(lambda.send(new InvokeCommand({ FunctionName: 'sdk-invoke', Payload: new Uint8Array(6_291_457).fill(0x20) })));
    expect(tooLarge).toMatchObject({ name: 'RequestEntityTooLargeException', status: 413, message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation' });

    const missing = await failure(lambda.send(new InvokeCommand({ FunctionName: 'sdk-invoke', Qualifier: 'nope', Payload: encode({}) })));
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
  });

  it('DeleteFunction answers 204 and takes versions and aliases with it; $LATEST alone cannot be deleted', async () => {
    await create('sdk-delete', { Publish: true });
    const latest = await failure(lambda.send(new DeleteFunctionCommand({ FunctionName: 'sdk-delete', Qualifier: '$LATEST' })));
    expect(latest).toMatchObject({ name: 'InvalidParameterValueException', status: 400, message: '$LATEST version cannot be deleted without deleting the function.' });
    expect((await lambda.send(new DeleteFunctionCommand({ FunctionName: 'sdk-delete', Qualifier: '1' }))).$metadata.httpStatusCode).toBe(204);
    expect((await lambda.send(new DeleteFunctionCommand({ FunctionName: 'sdk-delete' }))).$metadata.httpStatusCode).toBe(204);
    expect(await failure(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'sdk-delete' })))).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    expect(await failure(lambda.send(new DeleteFunctionCommand({ FunctionName: 'sdk-delete' })))).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
  });
});
