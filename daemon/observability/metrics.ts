/**
 * lambdad's Prometheus metrics (prom-client, a registry of its own), named and labelled as spec/metrics.md §3
 * maps Lambda's CloudWatch metrics: `function_name`, `resource` (the qualifier the caller named: `$LATEST`, a
 * version or an alias) and `executed_version`. Labels stay bounded: never a request id. Recording is cheap on
 * the hot path: an invocation's series are plain numbers, read by the registry when Prometheus scrapes.
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
  /** Execution contexts the host holds at most (`--max-contexts`, or derived from its memory). */
  contextLimit(): number;
  unreservedInFlight(): number;
  reservations(): ReadonlyMap<string, number>;
  /** Execution contexts by state. */
  environments(): { readonly idle: number; readonly busy: number; readonly spare: number };
  /** Per provisioned alias or version: contexts allocated and busy. */
  provisioned(): readonly { readonly functionName: string; readonly resource: string; readonly allocated: number; readonly busy: number }[];
}

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];
const AGE_BUCKETS = [0.01, 0.1, 1, 10, 60, 300, 900, 3600, 21_600];

/** What the daemon's parts record; with `--metrics off` they get NO_METRICS, which records nothing. */
export type MetricsRecorder = Pick<Metrics, 'invoked' | 'placed' | 'throttled' | 'running' | 'asyncReceived' | 'asyncAttempted' | 'asyncDropped' | 'destinationFailed' | 'deadLetterFailed'>;

const ignore = (): void => undefined;
export const NO_METRICS: MetricsRecorder = Object.freeze({
  invoked: ignore,
  placed: ignore,
  throttled: ignore,
  running: ignore,
  asyncReceived: ignore,
  asyncAttempted: ignore,
  asyncDropped: ignore,
  destinationFailed: ignore,
  deadLetterFailed: ignore,
});

export class Metrics {
  readonly registry = new Registry();
  readonly #errors = new Counter({ name: 'lambda_errors_total', help: 'Invocations that ended in a function error.', labelNames: ['function_name', 'resource', 'executed_version', 'error_type'], registers: [this.registry] });
  readonly #throttles = new Counter({ name: 'lambda_throttles_total', help: 'Invocation requests refused for lack of concurrency (429).', labelNames: ['function_name', 'resource', 'reason'], registers: [this.registry] });
  /** Invocations running now, by function: a plain map on the hot path, read at scrape. */
  readonly #running = new Map<string, number>();
  readonly #asyncReceived = new Counter({ name: 'lambda_async_events_received_total', help: 'Event invokes accepted (202).', labelNames: ['function_name', 'resource'], registers: [this.registry] });
  readonly #asyncDropped = new Counter({ name: 'lambda_async_events_dropped_total', help: 'Events ended without a successful run.', labelNames: ['function_name', 'resource', 'reason'], registers: [this.registry] });
  readonly #asyncAge = new Histogram({ name: 'lambda_async_event_age_seconds', help: 'Time from accepting an event to each attempt.', labelNames: ['function_name', 'resource'], buckets: AGE_BUCKETS, registers: [this.registry] });
  readonly #deliveryFailures = new Counter({ name: 'lambda_destination_delivery_failures_total', help: 'Records that could not be delivered to a destination.', labelNames: ['function_name', 'resource'], registers: [this.registry] });
  readonly #provisionedInvocations = new Counter({ name: 'lambda_provisioned_concurrency_invocations_total', help: 'Invocations served by provisioned execution contexts.', labelNames: ['function_name', 'resource'], registers: [this.registry] });
  readonly #spilloverInvocations = new Counter({ name: 'lambda_provisioned_concurrency_spillover_invocations_total', help: 'Invocations of a provisioned version served on demand: all its provisioned contexts were busy.', labelNames: ['function_name', 'resource'], registers: [this.registry] });
  readonly #deadLetterErrors = new Counter({ name: 'lambda_dead_letter_errors_total', help: 'Failed events that could not be written to the dead-letter queue.', labelNames: ['function_name', 'resource'], registers: [this.registry] });
  /** Per invocation label set, in plain numbers: see InvocationSeries. */
  readonly #cells = new Map<string, InvocationCell>();

  constructor(view: ScrapeView) {
    collectDefaultMetrics({ register: this.registry });
    const registry = this.registry;
    const cells = (): Iterable<InvocationCell> => this.#cells.values();
    const running = this.#running;
    new Gauge({
      name: 'lambda_concurrent_executions',
      help: 'Invocations running now.',
      labelNames: ['function_name'],
      registers: [registry],
      collect() {
        for (const [name, count] of running) this.set({ function_name: name }, count);
      },
    });
    registry.registerMetric(new InvocationSeries('lambda_invocations_total', 'Times function code ran (success or function error).', 'counter', cells, (cell) => cell.invocations) as never);
    registry.registerMetric(new InvocationSeries('lambda_cold_starts_total', 'Invocations that started an execution context.', 'counter', cells, (cell) => cell.coldStarts) as never);
    registry.registerMetric(new InvocationSeries('lambda_max_memory_used_bytes', "The last invocation's Max Memory Used.", 'gauge', cells, (cell) => cell.maxMemoryBytes) as never);
    registry.registerMetric(new InvocationSeries('lambda_duration_seconds', 'Invocation duration, as REPORT shows it.', 'histogram', cells, (cell) => cell.duration) as never);
    registry.registerMetric(new InvocationSeries('lambda_init_duration_seconds', "Cold starts' Init Duration.", 'histogram', cells, (cell) => cell.initDuration) as never);
    new Gauge({ name: 'lambda_concurrency_limit', help: "The account's concurrent executions limit.", registers: [registry], collect() { this.set(view.accountLimit()); } });
    new Gauge({ name: 'lambdad_execution_contexts_limit', help: 'Execution contexts the host holds at most (--max-contexts; auto: from its available memory).', registers: [registry], collect() { this.set(view.contextLimit()); } });
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
    const cell = this.#cellOf(labels);
    cell.invocations += 1;
    cell.duration.observe(record.durationMs / 1000);
    cell.maxMemoryBytes = record.maxMemoryUsedBytes;
    if (record.initDurationMs !== undefined) {
      cell.coldStarts += 1;
      cell.initDuration.observe(record.initDurationMs / 1000);
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
    this.#running.set(functionName, (this.#running.get(functionName) ?? 0) + change);
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

  #cellOf(labels: InvocationLabels): InvocationCell {
    const key = `${labels.functionName}\n${labels.resource}\n${labels.executedVersion}`;
    let cell = this.#cells.get(key);
    if (cell === undefined) {
      cell = {
        labels: { function_name: labels.functionName, resource: labels.resource, executed_version: labels.executedVersion },
        invocations: 0,
        coldStarts: 0,
        maxMemoryBytes: 0,
        duration: new Buckets(DURATION_BUCKETS),
        initDuration: new Buckets(DURATION_BUCKETS),
      };
      this.#cells.set(key, cell);
    }
    return cell;
  }
}

/** One invocation label set's numbers. */
interface InvocationCell {
  readonly labels: Readonly<Record<string, string>>;
  invocations: number;
  coldStarts: number;
  maxMemoryBytes: number;
  readonly duration: Buckets;
  readonly initDuration: Buckets;
}

/** A histogram's counts in plain numbers: observing is a short scan and two additions. */
class Buckets {
  readonly bounds: readonly number[];
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    const bounds = this.bounds;
    for (let index = 0; index < bounds.length; index++) {
      if (value <= bounds[index]!) {
        this.counts[index]! += 1;
        return;
      }
    }
  }
}

type SeriesValue = { value: number; labels: Record<string, string | number>; metricName?: string };

/**
 * The per-invocation series, kept by Metrics in plain numbers and read by the registry only when Prometheus
 * scrapes. prom-client's own counters hash their labels on every call (~0.4 µs each, three or four per
 * invocation); this keeps recording an invocation near 50 ns. It offers what the registry reads of a metric.
 */
class InvocationSeries {
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly cells: () => Iterable<InvocationCell>,
    private readonly read: (cell: InvocationCell) => number | Buckets,
  ) {}

  get(): { name: string; help: string; type: string; aggregator: string; values: SeriesValue[] } {
    const values: SeriesValue[] = [];
    for (const cell of this.cells()) {
      const read = this.read(cell);
      if (typeof read === 'number') {
        values.push({ value: read, labels: { ...cell.labels } });
        continue;
      }
      let cumulative = 0;
      read.bounds.forEach((bound, index) => {
        cumulative += read.counts[index]!;
        values.push({ metricName: `${this.name}_bucket`, value: cumulative, labels: { ...cell.labels, le: bound } });
      });
      values.push({ metricName: `${this.name}_bucket`, value: read.count, labels: { ...cell.labels, le: '+Inf' } });
      values.push({ metricName: `${this.name}_sum`, value: read.sum, labels: { ...cell.labels } });
      values.push({ metricName: `${this.name}_count`, value: read.count, labels: { ...cell.labels } });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
