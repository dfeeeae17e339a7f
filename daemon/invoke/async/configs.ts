/**
 * Event-invoke configs (Put/Update/Get/Delete/ListFunctionEventInvokeConfig): per function and qualifier,
 * how many times a failing event is retried, how old it may get, and where outcomes go. Checked here, kept in
 * the event store. The caller has resolved the function and the qualifier.
 */
import { invalidParameter, notFound, validationError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import type { EventInvokeConfigRecord, EventRecord, EventStore } from './event-store.js';

export interface DestinationInput {
  Destination?: string;
}

export interface EventInvokeConfigInput {
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
  DestinationConfig?: { OnSuccess?: DestinationInput; OnFailure?: DestinationInput };
}

export interface FunctionEventInvokeConfig {
  /** Epoch seconds, with milliseconds as the fraction (as Lambda shows it). */
  LastModified: number;
  /** Qualified with the config's qualifier. */
  FunctionArn: string;
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
  DestinationConfig: { OnSuccess: DestinationInput; OnFailure: DestinationInput };
}

/** Where records and dead letters go: a lambdad function (invoked asynchronously) or a lambdad queue. */
export interface Destinations {
  /** Delivers `event`'s invocation record to `destination` (nothing when null). Runs inside the event store's transaction. */
  deliver(event: EventRecord, destination: string | null, record: string): void;
  /** Sends a failed event to its function's dead-letter queue, when the function has one. */
  deadLetter(event: EventRecord, errorMessage: string | null): void;
}

const LATEST = '$LATEST';

export class EventInvokeConfigs {
  readonly #store: EventStore;
  readonly #scope: { readonly region: string; readonly accountId: string; readonly clock: { now(): number } };

  constructor(store: EventStore, scope: { readonly region: string; readonly accountId: string; readonly clock: { now(): number } }) {
    this.#store = store;
    this.#scope = scope;
  }

  /** Replaces the config: members left out are removed. */
  put(functionName: string, qualifier: string | undefined, input: EventInvokeConfigInput): FunctionEventInvokeConfig {
    return this.#save(functionName, qualifier ?? LATEST, this.#checked(functionName, input, null));
  }

  /** Changes the members given and keeps the others. */
  update(functionName: string, qualifier: string | undefined, input: EventInvokeConfigInput): FunctionEventInvokeConfig {
    const key = qualifier ?? LATEST;
    const current = this.#store.config(functionName, key) ?? null;
    return this.#save(functionName, key, this.#checked(functionName, input, current));
  }

  get(functionName: string, qualifier: string | undefined): FunctionEventInvokeConfig {
    const key = qualifier ?? LATEST;
    const record = this.#store.config(functionName, key);
    if (record === undefined) throw notFound(`The function ${this.#arn(functionName, key)} doesn't have an EventInvokeConfig`);
    return this.#view(record);
  }

  delete(functionName: string, qualifier: string | undefined): void {
    const key = qualifier ?? LATEST;
    if (!this.#store.deleteConfig(functionName, key)) throw notFound(`The function ${this.#arn(functionName, key)} doesn't have an EventInvokeConfig`);
  }

  list(functionName: string, marker: string | undefined, maxItems: number | undefined): { FunctionEventInvokeConfigs: FunctionEventInvokeConfig[]; NextMarker?: string } {
    if (maxItems !== undefined && (!Number.isSafeInteger(maxItems) || maxItems < 1 || maxItems > LIMITS.listEventInvokeConfigsPageSize)) {
      throw validationError(maxItems, 'maxItems', `Member must have value less than or equal to ${LIMITS.listEventInvokeConfigsPageSize}`);
    }
    const size = maxItems ?? LIMITS.listEventInvokeConfigsPageSize;
    const after = marker === undefined || marker === '' ? '' : Buffer.from(marker, 'base64url').toString('utf8');
    const rows = this.#store.configs(functionName, after, size + 1);
    const page = rows.slice(0, size).map((record) => this.#view(record));
    if (rows.length <= size) return { FunctionEventInvokeConfigs: page };
    return { FunctionEventInvokeConfigs: page, NextMarker: Buffer.from(rows[size - 1]!.qualifier).toString('base64url') };
  }

  /** The config an event of `qualifier` (null: unqualified, so $LATEST) runs under, if any. */
  effective(functionName: string, qualifier: string | null): EventInvokeConfigRecord | undefined {
    return this.#store.config(functionName, qualifier ?? LATEST);
  }

  /** A deleted function's configs, or one version's or alias's. */
  forget(functionName: string, qualifier?: string): void {
    this.#store.forgetFunction(functionName, qualifier);
  }

  #checked(functionName: string, input: EventInvokeConfigInput, current: EventInvokeConfigRecord | null): Omit<EventInvokeConfigRecord, 'functionName' | 'qualifier' | 'lastModified'> {
    const retries = input.MaximumRetryAttempts;
    if (retries !== undefined && (!Number.isSafeInteger(retries) || retries < 0 || retries > LIMITS.asyncRetryAttemptsMax)) {
      throw validationError(retries, 'maximumRetryAttempts', `Member must have value less than or equal to ${LIMITS.asyncRetryAttemptsMax}`);
    }
    const age = input.MaximumEventAgeInSeconds;
    if (age !== undefined && (!Number.isSafeInteger(age) || age < LIMITS.asyncEventMinAgeSeconds || age > LIMITS.asyncEventMaxAgeSeconds)) {
      throw validationError(age, 'maximumEventAgeInSeconds', age < LIMITS.asyncEventMinAgeSeconds ? `Member must have value greater than or equal to ${LIMITS.asyncEventMinAgeSeconds}` : `Member must have value less than or equal to ${LIMITS.asyncEventMaxAgeSeconds}`);
    }
    const onSuccess = input.DestinationConfig?.OnSuccess === undefined ? current?.onSuccess ?? null : this.#destination(functionName, input.DestinationConfig.OnSuccess.Destination);
    const onFailure = input.DestinationConfig?.OnFailure === undefined ? current?.onFailure ?? null : this.#destination(functionName, input.DestinationConfig.OnFailure.Destination);
    return {
      maximumRetryAttempts: retries ?? current?.maximumRetryAttempts ?? null,
      maximumEventAgeInSeconds: age ?? current?.maximumEventAgeInSeconds ?? null,
      onSuccess,
      onFailure,
    };
  }

  /** A destination ARN: a function of this region and account (not this one) or a queue. */
  #destination(functionName: string, arn: string | undefined): string | null {
    if (arn === undefined || arn === '') return null;
    const { region, accountId } = this.#scope;
    const lambda = new RegExp(`^arn:aws:lambda:${region}:${accountId}:function:([a-zA-Z0-9_-]{1,64})(:[a-zA-Z0-9$_-]+)?$`).exec(arn);
    const queue = new RegExp(`^arn:aws:sqs:${region}:${accountId}:[A-Za-z0-9_-]{1,80}$`).test(arn);
    if (lambda === null && !queue) throw invalidParameter(`The destination ARN ${arn} is invalid. lambdad delivers to functions (arn:aws:lambda:${region}:${accountId}:function:…) and queues (arn:aws:sqs:${region}:${accountId}:…).`);
    if (lambda !== null && lambda[1] === functionName) throw invalidParameter("You can't specify the function as a destination for itself.");
    return arn;
  }

  #save(functionName: string, qualifier: string, fields: Omit<EventInvokeConfigRecord, 'functionName' | 'qualifier' | 'lastModified'>): FunctionEventInvokeConfig {
    const record: EventInvokeConfigRecord = { functionName, qualifier, ...fields, lastModified: this.#scope.clock.now() };
    this.#store.putConfig(record);
    return this.#view(record);
  }

  #view(record: EventInvokeConfigRecord): FunctionEventInvokeConfig {
    return {
      LastModified: record.lastModified / 1000,
      FunctionArn: this.#arn(record.functionName, record.qualifier),
      ...(record.maximumRetryAttempts === null ? {} : { MaximumRetryAttempts: record.maximumRetryAttempts }),
      ...(record.maximumEventAgeInSeconds === null ? {} : { MaximumEventAgeInSeconds: record.maximumEventAgeInSeconds }),
      DestinationConfig: {
        OnSuccess: record.onSuccess === null ? {} : { Destination: record.onSuccess },
        OnFailure: record.onFailure === null ? {} : { Destination: record.onFailure },
      },
    };
  }

  #arn(functionName: string, qualifier: string): string {
    return `arn:aws:lambda:${this.#scope.region}:${this.#scope.accountId}:function:${functionName}:${qualifier}`;
  }
}
