/**
 * LambdaService: one method per Lambda operation, the only thing adapters (WebSocket, REST, CLI) call.
 * It owns the order of things — what is checked, what is changed, which contexts must go — and delegates
 * each step to its domain.
 */
import type { ExecutionContexts } from './contexts/index.js';
import type { Invoker, InvokeResult } from './invoke/index.js';
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
  /** Decoded client context JSON (sync invocations only). */
  readonly clientContext?: string;
}

export class LambdaService {
  readonly #registry: Registry;
  readonly #contexts: ExecutionContexts;
  readonly #invoker: Invoker;
  readonly #logs: LogStore;

  constructor(parts: { registry: Registry; contexts: ExecutionContexts; invoker: Invoker; logs: LogStore }) {
    this.#registry = parts.registry;
    this.#contexts = parts.contexts;
    this.#invoker = parts.invoker;
    this.#logs = parts.logs;
  }

  createFunction(input: CreateFunctionInput): FunctionConfiguration {
    return this.#registry.createFunction(input);
  }

  getFunctionConfiguration(functionName: string, qualifier?: string): FunctionConfiguration {
    return this.#registry.getFunctionConfiguration(functionName, qualifier);
  }

  listFunctions(input: ListFunctionsInput = {}): { Functions: FunctionConfiguration[]; NextMarker?: string } {
    return this.#registry.listFunctions(input);
  }

  deleteFunction(functionName: string, qualifier?: string): void {
    const { FunctionName } = this.#registry.getFunctionConfiguration(functionName);
    this.#registry.deleteFunction(functionName, qualifier);
    this.#contexts.retire(FunctionName);
  }

  updateFunctionCode(functionName: string, input: UpdateFunctionCodeInput): FunctionConfiguration {
    const updated = this.#registry.updateFunctionCode(functionName, input);
    if (input.DryRun !== true) this.#contexts.retire(updated.FunctionName);
    return updated;
  }

  updateFunctionConfiguration(functionName: string, input: UpdateFunctionConfigurationInput): FunctionConfiguration {
    const updated = this.#registry.updateFunctionConfiguration(functionName, input);
    this.#contexts.retire(updated.FunctionName);
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
    return this.#registry.updateAlias(functionName, name, input);
  }

  deleteAlias(functionName: string, name: string): void {
    this.#registry.deleteAlias(functionName, name);
  }

  listAliases(functionName: string, input: ListAliasesInput = {}): { Aliases: AliasConfiguration[]; NextMarker?: string } {
    return this.#registry.listAliases(functionName, input);
  }

  accountUsage(): AccountUsage {
    return this.#registry.accountUsage();
  }

  invoke(input: InvokeInput): Promise<InvokeResult> {
    // An alias runs its primary version for now; weighted choice belongs to routing.
    const target = this.#registry.resolveForInvoke(input.functionName, input.qualifier);
    return this.#invoker.invoke({
      target,
      payload: input.payload,
      ...(input.clientContext === undefined ? {} : { clientContext: input.clientContext }),
    });
  }

  /** Log events of one function's log group (`/aws/lambda/<name>`), oldest first. */
  getLogEvents(query: LogQuery): StoredLogEvent[] {
    return this.#logs.query(query);
  }
}
