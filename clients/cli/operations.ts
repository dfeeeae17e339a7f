/**
 * The table of the CLI's operations: for each, the `aws lambda` name, its flags (each named after the input
 * member it sets) and how it runs — one SDK call for almost all of them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { LambdadClient, Operation, Operations } from '../node/index.js';
import { UsageError, type Flag, type Flags } from './args.js';
import type { Shape } from './shorthand.js';
import { filter, tail } from './tail.js';
import { getTraceSummaries } from './traces.js';

export interface OperationSpec {
  /** As typed: `create-function`, `logs tail`. */
  readonly name: string;
  /** The protocol operation, named in error messages as the AWS CLI names the API call. */
  readonly operation: Operation;
  readonly summary: string;
  readonly flags: Flags;
  /** Required words after the flags, e.g. invoke's outfile. */
  readonly positionals?: readonly { readonly name: string; readonly help: string }[];
  /** Runs the operation; resolves with what to print (nothing when undefined). */
  run(client: LambdadClient, input: Record<string, unknown>, positionals: readonly string[]): Promise<unknown>;
}

/** Options every operation takes. */
export const GLOBAL_FLAGS: Flags = Object.freeze({
  'endpoint-url': { type: 'string', help: 'the daemon (default LAMBDAD_ENDPOINT_URL or http://127.0.0.1:9001)' },
  codec: { type: 'string', choices: ['msgpack', 'protobuf'], help: 'wire format (default msgpack)' },
  output: { type: 'string', choices: ['json'], help: 'output format: json, pretty-printed as the AWS CLI does' },
  'cli-binary-format': { type: 'string', help: 'accepted for AWS CLI compatibility; --payload is always sent as given' },
});

const ENVIRONMENT: Shape = { struct: { Variables: { map: 'string' } } };
const DESTINATION_CONFIG: Shape = { struct: { OnSuccess: { struct: { Destination: 'string' } }, OnFailure: { struct: { Destination: 'string' } } } };
const DEAD_LETTER_CONFIG: Shape = { struct: { TargetArn: 'string' } };
const ROUTING_CONFIG: Shape = { struct: { AdditionalVersionWeights: { map: 'number' } } };
const TRACING_CONFIG: Shape = { struct: { Mode: 'string' } };
const VPC_CONFIG: Shape = { struct: { SubnetIds: { list: 'string' }, SecurityGroupIds: { list: 'string' }, Ipv6AllowedForDualStack: 'boolean' } };
const EPHEMERAL_STORAGE: Shape = { struct: { Size: 'integer' } };

const FUNCTION_NAME: Flag = { type: 'string', required: true, help: 'function name, partial ARN or ARN' };
const QUALIFIER: Flag = { type: 'string', help: 'version or alias' };
const REVISION_ID: Flag = { type: 'string', help: 'only if the revision is still this one' };
const DESCRIPTION: Flag = { type: 'string', help: 'description' };
const ZIP_FILE: Flag = { type: 'blob', help: 'the code as a zip: fileb://path.zip' };
const CODE: Flag = { type: 'directory', member: 'Directory', help: "the code as a directory on the daemon's machine (lambdad's addition)" };
const ARCHITECTURES: Flag = { type: 'list', help: 'x86_64 or arm64' };
const MARKER: Flag = { type: 'string', help: "the API's Marker: start after the page it ended" };
const STARTING_TOKEN: Flag = { type: 'string', member: 'Marker', help: 'the NextToken a previous --max-items call printed' };
const MAX_ITEMS: Flag = { type: 'integer', help: 'at most this many items; prints NextToken if there are more (default: all)' };
const FILTER_PATTERN: Flag = { type: 'string', help: 'CloudWatch text pattern: terms, "a phrase", ?any-of, -excluded' };
const QUEUE: Flag = { type: 'string', required: true, help: 'queue name or ARN' };
const ALIAS_NAME: Flag = { type: 'string', required: true, help: 'alias name' };
const ROUTING: Flag = { type: { shape: ROUTING_CONFIG }, help: 'AdditionalVersionWeights={2=0.1}, or {} to clear' };

const CONFIGURATION: Flags = {
  role: { type: 'string', help: 'execution role ARN' },
  handler: { type: 'string', help: 'file.export, e.g. index.handler' },
  description: DESCRIPTION,
  timeout: { type: 'integer', help: 'seconds, 1-900 (default 3)' },
  'memory-size': { type: 'integer', help: 'MB, 128-10240 (default 128)' },
  runtime: { type: 'string', help: 'nodejs18.x, nodejs20.x or nodejs22.x' },
  environment: { type: { shape: ENVIRONMENT }, help: 'Variables={KEY=value,...}' },
  'tracing-config': { type: { shape: TRACING_CONFIG }, help: 'Mode=Active|PassThrough' },
  'ephemeral-storage': { type: { shape: EPHEMERAL_STORAGE }, help: 'Size=512' },
  'dead-letter-config': { type: { shape: DEAD_LETTER_CONFIG }, help: 'TargetArn=arn:aws:sqs:…:queue (failed Event invokes go there)' },
  layers: { type: 'list', help: 'layer version ARNs, at most 5, in order (a later layer wins)' },
  'vpc-config': { type: { shape: VPC_CONFIG }, help: 'SubnetIds=subnet-a,subnet-b,SecurityGroupIds=sg-1[,Ipv6AllowedForDualStack=true] (empty lists leave the VPC)' },
};

const WATCH: Flag = { type: 'boolean', help: "with --code: $LATEST follows the directory's changes (lambdad's addition; --no-watch to stop)" };
const LAYER_NAME: Flag = { type: 'string', required: true, help: 'layer name or layer ARN' };
const VERSION_NUMBER: Flag = { type: 'integer', required: true, help: 'layer version number' };
const LAYER_FILTERS: Flags = {
  'compatible-runtime': { type: 'string', help: 'only versions compatible with this runtime' },
  'compatible-architecture': { type: 'string', help: 'only versions compatible with this architecture' },
};

/** `--zip-file` and `--code` as the API's code structure (Code, or a layer's Content). */
function codeSource(ZipFile: unknown, Directory: unknown): Record<string, unknown> {
  return { ...(ZipFile === undefined ? {} : { ZipFile }), ...(Directory === undefined ? {} : { Directory }) };
}

function readJsonFile(path: string, flag: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`Error parsing parameter '--${flag}': ${(error as Error).message}`, false);
  }
}

/** An operation that is one SDK call with the flags as its input. */
function call(operation: Operation): OperationSpec['run'] {
  return (client, input) => client.call(operation, input as never);
}

type ListOperation = 'ListFunctions' | 'ListVersionsByFunction' | 'ListAliases' | 'ListProvisionedConcurrencyConfigs' | 'ListFunctionEventInvokeConfigs' | 'ListLayerVersions' | 'ListLayers';

/** A List operation, read page after page as the AWS CLI does, up to --max-items. */
function paginated(operation: ListOperation, key: 'Functions' | 'Versions' | 'Aliases' | 'ProvisionedConcurrencyConfigs' | 'FunctionEventInvokeConfigs' | 'LayerVersions' | 'Layers'): OperationSpec['run'] {
  return async (client, input) => {
    const limit = input.MaxItems as number | undefined;
    const items: unknown[] = [];
    let marker = input.Marker as string | undefined;
    for (;;) {
      const page = await client.call(operation, {
        ...input,
        ...(marker === undefined ? {} : { Marker: marker }),
        ...(limit === undefined ? {} : { MaxItems: limit - items.length }),
      } as Operations[ListOperation]['input']);
      items.push(...((page as Partial<Record<typeof key, unknown[]>>)[key] ?? []));
      marker = page.NextMarker;
      if (marker === undefined || (limit !== undefined && items.length >= limit)) break;
    }
    // As the AWS CLI prints it: a token to pass back with --starting-token.
    return { [key]: items, ...(marker === undefined ? {} : { NextToken: marker }) };
  };
}

/** Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s), as `aws lambda` names them. */
function eventInvokeConfigOperations(): OperationSpec[] {
  const settings: Flags = {
    'function-name': FUNCTION_NAME,
    qualifier: QUALIFIER,
    'maximum-retry-attempts': { type: 'integer', help: 'retries after a function error, 0-2 (default 2)' },
    'maximum-event-age-in-seconds': { type: 'integer', help: '60-21600 (default 21600)' },
    'destination-config': { type: { shape: DESTINATION_CONFIG }, help: 'OnSuccess={Destination=arn},OnFailure={Destination=arn}' },
  };
  const target: Flags = { 'function-name': FUNCTION_NAME, qualifier: QUALIFIER };
  return [
    { name: 'put-function-event-invoke-config', operation: 'PutFunctionEventInvokeConfig', summary: 'Sets how Event invokes are retried and where their outcomes go (replaces the config).', flags: settings, run: call('PutFunctionEventInvokeConfig') },
    { name: 'update-function-event-invoke-config', operation: 'UpdateFunctionEventInvokeConfig', summary: 'Changes the members given of the event-invoke config.', flags: settings, run: call('UpdateFunctionEventInvokeConfig') },
    { name: 'get-function-event-invoke-config', operation: 'GetFunctionEventInvokeConfig', summary: 'Shows the event-invoke config.', flags: target, run: call('GetFunctionEventInvokeConfig') },
    { name: 'delete-function-event-invoke-config', operation: 'DeleteFunctionEventInvokeConfig', summary: 'Removes the event-invoke config.', flags: target, run: call('DeleteFunctionEventInvokeConfig') },
    {
      name: 'list-function-event-invoke-configs',
      operation: 'ListFunctionEventInvokeConfigs',
      summary: "Lists a function's event-invoke configs.",
      flags: { 'function-name': FUNCTION_NAME, marker: MARKER, 'starting-token': STARTING_TOKEN, 'max-items': MAX_ITEMS },
      run: paginated('ListFunctionEventInvokeConfigs', 'FunctionEventInvokeConfigs'),
    },
  ];
}

const TABLE: readonly OperationSpec[] = [
  {
    name: 'create-function',
    operation: 'CreateFunction',
    summary: 'Creates a function from a zip file or a directory.',
    flags: {
      'function-name': FUNCTION_NAME,
      'zip-file': ZIP_FILE,
      code: CODE,
      ...CONFIGURATION,
      runtime: { ...CONFIGURATION.runtime!, required: true },
      role: { ...CONFIGURATION.role!, required: true },
      handler: { ...CONFIGURATION.handler!, required: true },
      publish: { type: 'boolean', help: 'publish version 1 as well' },
      watch: WATCH,
      architectures: ARCHITECTURES,
      'package-type': { type: 'string', help: 'Zip' },
    },
    run: (client, { ZipFile, Directory, ...input }) =>
      client.call('CreateFunction', { ...input, Code: codeSource(ZipFile, Directory) } as never),
  },
  {
    name: 'get-function',
    operation: 'GetFunction',
    summary: "Returns a version's configuration and a 10-minute link to download its code.",
    flags: { 'function-name': FUNCTION_NAME, qualifier: QUALIFIER },
    run: call('GetFunction'),
  },
  {
    name: 'get-function-configuration',
    operation: 'GetFunctionConfiguration',
    summary: "Returns a version's configuration.",
    flags: { 'function-name': FUNCTION_NAME, qualifier: QUALIFIER },
    run: call('GetFunctionConfiguration'),
  },
  {
    name: 'list-functions',
    operation: 'ListFunctions',
    summary: 'Lists functions ($LATEST, or every version with --function-version ALL).',
    flags: { 'function-version': { type: 'string', help: 'ALL to list every version' }, marker: MARKER, 'starting-token': STARTING_TOKEN, 'max-items': MAX_ITEMS },
    run: paginated('ListFunctions', 'Functions'),
  },
  {
    name: 'update-function-code',
    operation: 'UpdateFunctionCode',
    summary: "Replaces $LATEST's code.",
    flags: {
      'function-name': FUNCTION_NAME,
      'zip-file': ZIP_FILE,
      code: CODE,
      publish: { type: 'boolean', help: 'publish a version as well' },
      'dry-run': { type: 'boolean', help: 'check only' },
      watch: WATCH,
      'revision-id': REVISION_ID,
      architectures: ARCHITECTURES,
    },
    run: call('UpdateFunctionCode'),
  },
  {
    name: 'update-function-configuration',
    operation: 'UpdateFunctionConfiguration',
    summary: "Changes $LATEST's configuration; --environment replaces all variables.",
    flags: { 'function-name': FUNCTION_NAME, ...CONFIGURATION, 'revision-id': REVISION_ID },
    run: call('UpdateFunctionConfiguration'),
  },
  {
    name: 'delete-function',
    operation: 'DeleteFunction',
    summary: 'Deletes a function with its versions and aliases, or one version with --qualifier.',
    flags: { 'function-name': FUNCTION_NAME, qualifier: { type: 'string', help: 'the version to delete' } },
    run: call('DeleteFunction'),
  },
  {
    name: 'publish-version',
    operation: 'PublishVersion',
    summary: 'Publishes $LATEST as a new version (or returns the latest one if nothing changed).',
    flags: {
      'function-name': FUNCTION_NAME,
      'code-sha256': { type: 'string', help: "only if $LATEST's CodeSha256 is this" },
      description: DESCRIPTION,
      'revision-id': REVISION_ID,
    },
    run: call('PublishVersion'),
  },
  {
    name: 'list-versions-by-function',
    operation: 'ListVersionsByFunction',
    summary: 'Lists $LATEST and the published versions.',
    flags: { 'function-name': FUNCTION_NAME, marker: MARKER, 'starting-token': STARTING_TOKEN, 'max-items': MAX_ITEMS },
    run: paginated('ListVersionsByFunction', 'Versions'),
  },
  {
    name: 'create-alias',
    operation: 'CreateAlias',
    summary: 'Creates an alias of a version, optionally routing a share of invocations to a second one.',
    flags: {
      'function-name': FUNCTION_NAME,
      name: ALIAS_NAME,
      'function-version': { type: 'string', required: true, help: 'the version it points to' },
      description: DESCRIPTION,
      'routing-config': ROUTING,
    },
    run: call('CreateAlias'),
  },
  {
    name: 'get-alias',
    operation: 'GetAlias',
    summary: 'Returns an alias.',
    flags: { 'function-name': FUNCTION_NAME, name: ALIAS_NAME },
    run: call('GetAlias'),
  },
  {
    name: 'update-alias',
    operation: 'UpdateAlias',
    summary: "Changes an alias's version, description or routing.",
    flags: {
      'function-name': FUNCTION_NAME,
      name: ALIAS_NAME,
      'function-version': { type: 'string', help: 'the version it points to' },
      description: DESCRIPTION,
      'routing-config': ROUTING,
      'revision-id': REVISION_ID,
    },
    run: call('UpdateAlias'),
  },
  {
    name: 'delete-alias',
    operation: 'DeleteAlias',
    summary: 'Deletes an alias.',
    flags: { 'function-name': FUNCTION_NAME, name: ALIAS_NAME },
    run: call('DeleteAlias'),
  },
  {
    name: 'list-aliases',
    operation: 'ListAliases',
    summary: "Lists a function's aliases.",
    flags: {
      'function-name': FUNCTION_NAME,
      'function-version': { type: 'string', help: 'only aliases of this version' },
      marker: MARKER, 'starting-token': STARTING_TOKEN,
      'max-items': MAX_ITEMS,
    },
    run: paginated('ListAliases', 'Aliases'),
  },
  {
    name: 'put-function-concurrency',
    operation: 'PutFunctionConcurrency',
    summary: "Reserves concurrency for the function alone (0 throttles it); the rest of the account's pool shrinks by as much.",
    flags: { 'function-name': FUNCTION_NAME, 'reserved-concurrent-executions': { type: 'integer', required: true, help: 'invocations the function may run at once' } },
    run: call('PutFunctionConcurrency'),
  },
  {
    name: 'get-function-concurrency',
    operation: 'GetFunctionConcurrency',
    summary: "Shows the function's reserved concurrency ({} when it has none).",
    flags: { 'function-name': FUNCTION_NAME },
    run: call('GetFunctionConcurrency'),
  },
  {
    name: 'delete-function-concurrency',
    operation: 'DeleteFunctionConcurrency',
    summary: 'Removes the reservation: the function draws from the unreserved pool again.',
    flags: { 'function-name': FUNCTION_NAME },
    run: call('DeleteFunctionConcurrency'),
  },
  {
    name: 'put-provisioned-concurrency-config',
    operation: 'PutProvisionedConcurrencyConfig',
    summary: 'Keeps execution contexts of an alias or published version initialised ahead (Status IN_PROGRESS, then READY).',
    flags: {
      'function-name': FUNCTION_NAME,
      qualifier: { ...QUALIFIER, required: true },
      'provisioned-concurrent-executions': { type: 'integer', required: true, help: 'contexts to keep ready' },
    },
    run: call('PutProvisionedConcurrencyConfig'),
  },
  {
    name: 'get-provisioned-concurrency-config',
    operation: 'GetProvisionedConcurrencyConfig',
    summary: "Shows a provisioned-concurrency config and its status.",
    flags: { 'function-name': FUNCTION_NAME, qualifier: { ...QUALIFIER, required: true } },
    run: call('GetProvisionedConcurrencyConfig'),
  },
  {
    name: 'delete-provisioned-concurrency-config',
    operation: 'DeleteProvisionedConcurrencyConfig',
    summary: 'Removes a provisioned-concurrency config; its contexts end.',
    flags: { 'function-name': FUNCTION_NAME, qualifier: { ...QUALIFIER, required: true } },
    run: call('DeleteProvisionedConcurrencyConfig'),
  },
  {
    name: 'list-provisioned-concurrency-configs',
    operation: 'ListProvisionedConcurrencyConfigs',
    summary: "Lists a function's provisioned-concurrency configs.",
    flags: { 'function-name': FUNCTION_NAME, marker: MARKER, 'starting-token': STARTING_TOKEN, 'max-items': MAX_ITEMS },
    run: paginated('ListProvisionedConcurrencyConfigs', 'ProvisionedConcurrencyConfigs'),
  },
  ...eventInvokeConfigOperations(),
  {
    name: 'create-queue',
    operation: 'CreateQueue',
    summary: "Creates a lambdad queue (a destination or dead-letter queue: arn:aws:sqs:<region>:<account>:<name>).",
    flags: { 'queue-name': QUEUE, 'visibility-timeout': { type: 'integer', help: 'seconds a received message stays invisible (default 30)' } },
    run: call('CreateQueue'),
  },
  { name: 'delete-queue', operation: 'DeleteQueue', summary: 'Deletes a queue and its messages.', flags: { 'queue-name': QUEUE }, run: call('DeleteQueue') },
  { name: 'list-queues', operation: 'ListQueues', summary: 'Lists the queues.', flags: {}, run: call('ListQueues') },
  {
    name: 'send-message',
    operation: 'SendMessage',
    summary: 'Sends a message to a queue.',
    flags: { 'queue-name': QUEUE, 'message-body': { type: 'string', required: true, help: 'the message text' } },
    run: call('SendMessage'),
  },
  {
    name: 'receive-message',
    operation: 'ReceiveMessage',
    summary: 'Receives up to --max-number-of-messages messages; each stays invisible for the visibility timeout.',
    flags: {
      'queue-name': QUEUE,
      'max-number-of-messages': { type: 'integer', help: '1-10 (default 1)' },
      'visibility-timeout': { type: 'integer', help: "seconds (default: the queue's)" },
    },
    run: call('ReceiveMessage'),
  },
  {
    name: 'delete-message',
    operation: 'DeleteMessage',
    summary: 'Deletes a received message by its receipt handle.',
    flags: { 'queue-name': QUEUE, 'receipt-handle': { type: 'string', required: true, help: 'from receive-message' } },
    run: call('DeleteMessage'),
  },
  {
    name: 'get-account-settings',
    operation: 'GetAccountSettings',
    summary: "Shows the account's limits (concurrency, code size) and usage.",
    flags: {},
    run: call('GetAccountSettings'),
  },
  {
    name: 'invoke',
    operation: 'Invoke',
    summary: 'Invokes a function; the result goes to outfile, the status to stdout.',
    flags: {
      'function-name': FUNCTION_NAME,
      payload: { type: 'blob', help: "the event as JSON text, or file://event.json / fileb://event.json" },
      'invocation-type': { type: 'string', help: 'RequestResponse (default), Event (queued: 202) or DryRun' },
      'log-type': { type: 'string', help: 'Tail: LogResult is the last 4 KB of the log, base64' },
      qualifier: QUALIFIER,
      'client-context': { type: 'string', help: 'client context JSON, base64' },
    },
    positionals: [{ name: 'outfile', help: "where the function's result is written" }],
    run: async (client, input, [outfile]) => {
      const { Payload, StatusCode, FunctionError, LogResult, ExecutedVersion } = await client.call('Invoke', {
        Payload: new Uint8Array(0),
        ...input,
      } as Operations['Invoke']['input']);
      writeFileSync(outfile!, Payload);
      return { StatusCode, FunctionError, LogResult, ExecutedVersion };
    },
  },
  {
    name: 'get-log-events',
    operation: 'GetLogEvents',
    summary: "Returns a function's stored log events (lambdad's addition).",
    flags: {
      'function-name': FUNCTION_NAME,
      'log-stream-name': { type: 'string', help: 'one execution context only' },
      'start-time': { type: 'integer', help: 'from this time, epoch milliseconds' },
      'end-time': { type: 'integer', help: 'before this time, epoch milliseconds' },
      limit: { type: 'integer', help: 'at most this many events' },
    },
    run: call('GetLogEvents'),
  },
  {
    name: 'logs tail',
    operation: 'GetLogEvents',
    summary: "Prints a function's recent log messages; with --follow, new ones as they are written.",
    flags: {
      'function-name': FUNCTION_NAME,
      follow: { type: 'boolean', help: 'keep printing new messages until interrupted' },
      since: { type: 'string', help: 'from how long ago: 30s, 10m (default), 2h, 1d, 1w, or a date' },
      'filter-pattern': FILTER_PATTERN,
    },
    run: tail,
  },
  {
    name: 'logs filter',
    operation: 'FilterLogEvents',
    summary: "Prints a function's stored log messages that match a filter pattern.",
    flags: {
      'function-name': FUNCTION_NAME,
      'filter-pattern': FILTER_PATTERN,
      since: { type: 'string', help: 'from how long ago: 30s, 10m (default), 2h, 1d, 1w, or a date' },
    },
    run: filter,
  },
  {
    name: 'publish-layer-version',
    operation: 'PublishLayerVersion',
    summary: 'Publishes the next version of a layer from a zip file or a directory.',
    flags: {
      'layer-name': LAYER_NAME,
      'zip-file': ZIP_FILE,
      code: CODE,
      description: DESCRIPTION,
      'compatible-runtimes': { type: 'list', help: 'e.g. nodejs20.x nodejs22.x' },
      'compatible-architectures': { type: 'list', help: 'x86_64 and/or arm64' },
      'license-info': { type: 'string', help: 'license, SPDX identifier or URL' },
    },
    // `--content ZipFile=fileb://…` is the AWS CLI's way; lambdad's flags name the two sources directly.
    run: (client, { ZipFile, Directory, ...input }) =>
      client.call('PublishLayerVersion', { ...input, Content: codeSource(ZipFile, Directory) } as never),
  },
  {
    name: 'get-layer-version',
    operation: 'GetLayerVersion',
    summary: 'Returns a layer version, with a link to download its zip.',
    flags: { 'layer-name': LAYER_NAME, 'version-number': VERSION_NUMBER },
    run: call('GetLayerVersion'),
  },
  {
    name: 'get-layer-version-by-arn',
    operation: 'GetLayerVersionByArn',
    summary: 'Returns a layer version named by its ARN.',
    flags: { arn: { type: 'string', required: true, help: 'layer version ARN' } },
    run: call('GetLayerVersionByArn'),
  },
  {
    name: 'list-layer-versions',
    operation: 'ListLayerVersions',
    summary: "Lists a layer's versions, newest first.",
    flags: { 'layer-name': LAYER_NAME, ...LAYER_FILTERS, marker: MARKER, 'starting-token': STARTING_TOKEN, 'max-items': MAX_ITEMS },
    run: paginated('ListLayerVersions', 'LayerVersions'),
  },
  {
    name: 'list-layers',
    operation: 'ListLayers',
    summary: 'Lists the layers, each with its newest (matching) version.',
    flags: { ...LAYER_FILTERS, marker: MARKER, 'starting-token': STARTING_TOKEN, 'max-items': MAX_ITEMS },
    run: paginated('ListLayers', 'Layers'),
  },
  {
    name: 'delete-layer-version',
    operation: 'DeleteLayerVersion',
    summary: 'Deletes a layer version; functions that use it keep it.',
    flags: { 'layer-name': LAYER_NAME, 'version-number': VERSION_NUMBER },
    run: call('DeleteLayerVersion'),
  },
  {
    name: 'network put',
    operation: 'PutNetwork',
    summary: "Replaces lambdad's network model (VPCs, subnets, gateways, security groups, VPC hosts) with a JSON file.",
    flags: { file: { type: 'string', required: true, help: 'the model as JSON, e.g. network.json' } },
    run: (client, input) => client.putNetwork(readJsonFile(input.File as string, 'file') as never),
  },
  {
    name: 'network get',
    operation: 'GetNetwork',
    summary: "Prints lambdad's network model.",
    flags: {},
    run: (client) => client.getNetwork(),
  },
  {
    name: 'iam put-role',
    operation: 'PutRole',
    summary: 'Creates or replaces an execution role lambdad knows, with its attached managed policies.',
    flags: {
      'role-name': { type: 'string', required: true, help: 'role name; its ARN is arn:aws:iam::<account>:role/<name>' },
      'attached-policy-arns': { type: 'list', help: 'managed policy names or ARNs, e.g. AWSLambdaVPCAccessExecutionRole' },
    },
    run: call('PutRole'),
  },
  {
    name: 'iam delete-role',
    operation: 'DeleteRole',
    summary: 'Forgets an execution role.',
    flags: { 'role-name': { type: 'string', required: true, help: 'role name' } },
    run: call('DeleteRole'),
  },
  {
    name: 'iam list-roles',
    operation: 'ListRoles',
    summary: 'Lists the execution roles lambdad knows.',
    flags: {},
    run: call('ListRoles'),
  },
  {
    name: 'xray get-trace-summaries',
    operation: 'GetTraceSummaries',
    summary: 'Lists the traces that started in a time range, newest first, with duration and error flags.',
    flags: {
      'start-time': { type: 'string', help: 'epoch seconds, a date, or how long ago: 30s, 10m, 2h (default 1h)' },
      'end-time': { type: 'string', help: 'epoch seconds, a date, or how long ago (default now)' },
    },
    run: getTraceSummaries,
  },
  {
    name: 'xray batch-get-traces',
    operation: 'BatchGetTraces',
    summary: "Prints whole traces: each segment's JSON document, subsegments in place.",
    flags: { 'trace-ids': { type: 'list', required: true, help: 'trace ids, 1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx' } },
    run: call('BatchGetTraces'),
  },
];

export const OPERATIONS: ReadonlyMap<string, OperationSpec> = new Map(TABLE.map((spec) => [spec.name, spec]));
