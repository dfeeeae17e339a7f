/**
 * The protocol's operations, each translated onto one LambdaService call: names and shapes in, names and
 * shapes out, nothing decided here.
 */
import type { Operation, Operations } from '../../protocol/generated/types.js';
import type { CodeInput } from '../registry/index.js';
import type { LambdaService } from '../service.js';

/** What a connection offers the handlers: where its client is, and log subscriptions tied to its lifetime. */
export interface Session {
  /** The client is on the daemon's own machine (a loopback peer): it may name code by directory. */
  readonly fromLocalClient: boolean;
  /** Starts pushing events under `subscription` (the id of the request that asked). */
  follow(subscription: number, functionName: string, filterPattern?: string): string;
  unfollow(subscription: number): void;
}

type Handler<Op extends Operation> = (service: LambdaService, input: Operations[Op]['input'], session: Session, requestId: number) => Operations[Op]['output'] | Promise<Operations[Op]['output']>;

function code(input: { ZipFile?: Uint8Array; Directory?: string }): CodeInput {
  return input as CodeInput;
}

export const HANDLERS: { readonly [Op in Operation]: Handler<Op> } = Object.freeze({
  CreateFunction: (service, { Code, ...rest }, session) => service.createFunction({ ...rest, Code: code(Code ?? {}) }, session.fromLocalClient),
  GetFunction: (service, input) => service.getFunction(input.FunctionName, input.Qualifier),
  GetFunctionConfiguration: (service, input) => service.getFunctionConfiguration(input.FunctionName, input.Qualifier),
  ListFunctions: (service, input) => service.listFunctions(input),
  DeleteFunction: (service, input) => {
    service.deleteFunction(input.FunctionName, input.Qualifier);
    return {};
  },
  UpdateFunctionCode: (service, { FunctionName, ...rest }, session) => service.updateFunctionCode(FunctionName, rest, session.fromLocalClient),
  UpdateFunctionConfiguration: (service, { FunctionName, ...rest }) => service.updateFunctionConfiguration(FunctionName, rest),
  PublishVersion: (service, { FunctionName, ...rest }) => service.publishVersion(FunctionName, rest),
  ListVersionsByFunction: (service, { FunctionName, ...rest }) => service.listVersionsByFunction(FunctionName, rest),
  CreateAlias: (service, { FunctionName, ...rest }) => service.createAlias(FunctionName, rest),
  GetAlias: (service, input) => service.getAlias(input.FunctionName, input.Name),
  UpdateAlias: (service, { FunctionName, Name, ...rest }) => service.updateAlias(FunctionName, Name, rest),
  DeleteAlias: (service, input) => {
    service.deleteAlias(input.FunctionName, input.Name);
    return {};
  },
  ListAliases: (service, { FunctionName, ...rest }) => service.listAliases(FunctionName, rest),
  PutFunctionConcurrency: (service, input) => service.putFunctionConcurrency(input.FunctionName, input.ReservedConcurrentExecutions),
  GetFunctionConcurrency: (service, input) => service.getFunctionConcurrency(input.FunctionName),
  DeleteFunctionConcurrency: (service, input) => {
    service.deleteFunctionConcurrency(input.FunctionName);
    return {};
  },
  GetAccountSettings: (service) => service.getAccountSettings(),
  PutProvisionedConcurrencyConfig: (service, input) => service.putProvisionedConcurrencyConfig(input.FunctionName, input.Qualifier, input.ProvisionedConcurrentExecutions),
  GetProvisionedConcurrencyConfig: (service, input) => service.getProvisionedConcurrencyConfig(input.FunctionName, input.Qualifier),
  DeleteProvisionedConcurrencyConfig: (service, input) => {
    service.deleteProvisionedConcurrencyConfig(input.FunctionName, input.Qualifier);
    return {};
  },
  ListProvisionedConcurrencyConfigs: (service, { FunctionName, ...page }) => service.listProvisionedConcurrencyConfigs(FunctionName, page),
  PutFunctionEventInvokeConfig: (service, { FunctionName, Qualifier, ...input }) => service.putFunctionEventInvokeConfig(FunctionName, Qualifier, input),
  UpdateFunctionEventInvokeConfig: (service, { FunctionName, Qualifier, ...input }) => service.updateFunctionEventInvokeConfig(FunctionName, Qualifier, input),
  GetFunctionEventInvokeConfig: (service, input) => service.getFunctionEventInvokeConfig(input.FunctionName, input.Qualifier),
  DeleteFunctionEventInvokeConfig: (service, input) => {
    service.deleteFunctionEventInvokeConfig(input.FunctionName, input.Qualifier);
    return {};
  },
  ListFunctionEventInvokeConfigs: (service, { FunctionName, ...page }) => service.listFunctionEventInvokeConfigs(FunctionName, page),
  CreateQueue: (service, input) => service.createQueue(input.QueueName, input.VisibilityTimeout),
  DeleteQueue: (service, input) => {
    service.deleteQueue(input.QueueName);
    return {};
  },
  ListQueues: (service) => ({ Queues: service.listQueues() }),
  SendMessage: (service, input) => service.sendMessage(input.QueueName, input.MessageBody),
  ReceiveMessage: (service, input) => ({ Messages: service.receiveMessages(input.QueueName, input.MaxNumberOfMessages, input.VisibilityTimeout) }),
  DeleteMessage: (service, input) => {
    service.deleteMessage(input.QueueName, input.ReceiptHandle);
    return {};
  },
  Invoke: async (service, input) => {
    const result = await service.invoke({
      functionName: input.FunctionName,
      payload: input.Payload ?? new Uint8Array(0),
      ...(input.Qualifier === undefined ? {} : { qualifier: input.Qualifier }),
      ...(input.InvocationType === undefined ? {} : { invocationType: input.InvocationType }),
      ...(input.LogType === undefined ? {} : { logType: input.LogType }),
      ...(input.ClientContext === undefined ? {} : { clientContext: input.ClientContext }),
      ...(input.TraceHeader === undefined ? {} : { traceHeader: input.TraceHeader }),
    });
    return {
      StatusCode: result.statusCode,
      RequestId: result.requestId,
      Payload: result.payload,
      ...(result.executedVersion === undefined ? {} : { ExecutedVersion: result.executedVersion }),
      ...(result.functionError === undefined ? {} : { FunctionError: result.functionError }),
      ...(result.logResult === undefined ? {} : { LogResult: result.logResult }),
      ...(result.traceHeader === undefined ? {} : { TraceHeader: result.traceHeader }),
    };
  },
  GetLogEvents: (service, input) => {
    const { LoggingConfig } = service.getFunctionConfiguration(input.FunctionName);
    const events = service.getLogEvents({
      logGroupName: LoggingConfig.LogGroup,
      ...(input.LogStreamName === undefined ? {} : { logStreamName: input.LogStreamName }),
      ...(input.StartTime === undefined ? {} : { startTime: input.StartTime }),
      ...(input.EndTime === undefined ? {} : { endTime: input.EndTime }),
      ...(input.Limit === undefined ? {} : { limit: input.Limit }),
    });
    return {
      Events: events.map((event) => ({ LogGroupName: LoggingConfig.LogGroup, LogStreamName: event.logStreamName, Timestamp: event.timestamp, Message: event.message })),
    };
  },
  TailLogs: (_service, input, session, requestId) => ({ LogGroupName: session.follow(requestId, input.FunctionName, input.FilterPattern) }),
  FilterLogEvents: (service, input) => {
    const { logGroupName, events } = service.filterLogEvents(input.FunctionName, {
      ...(input.FilterPattern === undefined ? {} : { filterPattern: input.FilterPattern }),
      ...(input.LogStreamNames === undefined ? {} : { logStreamNames: input.LogStreamNames }),
      ...(input.StartTime === undefined ? {} : { startTime: input.StartTime }),
      ...(input.EndTime === undefined ? {} : { endTime: input.EndTime }),
      ...(input.Limit === undefined ? {} : { limit: input.Limit }),
    });
    return { Events: events.map((event) => ({ LogGroupName: logGroupName, LogStreamName: event.logStreamName, Timestamp: event.timestamp, Message: event.message })) };
  },
  GetTraceSummaries: (service, input) => service.getTraceSummaries(input),
  BatchGetTraces: (service, input) => service.batchGetTraces(input.TraceIds ?? []),
  PublishLayerVersion: (service, { Content, ...rest }, session) => service.publishLayerVersion({ ...rest, Content: code(Content ?? {}) }, session.fromLocalClient),
  GetLayerVersion: (service, input) => service.getLayerVersion(input.LayerName, input.VersionNumber),
  GetLayerVersionByArn: (service, input) => service.getLayerVersionByArn(input.Arn),
  ListLayerVersions: (service, { LayerName, ...rest }) => service.listLayerVersions(LayerName, rest),
  ListLayers: (service, input) => service.listLayers(input),
  PutNetwork: (service, input) => service.putNetwork(input) as Operations['PutNetwork']['output'],
  GetNetwork: (service) => service.getNetwork() as Operations['GetNetwork']['output'],
  PutRole: (service, input) => service.putRole(input.RoleName, input.AttachedPolicyArns),
  DeleteRole: (service, input) => {
    service.deleteRole(input.RoleName);
    return {};
  },
  ListRoles: (service) => service.listRoles(),
  DeleteLayerVersion: (service, input) => {
    service.deleteLayerVersion(input.LayerName, input.VersionNumber);
    return {};
  },
  UntailLogs: (_service, input, session) => {
    session.unfollow(input.subscription);
    return {};
  },
});
