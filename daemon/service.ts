/**
 * LambdaService: one method per Lambda operation, the only thing adapters (WebSocket, REST, CLI) call.
 * It owns the order of things — what is checked, what is changed, which contexts must go — and delegates
 * each step to its domain.
 */
import type { ConcurrencyScheduler } from './concurrency/index.js';
import type { ExecutionContexts } from './contexts/index.js';
import type { AliasRouting } from './routing/index.js';
import type { Ids } from './clock.js';
import { invalidParameter, LambdaError, validationError } from './errors.js';
import { formatLastModified, type InvokeTarget, type ProvisionedRecord } from './registry/index.js';
import type { AsyncInvocations, AttemptOutcome, EventInvokeConfigInput, FunctionEventInvokeConfig } from './invoke/async/index.js';
import type { EventRecord } from './invoke/async/event-store.js';
import { resourceOf, type Invoker } from './invoke/index.js';
import { compileFilterPattern } from './observability/filter-pattern.js';
import type { MetricsRecorder } from './observability/metrics.js';
import type { DaemonLog } from './observability/daemon-log.js';
import { CodeWatcher } from './code-watcher.js';
import type { CodeRoots } from './registry/code-roots.js';
import type { Network, NetworkModel, Role } from './network/index.js';
import type { Trace, TraceStore, TraceSummary } from './observability/xray/trace-store.js';
import type { LayerVersion, ListLayersInput, PublishLayerVersionInput } from './registry/index.js';

type LayerVersionWithLocation = LayerVersion & { Content: LayerVersion['Content'] & { Location: string } };
import { parseEvent } from './invoke/payload.js';
import type { QueueInfo, QueueMessage, Queues } from './queues/index.js';
import { LIMITS } from './limits.js';
import type { LogQuery, LogStore, StoredLogEvent } from './observability/log-store.js';
import type {
  AccountUsage,
  AliasConfiguration,
  CreateAliasInput,
  CreateFunctionInput,
  FunctionConfiguration,
  ListAliasesInput,
  ListFunctionsInput,
  Page,
  PublishVersionInput,
  Registry,
  UpdateAliasInput,
  UpdateFunctionCodeInput,
  UpdateFunctionConfigurationInput,
} from './registry/index.js';

export interface InvokeInput {
  /** Name, partial ARN or ARN, optionally qualified. */
  readonly functionName: string;
  readonly qualifier?: string;
  /** Event bytes (JSON). The buffer is handed over: do not reuse it after the call. */
  readonly payload: Uint8Array;
  /**
   * `RequestResponse` (default); `Event` (kept durably and run by the dispatcher: 202 once committed);
   * `DryRun` (checks the function and its access, runs nothing).
   */
  readonly invocationType?: string;
  /** `Tail` returns the last 4 KB of the invocation's log in `logResult`. */
  readonly logType?: string;
  /** Base64 of the client context JSON, as in `X-Amz-Client-Context`. */
  readonly clientContext?: string;
  /** The caller's X-Ray trace header (`X-Amzn-Trace-Id`). */
  readonly traceHeader?: string;
}

export interface InvokeOutput {
  /** 200 for a run (also when the function failed), 202 for an accepted event, 204 for a dry run. */
  readonly statusCode: 200 | 202 | 204;
  readonly requestId: string;
  readonly executedVersion?: string;
  /** The function's result, or its error JSON when `functionError` is set; empty for a dry run. */
  readonly payload: Uint8Array;
  readonly functionError?: 'Unhandled';
  /** With `logType: 'Tail'`: base64 of the last 4 KB of the log. */
  readonly logResult?: string;
  /** The trace header the invocation ran under (absent for accepted events and dry runs). */
  readonly traceHeader?: string;
  /** The invocation's whole log (empty for a dry run); the wire carries `logResult` instead. */
  readonly log: string;
}

const INVOCATION_TYPES = ['Event', 'RequestResponse', 'DryRun'];
const LOG_TYPES = ['None', 'Tail'];

/** Base64 client context → its JSON text, checked as Lambda does. */
function decodeClientContext(base64: string): string {
  if (Buffer.byteLength(base64) > LIMITS.clientContextMaxBytes) {
    throw validationError(base64, 'clientContext', `Member must have length less than or equal to ${LIMITS.clientContextMaxBytes}`);
  }
  const text = Buffer.from(base64, 'base64').toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return text;
  } catch {
    // reported below
  }
  throw new LambdaError('InvalidRequestContentException', 'Client context must be a valid Base64-encoded JSON object.');
}

/** The last 4 KB of a log, base64, cut on a character boundary. */
function tailOf(log: string): string {
  const bytes = Buffer.from(log, 'utf8');
  let start = Math.max(0, bytes.byteLength - LIMITS.logResultMaxBytes);
  while (start < bytes.byteLength && (bytes[start]! & 0xc0) === 0x80) start += 1;
  return bytes.subarray(start).toString('base64');
}

/** GetFunction's answer: the configuration, where to download the code, and the reservation if any. */
export interface FunctionDetails {
  readonly Configuration: FunctionConfiguration;
  readonly Code: { readonly RepositoryType: 'S3'; readonly Location: string };
  readonly Concurrency?: FunctionConcurrency;
}

export interface FunctionConcurrency {
  readonly ReservedConcurrentExecutions?: number;
}

export interface ProvisionedConcurrencyConfig {
  readonly RequestedProvisionedConcurrentExecutions: number;
  readonly AvailableProvisionedConcurrentExecutions: number;
  readonly AllocatedProvisionedConcurrentExecutions: number;
  readonly Status: 'IN_PROGRESS' | 'READY' | 'FAILED';
  readonly StatusReason?: string;
  readonly LastModified: string;
}

export interface ProvisionedConcurrencyConfigListItem extends ProvisionedConcurrencyConfig {
  readonly FunctionArn: string;
}

export interface AccountSettings {
  readonly AccountLimit: {
    readonly TotalCodeSize: number;
    readonly CodeSizeUnzipped: number;
    readonly CodeSizeZipped: number;
    readonly ConcurrentExecutions: number;
    readonly UnreservedConcurrentExecutions: number;
  };
  readonly AccountUsage: AccountUsage;
}

/** Makes the download link of a CodeSha256 (on AWS, a presigned S3 URL). */
export interface CodeLocator {
  location(codeSha256: string): string;
}

export class LambdaService {
  readonly #registry: Registry;
  readonly #contexts: ExecutionContexts;
  readonly #invoker: Invoker;
  readonly #logs: LogStore;
  readonly #ids: Ids;
  readonly #code: CodeLocator;
  readonly #concurrency: ConcurrencyScheduler;
  readonly #routing: AliasRouting;
  readonly #async: AsyncInvocations;
  readonly #queues: Queues;
  readonly #metrics: MetricsRecorder;
  readonly #traces: TraceStore;
  readonly #watcher: CodeWatcher;
  readonly #network: Network;
  /** `--watch-directories on`: code from a directory is watched unless the request says otherwise. */
  readonly #watchDirectories: boolean;
  readonly #codeRoots: CodeRoots;

  constructor(parts: {
    registry: Registry;
    contexts: ExecutionContexts;
    invoker: Invoker;
    logs: LogStore;
    ids: Ids;
    code: CodeLocator;
    concurrency: ConcurrencyScheduler;
    routing: AliasRouting;
    async: AsyncInvocations;
    queues: Queues;
    metrics: MetricsRecorder;
    traces: TraceStore;
    watchDirectories: boolean;
    codeRoots: CodeRoots;
    log: DaemonLog;
    network: Network;
  }) {
    this.#network = parts.network;
    this.#traces = parts.traces;
    this.#watchDirectories = parts.watchDirectories;
    this.#codeRoots = parts.codeRoots;
    this.#watcher = new CodeWatcher((functionName) => this.reloadCode(functionName), parts.log);
    this.#metrics = parts.metrics;
    this.#async = parts.async;
    this.#queues = parts.queues;
    this.#routing = parts.routing;
    this.#ids = parts.ids;
    this.#code = parts.code;
    this.#concurrency = parts.concurrency;
    this.#registry = parts.registry;
    this.#contexts = parts.contexts;
    this.#invoker = parts.invoker;
    this.#logs = parts.logs;
  }

  /** `fromLocalClient`: the caller is on the daemon's machine (in-process callers are); only such may name a Code.Directory. */
  createFunction(input: CreateFunctionInput, fromLocalClient = true): FunctionConfiguration {
    const created = this.#registry.createFunction({ ...input, Code: this.#readable(input.Code, fromLocalClient), Watch: input.Watch ?? (this.#watchDirectories && input.Code?.Directory !== undefined) });
    this.#watcher.sync(this.#registry.watchedFunctions());
    return created;
  }

  /** A code source whose Directory, if any, this client may name, as its real path (CodeRoots says why not). */
  #readable<Source extends { Directory?: string | undefined }>(source: Source, fromLocalClient: boolean): Source {
    return source?.Directory === undefined ? source : { ...source, Directory: this.#codeRoots.resolve(source.Directory, fromLocalClient) };
  }

  /** Hot reload of a watched function: $LATEST takes its directory's code, and its warm contexts end. */
  reloadCode(functionName: string): void {
    // The directory is checked again: a link put in its path since it was given could lead out of the roots.
    const updated = this.#registry.reloadFromDirectory(functionName, (directory) => this.#codeRoots.resolve(directory, true));
    if (updated !== null) this.#contexts.retire(functionName, 'latest');
  }

  /** Starts watching the directories of the functions that follow one (at start). */
  watchCode(): void {
    this.#watcher.sync(this.#registry.watchedFunctions());
  }

  stopWatchingCode(): void {
    this.#watcher.close();
  }

  getFunction(functionName: string, qualifier?: string): FunctionDetails {
    const Configuration = this.#registry.getFunctionConfiguration(functionName, qualifier);
    const reserved = this.#concurrency.reservation(Configuration.FunctionName);
    return {
      Configuration,
      Code: { RepositoryType: 'S3', Location: this.#code.location(Configuration.CodeSha256) },
      ...(reserved === null ? {} : { Concurrency: { ReservedConcurrentExecutions: reserved } }),
    };
  }

  getFunctionConfiguration(functionName: string, qualifier?: string): FunctionConfiguration {
    return this.#registry.getFunctionConfiguration(functionName, qualifier);
  }

  listFunctions(input: ListFunctionsInput = {}): { Functions: FunctionConfiguration[]; NextMarker?: string } {
    return this.#registry.listFunctions(input);
  }

  deleteFunction(functionName: string, qualifier?: string): void {
    const { FunctionName } = this.#registry.getFunctionConfiguration(functionName);
    const provisioned = this.#registry.allProvisionedConcurrency().filter(({ record }) => record.functionName === FunctionName);
    this.#registry.deleteFunction(functionName, qualifier);
    for (const { record } of provisioned) {
      if (qualifier === undefined || record.qualifier === qualifier) this.#contexts.unprovision(provisioningId(record));
    }
    if (qualifier === undefined) this.#concurrency.setReservation(FunctionName, null);
    this.#async.configs.forget(FunctionName, qualifier);
    this.#contexts.retire(FunctionName, 'all');
    this.#watcher.sync(this.#registry.watchedFunctions());
  }

  updateFunctionCode(functionName: string, input: UpdateFunctionCodeInput, fromLocalClient = true): FunctionConfiguration {
    const updated = this.#registry.updateFunctionCode(functionName, { ...this.#readable(input, fromLocalClient), Watch: input.Watch ?? (this.#watchDirectories && input.Directory !== undefined) });
    if (input.DryRun !== true) {
      this.#contexts.retire(updated.FunctionName, 'latest');
      this.#watcher.sync(this.#registry.watchedFunctions());
    }
    return updated;
  }

  updateFunctionConfiguration(functionName: string, input: UpdateFunctionConfigurationInput): FunctionConfiguration {
    const updated = this.#registry.updateFunctionConfiguration(functionName, input);
    this.#contexts.retire(updated.FunctionName, 'latest');
    return updated;
  }

  publishVersion(functionName: string, input: PublishVersionInput = {}): FunctionConfiguration {
    return this.#registry.publishVersion(functionName, input);
  }

  listVersionsByFunction(functionName: string, page: Page = {}): { Versions: FunctionConfiguration[]; NextMarker?: string } {
    return this.#registry.listVersionsByFunction(functionName, page);
  }

  createAlias(functionName: string, input: CreateAliasInput): AliasConfiguration {
    return this.#registry.createAlias(functionName, input);
  }

  getAlias(functionName: string, name: string): AliasConfiguration {
    return this.#registry.getAlias(functionName, name);
  }

  updateAlias(functionName: string, name: string, input: UpdateAliasInput): AliasConfiguration {
    const updated = this.#registry.updateAlias(functionName, name, input);
    // Provisioned contexts follow the alias to its new version.
    const provisioned = this.#registry.allProvisionedConcurrency().find(({ target }) => target.invokedFunctionArn === updated.AliasArn);
    if (provisioned !== undefined && provisioned.target.executedVersion !== this.#contexts.provisionedVersion(provisioningId(provisioned.record))) {
      this.#provision(provisioned.record, provisioned.target);
    }
    return updated;
  }

  deleteAlias(functionName: string, name: string): void {
    const { functionName: fn } = this.#registry.reservedConcurrency(functionName);
    this.#registry.deleteAlias(functionName, name);
    this.#contexts.unprovision(provisioningId({ functionName: fn, qualifier: name }));
  }

  listAliases(functionName: string, input: ListAliasesInput = {}): { Aliases: AliasConfiguration[]; NextMarker?: string } {
    return this.#registry.listAliases(functionName, input);
  }

  /** Reserves `reserved` of the account's concurrency for the function alone (0 throttles it entirely). */
  putFunctionConcurrency(functionName: string, reserved: number): FunctionConcurrency {
    const { functionName: name } = this.#registry.reservedConcurrency(functionName);
    this.#concurrency.checkReservation(name, reserved);
    this.#registry.setReservedConcurrency(name, reserved);
    this.#concurrency.setReservation(name, reserved);
    return { ReservedConcurrentExecutions: reserved };
  }

  getFunctionConcurrency(functionName: string): FunctionConcurrency {
    const { reserved } = this.#registry.reservedConcurrency(functionName);
    return reserved === null ? {} : { ReservedConcurrentExecutions: reserved };
  }

  deleteFunctionConcurrency(functionName: string): void {
    const { functionName: name } = this.#registry.reservedConcurrency(functionName);
    this.#registry.setReservedConcurrency(name, null);
    this.#concurrency.setReservation(name, null);
  }

  /**
   * Keeps `requested` execution contexts of an alias or published version initialised ahead. Answers at once
   * (Status IN_PROGRESS); the contexts start in the background and the status turns READY (or FAILED).
   */
  putProvisionedConcurrencyConfig(functionName: string, qualifier: string, requested: number): ProvisionedConcurrencyConfig {
    if (!Number.isSafeInteger(requested) || requested < 1) {
      throw validationError(requested, 'provisionedConcurrentExecutions', 'Member must have value greater than or equal to 1');
    }
    const { functionName: name, reserved } = this.#registry.reservedConcurrency(functionName);
    const others = this.#registry.allProvisionedConcurrency().filter(({ record }) => !(record.functionName === name && record.qualifier === qualifier));
    const ofFunction = others.filter(({ record }) => record.functionName === name).reduce((sum, { record }) => sum + record.requested, 0);
    if (reserved !== null && ofFunction + requested > reserved) {
      throw invalidParameter('Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function');
    }
    if (reserved === null) {
      const unreservedProvisioned = others.filter(({ record }) => this.#concurrency.reservation(record.functionName) === null).reduce((sum, { record }) => sum + record.requested, 0);
      const available = this.#concurrency.unreserved - LIMITS.unreservedConcurrencyMin - unreservedProvisioned;
      if (requested > available) throw invalidParameter(`Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [${Math.max(0, available)}].`);
    }
    const { record, target } = this.#registry.putProvisionedConcurrency(name, qualifier, requested);
    this.#provision(record, target);
    return this.#provisionedView(record);
  }

  getProvisionedConcurrencyConfig(functionName: string, qualifier: string): ProvisionedConcurrencyConfig {
    return this.#provisionedView(this.#registry.provisionedConcurrency(functionName, qualifier));
  }

  deleteProvisionedConcurrencyConfig(functionName: string, qualifier: string): void {
    const record = this.#registry.deleteProvisionedConcurrency(functionName, qualifier);
    this.#contexts.unprovision(provisioningId(record));
  }

  listProvisionedConcurrencyConfigs(functionName: string, page: Page = {}): { ProvisionedConcurrencyConfigs: ProvisionedConcurrencyConfigListItem[]; NextMarker?: string } {
    const { items, NextMarker } = this.#registry.listProvisionedConcurrency(functionName, page);
    const ProvisionedConcurrencyConfigs = items.map((record) => ({ FunctionArn: this.#registry.resolveForInvoke(record.functionName, record.qualifier).invokedFunctionArn, ...this.#provisionedView(record) }));
    return NextMarker === undefined ? { ProvisionedConcurrencyConfigs } : { ProvisionedConcurrencyConfigs, NextMarker };
  }

  /** Starts the provisioned contexts of every stored config (at daemon start). */
  restoreProvisionedConcurrency(): void {
    for (const { record, target } of this.#registry.allProvisionedConcurrency()) this.#provision(record, target);
  }

  #provision(record: ProvisionedRecord, target: InvokeTarget): void {
    const logGroup = target.configuration.LoggingConfig.LogGroup;
    // Failures show in the config's Status; nothing waits on this promise.
    void this.#contexts.provision(provisioningId(record), target, record.requested, (stream, records) => this.#logs.append(logGroup, stream, records)).catch(() => undefined);
  }

  #provisionedView(record: ProvisionedRecord): ProvisionedConcurrencyConfig {
    const status = this.#contexts.provisionedStatus(provisioningId(record)) ?? { allocated: 0, failure: null };
    const allocated = Math.min(status.allocated, record.requested);
    const state = status.failure !== null ? 'FAILED' : allocated >= record.requested ? 'READY' : 'IN_PROGRESS';
    return {
      RequestedProvisionedConcurrentExecutions: record.requested,
      AvailableProvisionedConcurrentExecutions: allocated,
      AllocatedProvisionedConcurrentExecutions: allocated,
      Status: state,
      ...(status.failure === null ? {} : { StatusReason: status.failure }),
      LastModified: formatLastModified(record.lastModified),
    };
  }

  getAccountSettings(): AccountSettings {
    return {
      AccountLimit: {
        TotalCodeSize: LIMITS.codeStorageMaxBytes,
        CodeSizeUnzipped: LIMITS.unzippedCodeMaxBytes,
        CodeSizeZipped: LIMITS.zippedCodeMaxBytes,
        ConcurrentExecutions: this.#concurrency.accountLimit,
        UnreservedConcurrentExecutions: this.#concurrency.unreserved,
      },
      AccountUsage: this.#registry.accountUsage(),
    };
  }

  accountUsage(): AccountUsage {
    return this.#registry.accountUsage();
  }

  async invoke(input: InvokeInput): Promise<InvokeOutput> {
    const invocationType = input.invocationType ?? 'RequestResponse';
    if (!INVOCATION_TYPES.includes(invocationType)) {
      throw validationError(invocationType, 'invocationType', `Member must satisfy enum value set: [${INVOCATION_TYPES.join(', ')}]`);
    }
    const logType = input.logType ?? 'None';
    if (!LOG_TYPES.includes(logType)) throw validationError(logType, 'logType', `Member must satisfy enum value set: [${LOG_TYPES.join(', ')}]`);
    if (invocationType === 'Event') return this.#enqueue(input);
    const clientContext = input.clientContext === undefined ? undefined : decodeClientContext(input.clientContext);

    const resolved = this.#registry.resolveForInvoke(input.functionName, input.qualifier);
    if (invocationType === 'DryRun') return { statusCode: 204, requestId: this.#ids.uuid(), payload: new Uint8Array(0), log: '' };
    const target = this.#routing.route(resolved);

    // Admitted or throttled before any execution context is touched; the lease goes back on every path.
    const lease = this.#admit(target);
    let result;
    try {
      result = await this.#invoker.invoke({
        target,
        payload: input.payload,
        ...(clientContext === undefined ? {} : { clientContext }),
        ...(input.traceHeader === undefined ? {} : { traceHeader: input.traceHeader }),
      });
    } catch (error) {
      // The host is full: no execution context could be started or freed for it.
      this.#countThrottle(target, error);
      throw error;
    } finally {
      this.#dismiss(target, lease);
    }
    return {
      statusCode: 200,
      requestId: result.requestId,
      executedVersion: result.executedVersion,
      payload: result.payload,
      traceHeader: result.traceHeader,
      ...(result.functionError === undefined ? {} : { functionError: result.functionError }),
      ...(logType === 'Tail' ? { logResult: tailOf(result.log) } : {}),
      get log(): string {
        return result.log;
      },
    };
  }

  /** An Event invoke: checked as Lambda checks it, kept durably, answered 202 with the event's request id. */
  #enqueue(input: InvokeInput): InvokeOutput {
    if (input.payload.byteLength > LIMITS.asyncPayloadMaxBytes) {
      throw new LambdaError('RequestEntityTooLargeException', `Request must be smaller than ${LIMITS.asyncPayloadMaxBytes} bytes for the InvokeFunction operation`);
    }
    const parsed = parseEvent(input.payload);
    if (!parsed.ok) throw new LambdaError('InvalidRequestContentException', parsed.message);
    const target = this.#registry.resolveForInvoke(input.functionName, input.qualifier);
    const requestId = this.#async.enqueue(target.configuration.FunctionName, resourceOf(target), input.payload);
    return { statusCode: 202, requestId, payload: new Uint8Array(0), log: '' };
  }

  /**
   * One attempt of an asynchronous event, through the same path as a synchronous invoke: resolve (the alias
   * as it is now), route, admit, run with the event's request id.
   */
  async attemptEvent(event: EventRecord): Promise<AttemptOutcome> {
    let resolved: InvokeTarget;
    try {
      resolved = this.#registry.resolveForInvoke(event.functionName, event.qualifier ?? undefined);
    } catch (error) {
      if (error instanceof LambdaError && error.code === 'ResourceNotFoundException') return { kind: 'gone', reason: error.message };
      throw error;
    }
    const target = this.#routing.route(resolved);
    let lease: number;
    try {
      lease = this.#admit(target);
    } catch (error) {
      if (error instanceof LambdaError && error.code === 'TooManyRequestsException') return { kind: 'throttled' };
      throw error;
    }
    try {
      // The stored bytes are handed to the context; the event keeps its own copy for retries and records.
      const result = await this.#invoker.invoke({ target, payload: new Uint8Array(event.payload), requestId: event.id });
      // A failure while the daemon stops may be the stop ending the thread: the event runs again after the
      // restart rather than losing one of its retries.
      if (result.functionError !== undefined && this.#invoker.closing) return { kind: 'stopping' };
      return { kind: result.functionError === undefined ? 'success' : 'function-error', executedVersion: result.executedVersion, payload: result.payload };
    } catch (error) {
      if (error instanceof LambdaError && error.code === 'ServiceException') return { kind: 'stopping' };
      if (this.#countThrottle(target, error)) return { kind: 'throttled' };
      throw error;
    } finally {
      this.#dismiss(target, lease);
    }
  }

  /** A concurrency lease for one invocation of `target`, or TooManyRequestsException (counted as a throttle). */
  #admit(target: InvokeTarget): number {
    const functionName = target.configuration.FunctionName;
    try {
      const lease = this.#concurrency.acquire(functionName);
      this.#metrics.running(functionName, 1);
      return lease;
    } catch (error) {
      this.#countThrottle(target, error);
      throw error;
    }
  }

  /** Counts `error` as a throttle of `target` if it is one (429); says whether it was. */
  #countThrottle(target: InvokeTarget, error: unknown): boolean {
    if (!(error instanceof LambdaError && error.code === 'TooManyRequestsException')) return false;
    this.#metrics.throttled(target.configuration.FunctionName, resourceOf(target), error.details.Reason ?? '');
    return true;
  }

  #dismiss(target: InvokeTarget, lease: number): void {
    this.#concurrency.release(lease);
    this.#metrics.running(target.configuration.FunctionName, -1);
  }

  /** The dead-letter target of the version an event runs (its DeadLetterConfig), if any. */
  deadLetterTarget(event: EventRecord): string | null {
    try {
      return this.#registry.resolveForInvoke(event.functionName, event.qualifier ?? undefined).configuration.DeadLetterConfig?.TargetArn ?? null;
    } catch {
      return null;
    }
  }

  putFunctionEventInvokeConfig(functionName: string, qualifier: string | undefined, input: EventInvokeConfigInput): FunctionEventInvokeConfig {
    return this.#async.configs.put(this.#configTarget(functionName, qualifier), qualifier, input);
  }

  updateFunctionEventInvokeConfig(functionName: string, qualifier: string | undefined, input: EventInvokeConfigInput): FunctionEventInvokeConfig {
    return this.#async.configs.update(this.#configTarget(functionName, qualifier), qualifier, input);
  }

  getFunctionEventInvokeConfig(functionName: string, qualifier?: string): FunctionEventInvokeConfig {
    return this.#async.configs.get(this.#configTarget(functionName, qualifier), qualifier);
  }

  deleteFunctionEventInvokeConfig(functionName: string, qualifier?: string): void {
    this.#async.configs.delete(this.#configTarget(functionName, qualifier), qualifier);
  }

  listFunctionEventInvokeConfigs(functionName: string, page: Page = {}): { FunctionEventInvokeConfigs: FunctionEventInvokeConfig[]; NextMarker?: string } {
    return this.#async.configs.list(this.#registry.reservedConcurrency(functionName).functionName, page.Marker, page.MaxItems);
  }

  /** The function an event-invoke config is for; its qualifier must exist. */
  #configTarget(functionName: string, qualifier: string | undefined): string {
    const { functionName: name } = this.#registry.reservedConcurrency(functionName);
    if (qualifier !== undefined) this.#registry.resolveForInvoke(name, qualifier);
    return name;
  }

  createQueue(name: string, visibilityTimeoutSeconds?: number): QueueInfo {
    return this.#queues.createQueue(name, visibilityTimeoutSeconds);
  }

  deleteQueue(queue: string): void {
    this.#queues.deleteQueue(this.#queues.resolve(queue));
  }

  listQueues(): QueueInfo[] {
    return this.#queues.listQueues();
  }

  sendMessage(queue: string, body: string): { MessageId: string; MD5OfMessageBody: string } {
    return this.#queues.sendMessage(this.#queues.resolve(queue), body);
  }

  receiveMessages(queue: string, maxNumberOfMessages?: number, visibilityTimeoutSeconds?: number): QueueMessage[] {
    return this.#queues.receiveMessages(this.#queues.resolve(queue), maxNumberOfMessages, visibilityTimeoutSeconds);
  }

  deleteMessage(queue: string, receiptHandle: string): void {
    this.#queues.deleteMessage(this.#queues.resolve(queue), receiptHandle);
  }

  /** Follows a function's log group: `listener` gets every event as it is written, until `stop()`. */
  tailLogs(functionName: string, listener: (event: StoredLogEvent) => void, filterPattern?: string): { logGroupName: string; stop: () => void } {
    const { LoggingConfig } = this.#registry.getFunctionConfiguration(functionName);
    const filter = compileFilterPattern(filterPattern);
    const deliver = filter === null ? listener : (event: StoredLogEvent): void => void (filter(event.message) && listener(event));
    return { logGroupName: LoggingConfig.LogGroup, stop: this.#logs.subscribe(LoggingConfig.LogGroup, deliver) };
  }

  /** A function's log events matching a filter pattern (as CloudWatch Logs' FilterLogEvents), oldest first. */
  filterLogEvents(functionName: string, query: { filterPattern?: string; logStreamNames?: readonly string[]; startTime?: number; endTime?: number; limit?: number }): { logGroupName: string; events: StoredLogEvent[] } {
    const { LoggingConfig } = this.#registry.getFunctionConfiguration(functionName);
    const { filterPattern, logStreamNames, ...range } = query;
    const events = this.#logs.query({
      logGroupName: LoggingConfig.LogGroup,
      ...range,
      filter: compileFilterPattern(filterPattern),
      ...(logStreamNames === undefined || logStreamNames.length === 0 ? {} : { logStreamNames }),
    });
    return { logGroupName: LoggingConfig.LogGroup, events };
  }

  /** Log events of one function's log group (`/aws/lambda/<name>`), oldest first. */
  getLogEvents(query: LogQuery): StoredLogEvent[] {
    return this.#logs.query(query);
  }

  publishLayerVersion(input: PublishLayerVersionInput, fromLocalClient = true): LayerVersionWithLocation {
    return this.#withLocation(this.#registry.publishLayerVersion({ ...input, Content: this.#readable(input.Content, fromLocalClient) }));
  }

  getLayerVersion(layerName: string, versionNumber: number): LayerVersionWithLocation {
    return this.#withLocation(this.#registry.getLayerVersion(layerName, versionNumber));
  }

  getLayerVersionByArn(arn: string): LayerVersionWithLocation {
    return this.#withLocation(this.#registry.getLayerVersionByArn(arn));
  }

  listLayerVersions(layerName: string, input: ListLayersInput): ReturnType<Registry['listLayerVersions']> {
    return this.#registry.listLayerVersions(layerName, input);
  }

  listLayers(input: ListLayersInput): ReturnType<Registry['listLayers']> {
    return this.#registry.listLayers(input);
  }

  deleteLayerVersion(layerName: string, versionNumber: number): void {
    this.#registry.deleteLayerVersion(layerName, versionNumber);
  }

  /** A layer version with the link its zip downloads from, as GetFunction's Code.Location. */
  #withLocation(layer: LayerVersion): LayerVersionWithLocation {
    return { ...layer, Content: { ...layer.Content, Location: this.#code.location(layer.Content.CodeSha256) } };
  }

  /** Replaces the network model; every execution context ends, so the next invocations run under the new one. */
  putNetwork(document: unknown): NetworkModel {
    const model = this.#network.put(document);
    let marker: string | undefined;
    do {
      const page = this.#registry.listFunctions(marker === undefined ? {} : { Marker: marker });
      for (const fn of page.Functions) this.#contexts.retire(fn.FunctionName, 'all');
      marker = page.NextMarker;
    } while (marker !== undefined);
    return model;
  }

  getNetwork(): NetworkModel {
    return this.#network.model;
  }

  putRole(roleName: string, attachedPolicyArns: readonly string[] | undefined): Role {
    return this.#network.putRole(roleName, attachedPolicyArns);
  }

  deleteRole(roleName: string): void {
    this.#network.deleteRole(roleName);
  }

  listRoles(): { Roles: Role[] } {
    return { Roles: this.#network.listRoles() };
  }

  /** X-Ray's GetTraceSummaries: traces that started in the range (epoch seconds), newest first. */
  getTraceSummaries(input: { StartTime: number; EndTime: number; NextToken?: string }): { TraceSummaries: TraceSummary[]; ApproximateTime: number; TracesProcessedCount: number; NextToken?: string } {
    if (!(input.EndTime >= input.StartTime)) throw new LambdaError('InvalidRequestException', 'EndTime must not be before StartTime');
    const page = this.#traces.summaries(input.StartTime, input.EndTime, input.NextToken);
    return {
      TraceSummaries: page.summaries,
      ApproximateTime: Math.floor(Date.now() / 1000),
      TracesProcessedCount: page.total,
      ...(page.nextToken === undefined ? {} : { NextToken: page.nextToken }),
    };
  }

  /** X-Ray's BatchGetTraces: whole traces, each segment's document as JSON text. */
  batchGetTraces(traceIds: readonly string[]): { Traces: Trace[]; UnprocessedTraceIds: string[] } {
    if (traceIds.length > LIMITS.batchGetTracesMaxIds) throw new LambdaError('InvalidRequestException', `TraceIds may name at most ${LIMITS.batchGetTracesMaxIds} traces`);
    const { traces, unprocessed } = this.#traces.traces(traceIds);
    return { Traces: traces, UnprocessedTraceIds: unprocessed };
  }
}

/** The execution contexts' name for one provisioned-concurrency config. */
function provisioningId(record: Pick<ProvisionedRecord, 'functionName' | 'qualifier'>): string {
  return `${record.functionName}:${record.qualifier}`;
}
