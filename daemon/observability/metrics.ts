/**
 * lambdad's Prometheus metrics (prom-client, a registry of its own), named and labelled as spec/metrics.md §3
 * maps Lambda's CloudWatch metrics: `function_name`, `resource` (the qualifier the caller named: `$LATEST`, a
 * version or an alias) and `executed_version`. Labels stay bounded: never a request id. Recording is cheap on
 * the hot path: label children are looked up once per label set and kept.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Which invocation a recording is about. */
export interface InvocationLabels {
  readonly functionName: string;
  readonly resource: string;
  readonly executedVersion: string;
}

/** What an invocation did, as its REPORT line says it. */
export interface InvocationRecord {
  readonly durationMs: number;
  /** Set on a cold start. */
  readonly initDurationMs?: number;
  readonly maxMemoryUsedBytes: number;
  /** `Sandbox.Timedout`, `Runtime.ExitError`, … or `Function` for a handler's own error; absent on success. */
  readonly errorType?: string;
}

/** Values read when Prometheus scrapes, not on every invocation. */
export interface ScrapeView {
  accountLimit(): number;
  unreservedInFlight(): number;
  reservations(): ReadonlyMap<string, number>;
  /** Execution contexts by state. */
  environments(): { readonly idle: number; readonly busy: number; readonly spare: number };
  /** Per provisioned alias or version: contexts allocated and busy. */
  provisioned(): readonly { readonly functionName: string; readonly resource: string; readonly allocated: number; readonly busy: number }[];
}

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];
const AGE_BUCKETS = [0.01, 0.1, 1, 10, 60, 300, 900, 3600, 21_600];

export class Metrics {
  readonly registry = new Registry();
  readonly #invocations = new Counter({ name: 'lambda_invocations_total', help: 'Times function code ran (success or function error).', labelNames: ['function_name', 'resource', 'executed_version'], registers: [this.registry] });
  readonly #errors = new Counter({ name: 'lambda_errors_total', help: 'Invocations that ended in a function error.', labelNames: ['function_name', 'resource', 'executed_version', 'error_type'], registers: [this.registry] });
  readonly #throttles = new Counter({ name: 'lambda_throttles_total', help: 'Invocation requests refused for lack of concurrency (429).', labelNames: ['function_name', 'resource', 'reason'], registers: [this.registry] });
  readonly #coldStarts = new Counter({ name: 'lambda_cold_starts_total', help: 'Invocations that started an execution context.', labelNames: ['function_name', 'resource', 'executed_version'], registers: [this.registry] });
  readonly #duration = new Histogram({ name: 'lambda_duration_seconds', help: 'Invocation duration, as REPORT shows it.', labelNames: ['function_name', 'resource', 'executed_version'], buckets: DURATION_BUCKETS, registers: [this.registry] });
  readonly #initDuration = new Histogram({ name: 'lambda_init_duration_seconds', help: "Cold starts' Init Duration.", labelNames: ['function_name', 'resource', 'executed_version'], buckets: DURATION_BUCKETS, registers: [this.registry] });
  readonly #maxMemory = new Gauge({ name: 'lambda_max_memory_used_bytes', help: "The last invocation's Max Memory Used.", labelNames: ['function_name', 'resource', 'executed_version'], registers: [this.registry] });
  readonly #concurrent = new Gauge({ name: 'lambda_concurrent_executions', help: 'Invocations running now.', labelNames: ['function_name'], registers: [this.registry] });
  readonly #asyncReceived = new Counter({ name: 'lambda_async_events_received_total', help: 'Event invokes accepted (202).', labelNames: ['function_name', 'resource'], registers: [this.registry] });
  readonly #asyncDropped = new Counter({ name: 'lambda_async_events_dropped_total', help: 'Events ended without a successful run.', labelNames: ['function_name', 'resource', 'reason'], registers: [this.registry] });
  readonly #asyncAge = new Histogram({ name: 'lambda_async_event_age_seconds', help: 'Time from accepting an event to each attempt.', labelNames: ['function_name', 'resource'], buckets: AGE_BUCKETS, registers: [this.registry] });
  readonly #deliveryFailures = new Counter({ name: 'lambda_destination_delivery_failures_total', help: 'Records that could not be delivered to a destination.', labelNames: ['function_name', 'resource'], registers: [this.registry] });
  readonly #provisionedInvocations = new Counter({ name: 'lambda_provisioned_concurrency_invocations_total', help: 'Invocations served by provisioned execution contexts.', labelNames: ['function_name', 'resource'], registers: [this.registry] });
  readonly #spilloverInvocations = new Counter({ name: 'lambda_provisioned_concurrency_spillover_invocations_total', help: 'Invocations of a provisioned version served on demand: all its provisioned contexts were busy.', labelNames: ['function_name', 'resource'], registers: [this.registry] });
  readonly #deadLetterErrors = new Counter({ name: 'lambda_dead_letter_errors_total', help: 'Failed events that could not be written to the dead-letter queue.', labelNames: ['function_name', 'resource'], registers: [this.registry] });
  /** Label children by label values joined: prom-client's own lookup costs microseconds per call. */
  readonly #children = new Map<string, InvocationChildren>();

  constructor(view: ScrapeView) {
    collectDefaultMetrics({ register: this.registry });
    const registry = this.registry;
    new Gauge({ name: 'lambda_concurrency_limit', help: "The account's concurrent executions limit.", registers: [registry], collect() { this.set(view.accountLimit()); } });
    new Gauge({ name: 'lambda_unreserved_concurrent_executions', help: 'Invocations of functions without reserved concurrency running now.', registers: [registry], collect() { this.set(view.unreservedInFlight()); } });
    new Gauge({
      name: 'lambda_reserved_concurrency',
      help: 'Reserved concurrency per function.',
      labelNames: ['function_name'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [name, reserved] of view.reservations()) this.set({ function_name: name }, reserved);
      },
    });
    new Gauge({
      name: 'lambda_execution_environments',
      help: 'Execution contexts by state: idle (bound, waiting), busy, spare (started ahead, unbound).',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const census = view.environments();
        for (const state of ['idle', 'busy', 'spare'] as const) this.set({ state }, census[state]);
      },
    });
    const provisionedGauge = (name: string, help: string, read: (use: ReturnType<ScrapeView['provisioned']>[number]) => number): void =>
      void new Gauge({
        name,
        help,
        labelNames: ['function_name', 'resource'],
        registers: [registry],
        collect() {
          this.reset();
          for (const use of view.provisioned()) this.set({ function_name: use.functionName, resource: use.resource }, read(use));
        },
      });
    provisionedGauge('lambda_provisioned_concurrency_allocated', 'Provisioned execution contexts initialised and alive.', (use) => use.allocated);
    provisionedGauge('lambda_provisioned_concurrent_executions', 'Provisioned execution contexts busy with an invocation.', (use) => use.busy);
    provisionedGauge('lambda_provisioned_concurrency_utilization_ratio', 'Busy provisioned contexts over allocated ones.', (use) => (use.allocated === 0 ? 0 : use.busy / use.allocated));
  }

  /** Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  invoked(labels: InvocationLabels, record: InvocationRecord): void {
    const children = this.#childrenOf(labels);
    children.invocations.inc();
    children.duration.observe(record.durationMs / 1000);
    children.maxMemory.set(record.maxMemoryUsedBytes);
    if (record.initDurationMs !== undefined) {
      children.coldStarts.inc();
      children.initDuration.observe(record.initDurationMs / 1000);
    }
    if (record.errorType !== undefined) this.#errors.inc({ function_name: labels.functionName, resource: labels.resource, executed_version: labels.executedVersion, error_type: record.errorType });
  }

  /** Where an invocation of a provisioned version ran. */
  placed(functionName: string, resource: string, placement: 'provisioned' | 'spillover'): void {
    (placement === 'provisioned' ? this.#provisionedInvocations : this.#spilloverInvocations).inc({ function_name: functionName, resource });
  }

  throttled(functionName: string, resource: string, reason: string): void {
    this.#throttles.inc({ function_name: functionName, resource, reason });
  }

  /** One more (or, with -1, one fewer) invocation of the function running. */
  running(functionName: string, change: 1 | -1): void {
    this.#concurrent.inc({ function_name: functionName }, change);
  }

  asyncReceived(functionName: string, resource: string): void {
    this.#asyncReceived.inc({ function_name: functionName, resource });
  }

  asyncAttempted(functionName: string, resource: string, ageMs: number): void {
    this.#asyncAge.observe({ function_name: functionName, resource }, ageMs / 1000);
  }

  asyncDropped(functionName: string, resource: string, reason: string): void {
    this.#asyncDropped.inc({ function_name: functionName, resource, reason });
  }

  destinationFailed(functionName: string, resource: string): void {
    this.#deliveryFailures.inc({ function_name: functionName, resource });
  }

  deadLetterFailed(functionName: string, resource: string): void {
    this.#deadLetterErrors.inc({ function_name: functionName, resource });
  }

  #childrenOf(labels: InvocationLabels): InvocationChildren {
    const key = `${labels.functionName}\n${labels.resource}\n${labels.executedVersion}`;
    let children = this.#children.get(key);
    if (children === undefined) {
      const values = { function_name: labels.functionName, resource: labels.resource, executed_version: labels.executedVersion };
      children = {
        invocations: this.#invocations.labels(values),
        duration: this.#duration.labels(values),
        maxMemory: this.#maxMemory.labels(values),
        coldStarts: this.#coldStarts.labels(values),
        initDuration: this.#initDuration.labels(values),
      };
      this.#children.set(key, children);
    }
    return children;
  }
}

interface InvocationChildren {
  readonly invocations: ReturnType<Counter['labels']>;
  readonly duration: ReturnType<Histogram['labels']>;
  readonly maxMemory: ReturnType<Gauge['labels']>;
  readonly coldStarts: ReturnType<Counter['labels']>;
  readonly initDuration: ReturnType<Histogram['labels']>;
}
