/**
 * The AWS Lambda REST API (restJson1), route by route (spec lambda-api.md §2): which method and path is which
 * operation, where its input members come from (path labels, query, headers, JSON body) and how its output
 * goes back (status, headers, body). Operations themselves are the protocol's handlers: this only translates.
 */
import type { Operation } from '../../../protocol/generated/types.js';
import { LIMITS } from '../../limits.js';
import { HTTP_LIMITS } from '../http-limits.js';
import { nestsDeeperThan } from '../json-depth.js';
import type { SigningService } from '../sigv4.js';

export interface RestRequest {
  /** Path labels, percent-decoded: `FunctionName`, `Name`. */
  readonly labels: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface RestReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | string;
}

export interface RestRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** `/2015-03-31/functions/{FunctionName}/aliases/{Name}`; a trailing slash also matches. */
  readonly path: string;
  /** A query member the request must carry to be this operation (`List=ALL` tells two GETs apart). */
  readonly when?: { readonly name: string; readonly value: string };
  readonly operation: Operation;
  /** X-Ray's operations are signed for `xray`; Lambda's (the default) for `lambda`. */
  readonly signingService?: SigningService;
  /** Bodies larger than this are refused before they are read (413). */
  readonly maxBodyBytes: number;
  /** The protocol input of the operation. Throws LambdaError/FrameError on input it cannot translate. */
  readonly input: (request: RestRequest) => Record<string, unknown>;
  readonly reply: (output: unknown) => RestReply;
}

/** The CreateFunction/UpdateFunctionCode request limit: a 50 MB zip, base64, in JSON (spec limits.md). */
const CODE_REQUEST_MAX_BYTES = 70_167_211;
/** Other control-plane bodies are small JSON documents; this bounds what is buffered for them. */
const CONTROL_REQUEST_MAX_BYTES = 1024 * 1024;

const JSON_HEADERS = Object.freeze({ 'content-type': 'application/json' });

const json = (status: number) => (output: unknown): RestReply => ({ status, headers: JSON_HEADERS, body: JSON.stringify(output) });
const empty = (status: number) => (): RestReply => ({ status, headers: {}, body: '' });

const INTEGER = /^-?\d+$/;

const LAYERS = '/2018-10-31/layers';
const LAYER_VERSION = `${LAYERS}/{LayerName}/versions/{VersionNumber}`;
const LAYER_FILTERS = ['CompatibleRuntime', 'CompatibleArchitecture', 'Marker', 'MaxItems'];

/** The version number label is an integer member. */
function layerVersionInput(request: RestRequest): Record<string, unknown> {
  const members = control()(request);
  const version = members['VersionNumber'];
  if (typeof version === 'string' && INTEGER.test(version)) members['VersionNumber'] = Number(version);
  return members;
}

/** The named query members; integers become numbers (the schema check reports anything else). */
function queryMembers(query: URLSearchParams, names: readonly string[], integers: readonly string[] = []): Record<string, unknown> {
  const members: Record<string, unknown> = {};
  for (const name of names) {
    const value = query.get(name);
    if (value === null) continue;
    members[name] = integers.includes(name) && INTEGER.test(value) ? Number(value) : value;
  }
  return members;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class RestInputError extends Error {
  override readonly name = 'SerializationException';
}

/** A JSON blob member (base64 text) as bytes; anything else is left for the schema check to report. */
function blob(value: unknown, member: string): unknown {
  if (typeof value !== 'string') return value;
  if (value.length % 4 !== 0 || !BASE64.test(value)) throw new RestInputError(`${member} must be base64`);
  return Buffer.from(value, 'base64');
}

function jsonBody(body: Buffer): Record<string, unknown> {
  if (body.byteLength === 0) return {};
  if (nestsDeeperThan(body, HTTP_LIMITS.jsonMaxDepth)) throw new RestInputError(`The request body nests arrays and objects more than ${HTTP_LIMITS.jsonMaxDepth} deep`);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new RestInputError(`The request body is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RestInputError('The request body must be a JSON object');
  return value as Record<string, unknown>;
}

function header(request: RestRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Body members, then query members and path labels, which win: the path names the resource. */
function control(names: readonly string[] = [], integers: readonly string[] = []) {
  return (request: RestRequest): Record<string, unknown> => ({ ...jsonBody(request.body), ...queryMembers(request.query, names, integers), ...request.labels });
}

function invokeInput(request: RestRequest): Record<string, unknown> {
  const members: Record<string, unknown> = { ...queryMembers(request.query, ['Qualifier']), ...request.labels, Payload: request.body };
  const invocationType = header(request, 'x-amz-invocation-type');
  const logType = header(request, 'x-amz-log-type');
  const clientContext = header(request, 'x-amz-client-context');
  const traceHeader = header(request, 'x-amzn-trace-id');
  if (traceHeader !== undefined) members['TraceHeader'] = traceHeader;
  if (invocationType !== undefined) members['InvocationType'] = invocationType;
  if (logType !== undefined) members['LogType'] = logType;
  if (clientContext !== undefined) members['ClientContext'] = clientContext;
  return members;
}

interface InvokeOutput {
  StatusCode: number;
  RequestId: string;
  Payload: Uint8Array;
  ExecutedVersion?: string;
  FunctionError?: string;
  LogResult?: string;
  TraceHeader?: string;
}

function invokeReply(output: unknown): RestReply {
  const result = output as InvokeOutput;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': result.RequestId };
  if (result.ExecutedVersion !== undefined) headers['x-amz-executed-version'] = result.ExecutedVersion;
  if (result.FunctionError !== undefined) headers['x-amz-function-error'] = result.FunctionError;
  if (result.LogResult !== undefined) headers['x-amz-log-result'] = result.LogResult;
  if (result.TraceHeader !== undefined) headers['x-amzn-trace-id'] = result.TraceHeader;
  return { status: result.StatusCode, headers, body: result.Payload };
}

const FUNCTIONS = '/2015-03-31/functions';
const FUNCTION = `${FUNCTIONS}/{FunctionName}`;
const PROVISIONED = '/2019-09-30/functions/{FunctionName}/provisioned-concurrency';
const EVENT_INVOKE_CONFIG = '/2019-09-25/functions/{FunctionName}/event-invoke-config';

export const ROUTES: readonly RestRoute[] = Object.freeze([
  {
    method: 'POST',
    path: FUNCTIONS,
    operation: 'CreateFunction',
    maxBodyBytes: CODE_REQUEST_MAX_BYTES,
    input: (request) => {
      const body = jsonBody(request.body);
      const code = body['Code'];
      if (typeof code === 'object' && code !== null && 'ZipFile' in code) {
        body['Code'] = { ...code, ZipFile: blob((code as Record<string, unknown>)['ZipFile'], 'Code.ZipFile') };
      }
      return body;
    },
    reply: json(201),
  },
  { method: 'GET', path: FUNCTIONS, operation: 'ListFunctions', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(['FunctionVersion', 'Marker', 'MaxItems'], ['MaxItems']), reply: json(200) },
  { method: 'GET', path: FUNCTION, operation: 'GetFunction', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(['Qualifier']), reply: json(200) },
  { method: 'GET', path: `${FUNCTION}/configuration`, operation: 'GetFunctionConfiguration', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(['Qualifier']), reply: json(200) },
  { method: 'DELETE', path: FUNCTION, operation: 'DeleteFunction', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(['Qualifier']), reply: empty(204) },
  {
    method: 'PUT',
    path: `${FUNCTION}/code`,
    operation: 'UpdateFunctionCode',
    maxBodyBytes: CODE_REQUEST_MAX_BYTES,
    input: (request) => {
      const members = control()(request);
      if ('ZipFile' in members) members['ZipFile'] = blob(members['ZipFile'], 'ZipFile');
      return members;
    },
    reply: json(200),
  },
  { method: 'PUT', path: `${FUNCTION}/configuration`, operation: 'UpdateFunctionConfiguration', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(), reply: json(200) },
  { method: 'POST', path: `${FUNCTION}/versions`, operation: 'PublishVersion', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(), reply: json(201) },
  { method: 'GET', path: `${FUNCTION}/versions`, operation: 'ListVersionsByFunction', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(['Marker', 'MaxItems'], ['MaxItems']), reply: json(200) },
  { method: 'POST', path: `${FUNCTION}/aliases`, operation: 'CreateAlias', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(), reply: json(201) },
  { method: 'GET', path: `${FUNCTION}/aliases`, operation: 'ListAliases', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(['FunctionVersion', 'Marker', 'MaxItems'], ['MaxItems']), reply: json(200) },
  { method: 'GET', path: `${FUNCTION}/aliases/{Name}`, operation: 'GetAlias', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(), reply: json(200) },
  { method: 'PUT', path: `${FUNCTION}/aliases/{Name}`, operation: 'UpdateAlias', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(), reply: json(200) },
  { method: 'DELETE', path: `${FUNCTION}/aliases/{Name}`, operation: 'DeleteAlias', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(), reply: empty(204) },
  { method: 'PUT', path: '/2017-10-31/functions/{FunctionName}/concurrency', operation: 'PutFunctionConcurrency', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(), reply: json(200) },
  { method: 'GET', path: '/2019-09-30/functions/{FunctionName}/concurrency', operation: 'GetFunctionConcurrency', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(), reply: json(200) },
  { method: 'DELETE', path: '/2017-10-31/functions/{FunctionName}/concurrency', operation: 'DeleteFunctionConcurrency', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(), reply: empty(204) },
  { method: 'GET', path: '/2016-08-19/account-settings', operation: 'GetAccountSettings', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(), reply: json(200) },
  { method: 'GET', path: PROVISIONED, when: { name: 'List', value: 'ALL' }, operation: 'ListProvisionedConcurrencyConfigs', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(['Marker', 'MaxItems'], ['MaxItems']), reply: json(200) },
  { method: 'PUT', path: PROVISIONED, operation: 'PutProvisionedConcurrencyConfig', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(['Qualifier']), reply: json(202) },
  { method: 'GET', path: PROVISIONED, operation: 'GetProvisionedConcurrencyConfig', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(['Qualifier']), reply: json(200) },
  { method: 'DELETE', path: PROVISIONED, operation: 'DeleteProvisionedConcurrencyConfig', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(['Qualifier']), reply: empty(204) },
  { method: 'GET', path: `${EVENT_INVOKE_CONFIG}/list`, operation: 'ListFunctionEventInvokeConfigs', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(['Marker', 'MaxItems'], ['MaxItems']), reply: json(200) },
  { method: 'PUT', path: EVENT_INVOKE_CONFIG, operation: 'PutFunctionEventInvokeConfig', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(['Qualifier']), reply: json(200) },
  { method: 'POST', path: EVENT_INVOKE_CONFIG, operation: 'UpdateFunctionEventInvokeConfig', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(['Qualifier']), reply: json(200) },
  { method: 'GET', path: EVENT_INVOKE_CONFIG, operation: 'GetFunctionEventInvokeConfig', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(['Qualifier']), reply: json(200) },
  { method: 'DELETE', path: EVENT_INVOKE_CONFIG, operation: 'DeleteFunctionEventInvokeConfig', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(['Qualifier']), reply: empty(204) },
  { method: 'POST', path: `${FUNCTION}/invocations`, operation: 'Invoke', maxBodyBytes: LIMITS.syncPayloadMaxBytes, input: invokeInput, reply: invokeReply },
  {
    method: 'POST',
    path: `${LAYERS}/{LayerName}/versions`,
    operation: 'PublishLayerVersion',
    maxBodyBytes: CODE_REQUEST_MAX_BYTES,
    input: (request) => {
      const members = control()(request);
      const content = members['Content'];
      if (typeof content === 'object' && content !== null && 'ZipFile' in content) {
        members['Content'] = { ...content, ZipFile: blob((content as Record<string, unknown>)['ZipFile'], 'Content.ZipFile') };
      }
      return members;
    },
    reply: json(201),
  },
  { method: 'GET', path: LAYER_VERSION, operation: 'GetLayerVersion', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: layerVersionInput, reply: json(200) },
  { method: 'DELETE', path: LAYER_VERSION, operation: 'DeleteLayerVersion', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: layerVersionInput, reply: empty(204) },
  { method: 'GET', path: `${LAYERS}/{LayerName}/versions`, operation: 'ListLayerVersions', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(LAYER_FILTERS, ['MaxItems']), reply: json(200) },
  { method: 'GET', path: LAYERS, when: { name: 'find', value: 'LayerVersion' }, operation: 'GetLayerVersionByArn', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(['Arn']), reply: json(200) },
  { method: 'GET', path: LAYERS, operation: 'ListLayers', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(LAYER_FILTERS, ['MaxItems']), reply: json(200) },
  // X-Ray's trace queries (restJson1 too), answered by lambdad's collector: `aws xray … --endpoint-url` works.
  { method: 'POST', path: '/TraceSummaries', operation: 'GetTraceSummaries', signingService: 'xray', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(), reply: json(200) },
  { method: 'POST', path: '/Traces', operation: 'BatchGetTraces', signingService: 'xray', maxBodyBytes: CONTROL_REQUEST_MAX_BYTES, input: control(), reply: json(200) },
]);
