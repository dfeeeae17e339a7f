/**
 * Composition root: builds every part of the daemon from the config, starts them in order and stops them in
 * reverse. Nothing else constructs services.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { randomIds, systemClock, type Clock, type Ids } from './clock.js';
import type { Config } from './config.js';
import { ConcurrencyScheduler } from './concurrency/index.js';
import { availableMemoryBytes, contextsForHost, ExecutionContexts, shapeOf, type ContextShape } from './contexts/index.js';
import { processContexts } from './contexts/runner/index.js';
import { Authorizer } from './sessions/authorization.js';
import { RoleSessions } from './sessions/index.js';
import { threadContexts } from './contexts/thread-contexts.js';
import { AsyncInvocations } from './invoke/async/index.js';
import { DestinationDelivery } from './invoke/async/delivery.js';
import { Invoker, resourceOf } from './invoke/index.js';
import { Queues } from './queues/index.js';
import { LIMITS } from './limits.js';
import { silentDaemonLog, type DaemonLog } from './observability/daemon-log.js';
import { LogStore } from './observability/log-store.js';
import { Metrics, NO_METRICS } from './observability/metrics.js';
import { formatAddress, TraceStore, udpSink, XRayCollector, type SpanSink, type UdpAddress } from './observability/xray/index.js';
import { Network } from './network/index.js';
import type { InvokeTarget } from './registry/index.js';
import { METRICS_PATH, metricsEndpoint } from './transport/metrics-endpoint.js';
import { CodeRoots } from './registry/code-roots.js';
import { Registry } from './registry/index.js';
import { AliasRouting } from './routing/index.js';
import { LambdaService } from './service.js';
import { CODE_PATH, CodeLinks } from './transport/code-links.js';
import { daemonCredentials } from './transport/credentials.js';
import { HttpServer } from './transport/http-server.js';
import { RestApi } from './transport/rest/index.js';
import { SigV4Verifier } from './transport/sigv4.js';
import { ProtocolServer } from './transport/ws-server.js';

export interface DaemonOptions {
  readonly clock?: Clock;
  readonly ids?: Ids;
  readonly log?: DaemonLog;
}

export class Daemon {
  readonly config: Config;
  readonly service: LambdaService;
  /** `http://host:port` the daemon listens on. */
  readonly url: string;
  readonly #registry: Registry;
  readonly #logs: LogStore;
  readonly #contexts: ExecutionContexts;
  readonly #invoker: Invoker;
  readonly #http: HttpServer;
  readonly #protocol: ProtocolServer;
  readonly #log: DaemonLog;
  readonly #events: AsyncInvocations;
  readonly #queues: Queues;
  readonly #tracing: Tracing;
  readonly #network: Network;
  #stopping: Promise<void> | null = null;

  private constructor(parts: { config: Config; url: string; registry: Registry; logs: LogStore; contexts: ExecutionContexts; invoker: Invoker; http: HttpServer; protocol: ProtocolServer; service: LambdaService; log: DaemonLog; events: AsyncInvocations; queues: Queues; tracing: Tracing; network: Network }) {
    this.#network = parts.network;
    this.#tracing = parts.tracing;
    this.#events = parts.events;
    this.#queues = parts.queues;
    this.config = parts.config;
    this.url = parts.url;
    this.#registry = parts.registry;
    this.#logs = parts.logs;
    this.#contexts = parts.contexts;
    this.#invoker = parts.invoker;
    this.#http = parts.http;
    this.#protocol = parts.protocol;
    this.service = parts.service;
    this.#log = parts.log;
  }

  static async start(config: Config, options: DaemonOptions = {}): Promise<Daemon> {
    const clock = options.clock ?? systemClock;
    const ids = options.ids ?? randomIds;
    const log = options.log ?? silentDaemonLog;
    mkdirSync(config.dataDir, { recursive: true });

    const tracing = await startTracing(config, log);
    let network: Network;
    try {
      network = Network.open(config.dataDir, config.accountId, config.networkFile === '' ? null : config.networkFile);
    } catch (error) {
      tracing.close();
      throw error;
    }
    const registry = Registry.open({ dataDir: config.dataDir, region: config.region, accountId: config.accountId, clock, ids, checkVpcConfig: (vpcConfig, role) => network.checkVpcConfig(vpcConfig, role) });
    // The sandbox's own services stay reachable whatever the function's network: lambdad's X-Ray collector.
    const exempt = tracing.address === null ? [] : [tracing.address];
    const logs = new LogStore(config.dataDir, config.logBytesPerFunction);
    const workDirectory = join(config.dataDir, 'contexts');
    const factory = config.isolation === 'thread'
      ? threadContexts(workDirectory, ids)
      : processContexts({ workDirectory, keepWarmMs: config.keepWarmMs, ids, log });
    const sessions = new RoleSessions(clock);
    // Where a function's AWS SDK finds lambdad: known once the port is bound, before any function runs.
    let endpoint = '';
    const maxContexts = config.maxContexts ?? contextsForHost({ availableBytes: availableMemoryBytes(), isolation: config.isolation, accountConcurrency: config.accountConcurrency });
    const contexts = new ExecutionContexts({
      factory,
      credentials: (target) => {
        const session = sessions.issue(target.configuration.Role, target.configuration.FunctionName);
        return {
          expiresAt: session.expiresAt,
          variables: { AWS_ACCESS_KEY_ID: session.accessKeyId, AWS_SECRET_ACCESS_KEY: session.secretAccessKey, AWS_SESSION_TOKEN: session.sessionToken, AWS_ENDPOINT_URL: endpoint },
        };
      },
      region: config.region,
      keepWarmMs: config.keepWarmMs,
      spareWorkers: config.spareWorkers,
      maxContexts,
      accountConcurrency: config.accountConcurrency,
      ...(tracing.daemonAddress === null ? {} : { xrayDaemonAddress: tracing.daemonAddress }),
      network: (target) => ({ placement: network.placement(vpcOf(target), exempt), connectTimeoutMs: config.vpcConnectTimeoutMs }),
      clock,
      ids,
    });
    const concurrency = new ConcurrencyScheduler(config.accountConcurrency, registry.reservations());
    const metrics = config.metrics === 'off' ? null : new Metrics({
      accountLimit: () => concurrency.accountLimit,
      contextLimit: () => maxContexts,
      unreservedInFlight: () => concurrency.inFlight(),
      reservations: () => concurrency.reservations(),
      environments: () => contexts.census(),
      provisioned: () => contexts.provisionedUse().map((use) => ({ functionName: use.target.configuration.FunctionName, resource: resourceOf(use.target), allocated: use.allocated, busy: use.busy })),
    });
    const recorder = metrics ?? NO_METRICS;
    const invoker = new Invoker({ contexts, logs, clock, ids, metrics: recorder, spans: tracing.spans });
    const codeLinks = new CodeLinks((codeSha256) => registry.codeZipFile(codeSha256), clock);
    const routing = new AliasRouting((functionName, version) => registry.resolveForInvoke(functionName, version), config.aliasRouting);
    const queues = Queues.open({ dataDir: config.dataDir, region: config.region, accountId: config.accountId, clock, ids });
    const events = new AsyncInvocations({ dataDir: config.dataDir, clock, ids, region: config.region, accountId: config.accountId, retryDelayMs: config.asyncRetryDelayMs, log, metrics: recorder });
    const service = new LambdaService({ registry, contexts, invoker, logs, ids, code: codeLinks, concurrency, routing, async: events, queues, metrics: recorder, traces: tracing.store, watchDirectories: config.watchDirectories === 'on', codeRoots: new CodeRoots(config.codeRoots, config.dataDir), log, network });
    const http = new HttpServer({ tls: config.tlsCert === '' ? null : { certFile: config.tlsCert, keyFile: config.tlsKey }, maxConnections: config.maxConnections, maxConnectionsPerAddress: config.maxConnectionsPerAddress });
    const markAuthenticated = (socket: Duplex): void => http.markAuthenticated(socket);
    http.route(CODE_PATH, (request, response) => codeLinks.handle(request, response));
    const verifier = config.auth === 'sigv4' ? new SigV4Verifier(daemonCredentials(config), config.region, clock, sessions) : null;
    const authorizer = new Authorizer(config.region, config.accountId, sessions);
    if (metrics !== null) http.route(METRICS_PATH, metricsEndpoint(metrics, verifier, config.metricsAuth === 'sigv4', markAuthenticated));
    const protocol = new ProtocolServer(service, verifier, authorizer);
    protocol.attach(http.server, markAuthenticated);
    const rest = new RestApi(service, verifier, authorizer, ids, markAuthenticated);
    http.fallback((request, response) => rest.handle(request, response));
    let address;
    try {
      address = await http.listen(config.host, config.port);
    } catch (error) {
      await contexts.close();
      events.close();
      queues.close();
      network.close();
      logs.close();
      registry.close();
      tracing.close();
      throw error;
    }
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const scheme = config.tlsCert === '' ? 'http' : 'https';
    endpoint = `${scheme}://${host}:${address.port}`;
    codeLinks.baseUrl = endpoint;
    const daemon = new Daemon({ config, url: endpoint, registry, logs, contexts, invoker, http, protocol, service, log, events, queues, tracing, network });
    events.start(
      (event) => service.attemptEvent(event),
      new DestinationDelivery({
        enqueue: (functionName, qualifier, payload) => events.enqueue(functionName, qualifier, payload),
        send: (queue, body, attributes) => void queues.sendMessage(queue, body, attributes),
        failed: (kind, event, target, error) => {
          const resource = event.qualifier ?? '$LATEST';
          if (kind === 'destination') recorder.destinationFailed(event.functionName, resource);
          else recorder.deadLetterFailed(event.functionName, resource);
          log(`${kind}-failed`, { requestId: event.id, target, error: error.message });
        },
        deadLetterTarget: (event) => service.deadLetterTarget(event),
      }),
    );

    // Spare contexts for the memory sizes in use start in the background: serving does not wait for them.
    const shapes = [{ memoryMb: LIMITS.memoryDefaultMb, tmpMb: LIMITS.ephemeralStorageDefaultMb }, ...daemon.#shapesInUse()];
    void contexts.prepare(shapes).catch((error: Error) => log('spares-failed', { error: error.message }));
    service.restoreProvisionedConcurrency();
    service.watchCode();
    log('started', { listening: daemon.url, data: config.dataDir, functions: registry.accountUsage().FunctionCount, isolation: config.isolation, maxContexts });
    return daemon;
  }

  /** Stops accepting, lets running invocations finish within the grace period, closes pools and stores. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#log('stopping', { graceMs: this.config.shutdownGraceMs });
      this.#http.stopAccepting();
      this.service.stopWatchingCode();
      // Queued events stay in the store for the next start; the ones running finish or run again then.
      this.#events.pause();
      await this.#invoker.close(this.config.shutdownGraceMs);
      await this.#contexts.close();
      await this.#events.stop();
      this.#events.close();
      this.#queues.close();
      this.#network.close();
      this.#protocol.close();
      this.#http.closeConnections();
      this.#logs.close();
      this.#registry.close();
      this.#tracing.close();
      this.#log('stopped');
    })();
    return this.#stopping;
  }

  #shapesInUse(): ContextShape[] {
    const shapes: ContextShape[] = [];
    let marker: string | undefined;
    do {
      const page = this.service.listFunctions(marker === undefined ? {} : { Marker: marker });
      for (const fn of page.Functions) shapes.push(shapeOf(fn));
      marker = page.NextMarker;
    } while (marker !== undefined);
    return shapes;
  }
}

interface Tracing {
  readonly store: TraceStore;
  /** Where sampled invocations go; null when tracing is off. */
  readonly spans: SpanSink | null;
  /** Where functions and lambdad send segments: the collector's bound address, else the configured one. */
  readonly daemonAddress: string | null;
  readonly address: UdpAddress | null;
  close(): void;
}

/** The trace store, the collector on the configured address and the emitter of lambdad's own segments. */
async function startTracing(config: Config, log: DaemonLog): Promise<Tracing> {
  const store = new TraceStore(config.dataDir);
  if (config.xrayAddress === null) return { store, spans: null, daemonAddress: null, address: null, close: () => store.close() };
  const collector = await XRayCollector.start({ listen: config.xrayAddress, forward: config.xrayForward, store, log });
  // With the port held by another process, lambdad's segments go there, as the functions' do.
  const spans: SpanSink = collector.address === null ? udpSink(config.xrayAddress) : { send: (span) => collector.acceptInvocation(span), close: () => undefined };
  return {
    store,
    spans,
    daemonAddress: formatAddress(collector.address ?? config.xrayAddress),
    address: collector.address ?? config.xrayAddress,
    close: () => {
      spans.close();
      collector.close();
      store.close();
    },
  };
}

/** A function's VpcConfig as the network placement takes it; null outside any VPC. */
function vpcOf(target: InvokeTarget): Parameters<Network['placement']>[0] {
  const config = target.configuration.VpcConfig;
  return config === undefined ? null : { subnetIds: config.SubnetIds, securityGroupIds: config.SecurityGroupIds, vpcId: config.VpcId, ipv6AllowedForDualStack: config.Ipv6AllowedForDualStack };
}
