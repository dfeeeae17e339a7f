/**
 * Daemon options: defaults, sources (command line over `LAMBDAD_*` environment) and validation, in one place.
 * The result is frozen; every message names the option at fault.
 */
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';
import type { UdpAddress } from './observability/xray/index.js';

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly region: string;
  readonly accountId: string;
  /** How long an idle execution context stays warm before it is reaped. */
  readonly keepWarmMs: number;
  /** Pre-started worker threads kept ready per memory size, so cold starts skip thread start-up. */
  readonly spareWorkers: number;
  /** Log bytes kept per function; the oldest events go first. */
  readonly logBytesPerFunction: number;
  /** How long a stopping daemon lets running invocations finish. */
  readonly shutdownGraceMs: number;
  /** Invocations the account may run at once (AWS: 1000 per region by default). */
  readonly accountConcurrency: number;
  /** The first retry of a failed asynchronous event waits this long, the second twice as long (AWS: ~1 min, ~2 min). */
  readonly asyncRetryDelayMs: number;
  /** How an alias with AdditionalVersionWeights splits its invocations: `smooth` (exact) or `random` (AWS's). */
  readonly aliasRouting: 'smooth' | 'random';
  /** `sigv4`: every request is signed with the daemon's credentials; `none`: loopback only, unsigned. */
  readonly auth: 'sigv4' | 'none';
  /** `sigv4`: scrapes of /metrics are signed too; `loopback`: unsigned from loopback, signed from elsewhere. */
  readonly metricsAuth: 'loopback' | 'sigv4';
  /** PEM files: when both are set the port serves https and wss. */
  readonly tlsCert: string;
  readonly tlsKey: string;
  /** Where lambdad's X-Ray collector listens and its segments go (AWS_XRAY_DAEMON_ADDRESS); null: no tracing. */
  readonly xrayAddress: UdpAddress | null;
  /** Another X-Ray daemon that gets a copy of every datagram the collector receives. */
  readonly xrayForward: UdpAddress | null;
  /** A network model (JSON) that replaces the stored one at start; '' for none. */
  readonly networkFile: string;
  /** How long a connection the network policy denies hangs before ETIMEDOUT. */
  readonly vpcConnectTimeoutMs: number;
  /** `on`: functions whose code comes from a directory follow its changes unless a request says Watch=false. */
  readonly watchDirectories: 'on' | 'off';
  /** `off`: no /metrics and nothing recorded for it. */
  readonly metrics: 'on' | 'off';
  /**
   * `process`: each function version's contexts in a sandboxed runner process of their own; `thread`: worker
   * threads of the daemon's process, no isolation (trusted code only).
   */
  readonly isolation: 'process' | 'thread';
  /** Connections the port holds at once; past it, the longest-idle unauthenticated one is shed. */
  readonly maxConnections: number;
  /** Connections one remote address holds at once (shed the same way). */
  readonly maxConnectionsPerAddress: number;
  /** Live execution contexts the host can hold; null: derived at start from free memory and the cost of one. */
  readonly maxContexts: number | null;
  /** Directories under which `Code.Directory` may name code (realpaths); the data directory never. */
  readonly codeRoots: readonly string[];
  /** Credentials given in the environment; otherwise the daemon generates and keeps its own. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | null;
}

/** Keys of the options that come from flags or their environment variables. */
type FlagKey = Exclude<keyof Config, 'credentials'>;

interface OptionSpec {
  readonly key: FlagKey;
  readonly flag: string;
  readonly env: string;
  readonly help: string;
  readonly parse: (raw: string, name: string) => Config[keyof Config];
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function integerIn(min: number, max: number, scale = 1) {
  return (raw: string, name: string): number => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
    }
    return value * scale;
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

function address(raw: string, name: string): string {
  const host = raw.trim();
  if (host !== 'localhost' && isIP(host) === 0) throw new ConfigError(`${name} must be an IP address or localhost, got '${raw}'`);
  return host;
}

/** `host:port` (an IPv6 host in brackets), or the `none` word when the option allows it. */
function udpAddress(none: string) {
  return (raw: string, name: string): UdpAddress | null => {
    if (raw === none) return null;
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(raw.trim());
    const host = match?.[1] ?? match?.[2];
    const port = Number(match?.[3]);
    if (host === undefined || (host !== 'localhost' && isIP(host) === 0) || !(port <= 65_535)) {
      throw new ConfigError(`${name} must be host:port with an IP address or localhost${none === '' ? '' : ` (or ${none})`}, got '${raw}'`);
    }
    return { host, port };
  };
}

function oneOf<T extends string>(values: readonly T[]) {
  return (raw: string, name: string): T => {
    if (!(values as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${values.join(', ')}, got '${raw}'`);
    return raw as T;
  };
}

/** Runner processes need a POSIX host: their channel is an inherited Unix socket. */
function isolation(raw: string, name: string): Config['isolation'] {
  const mode = oneOf(['process', 'thread'] as const)(raw, name);
  if (mode === 'process' && process.platform === 'win32') throw new ConfigError(`${name} process needs Linux or macOS; this host can only give thread`);
  return mode;
}

/** `auto`, or an integer from `min` to `max`. */
function autoOr<T>(auto: () => T, min: number, max: number) {
  return (raw: string, name: string): number | T => (raw === 'auto' ? auto() : integerIn(min, max)(raw, name));
}

/** The process's open-file limit (soft), from /proc on Linux; elsewhere a conservative guess. */
function openFileLimit(): number {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (line !== null) return line[1] === 'unlimited' ? 1_048_576 : Number(line[1]);
  } catch {
    // Not Linux: fall through.
  }
  return 1024;
}

/**
 * Connections the descriptors allow: the open-file limit less room for everything else the daemon opens
 * (runners, databases, code files), at most 10,000 and at least 64.
 */
function connectionsForHost(): number {
  return Math.max(64, Math.min(10_000, openFileLimit() - 2048));
}

/** A list of directories, separated as PATH is. */
function directories(raw: string, name: string): string[] {
  const list = raw.split(delimiter).filter((entry) => entry !== '');
  if (list.length === 0) throw new ConfigError(`${name} must name at least one directory`);
  return list.map((entry) => resolve(entry));
}

function optionalFile(raw: string): string {
  return raw === '' ? '' : resolve(raw);
}

function pattern(re: RegExp, what: string) {
  return (raw: string, name: string): string => {
    if (!re.test(raw)) throw new ConfigError(`${name} must be ${what}, got '${raw}'`);
    return raw;
  };
}

export const OPTIONS: readonly OptionSpec[] = Object.freeze([
  { key: 'host', flag: 'host', env: 'LAMBDAD_HOST', help: 'address to listen on (beyond loopback only with --auth sigv4)', parse: address },
  { key: 'port', flag: 'port', env: 'LAMBDAD_PORT', help: 'port to listen on (0 picks a free one)', parse: integerIn(0, 65_535) },
  { key: 'dataDir', flag: 'data-dir', env: 'LAMBDAD_DATA_DIR', help: 'where functions, code and logs are kept', parse: (raw) => resolve(raw) },
  { key: 'region', flag: 'region', env: 'LAMBDAD_REGION', help: 'region in ARNs and AWS_REGION', parse: pattern(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'a region such as us-east-1') },
  { key: 'accountId', flag: 'account-id', env: 'LAMBDAD_ACCOUNT_ID', help: 'account id in ARNs', parse: pattern(/^\d{12}$/, 'twelve digits') },
  { key: 'keepWarmMs', flag: 'keep-warm-seconds', env: 'LAMBDAD_KEEP_WARM_SECONDS', help: 'idle time before a warm context is reaped', parse: integerIn(1, 86_400, 1000) },
  { key: 'spareWorkers', flag: 'spare-workers', env: 'LAMBDAD_SPARE_WORKERS', help: 'pre-started threads per memory size (0 disables)', parse: integerIn(0, 64) },
  { key: 'logBytesPerFunction', flag: 'log-bytes-per-function', env: 'LAMBDAD_LOG_BYTES_PER_FUNCTION', help: 'log bytes kept per function', parse: integerIn(4096, 1 << 30) },
  { key: 'shutdownGraceMs', flag: 'shutdown-grace-seconds', env: 'LAMBDAD_SHUTDOWN_GRACE_SECONDS', help: 'time running invocations get to finish on stop', parse: integerIn(0, 900, 1000) },
  { key: 'accountConcurrency', flag: 'account-concurrency', env: 'LAMBDAD_ACCOUNT_CONCURRENCY', help: "the account's concurrent executions limit", parse: integerIn(1, 100_000) },
  { key: 'asyncRetryDelayMs', flag: 'async-retry-delay-ms', env: 'LAMBDAD_ASYNC_RETRY_DELAY_MS', help: 'delay before the first retry of a failed Event invoke (the second waits twice as long)', parse: integerIn(0, 3_600_000) },
  { key: 'aliasRouting', flag: 'alias-routing', env: 'LAMBDAD_ALIAS_ROUTING', help: 'weighted aliases: smooth (exact split) or random (per call, as AWS)', parse: oneOf(['smooth', 'random'] as const) },
  { key: 'auth', flag: 'auth', env: 'LAMBDAD_AUTH', help: 'sigv4: requests are signed with the daemon credentials; none: unsigned, loopback only', parse: oneOf(['sigv4', 'none'] as const) },
  { key: 'metricsAuth', flag: 'metrics-auth', env: 'LAMBDAD_METRICS_AUTH', help: 'loopback: /metrics unsigned from loopback (signed from elsewhere); sigv4: always signed', parse: oneOf(['loopback', 'sigv4'] as const) },
  { key: 'xrayAddress', flag: 'xray-address', env: 'LAMBDAD_XRAY_ADDRESS', help: "UDP host:port of the X-Ray collector (AWS_XRAY_DAEMON_ADDRESS); off: no segments", parse: udpAddress('off') },
  { key: 'xrayForward', flag: 'xray-forward', env: 'LAMBDAD_XRAY_FORWARD', help: 'UDP host:port of an X-Ray daemon to copy every received segment to', parse: udpAddress('') },
  { key: 'networkFile', flag: 'network-file', env: 'LAMBDAD_NETWORK_FILE', help: 'JSON network model (VPCs, subnets, gateways, security groups, VPC hosts) loaded at start', parse: optionalFile },
  { key: 'vpcConnectTimeoutMs', flag: 'vpc-connect-timeout-ms', env: 'LAMBDAD_VPC_CONNECT_TIMEOUT_MS', help: 'a connection the network policy blocks fails with ETIMEDOUT after this long', parse: integerIn(1, 900_000) },
  { key: 'watchDirectories', flag: 'watch-directories', env: 'LAMBDAD_WATCH_DIRECTORIES', help: "on: code from a directory is hot-reloaded unless Watch=false; off: only with Watch=true", parse: oneOf(['on', 'off'] as const) },
  { key: 'metrics', flag: 'metrics', env: 'LAMBDAD_METRICS', help: 'on: record and serve /metrics; off: neither', parse: oneOf(['on', 'off'] as const) },
  { key: 'isolation', flag: 'isolation', env: 'LAMBDAD_ISOLATION', help: 'process: each function version in a sandboxed runner process; thread: in the daemon (trusted code only)', parse: isolation },
  { key: 'maxConnections', flag: 'max-connections', env: 'LAMBDAD_MAX_CONNECTIONS', help: 'connections held at once (auto: from the open-file limit, at most 10000)', parse: autoOr(connectionsForHost, 16, 1_000_000) },
  { key: 'maxConnectionsPerAddress', flag: 'max-connections-per-address', env: 'LAMBDAD_MAX_CONNECTIONS_PER_ADDRESS', help: 'connections one remote address holds at once', parse: integerIn(1, 1_000_000) },
  { key: 'maxContexts', flag: 'max-contexts', env: 'LAMBDAD_MAX_CONTEXTS', help: 'live execution contexts the host holds (auto: from free memory)', parse: autoOr(() => null, 1, 100_000) },
  { key: 'codeRoots', flag: 'code-roots', env: 'LAMBDAD_CODE_ROOTS', help: `directories Code.Directory may name code under, separated by '${delimiter}' (local clients only)`, parse: directories },
  { key: 'tlsCert', flag: 'tls-cert', env: 'LAMBDAD_TLS_CERT', help: 'PEM certificate: serve https and wss (with --tls-key)', parse: optionalFile },
  { key: 'tlsKey', flag: 'tls-key', env: 'LAMBDAD_TLS_KEY', help: 'PEM private key of --tls-cert', parse: optionalFile },
]);

export const DEFAULTS: Readonly<Record<FlagKey, string>> = Object.freeze({
  host: '127.0.0.1',
  port: '9001',
  dataDir: './.lambdad',
  region: 'us-east-1',
  accountId: '000000000000',
  keepWarmMs: '600',
  spareWorkers: '2',
  logBytesPerFunction: String(1024 * 1024),
  shutdownGraceMs: '30',
  accountConcurrency: '1000',
  aliasRouting: 'smooth',
  asyncRetryDelayMs: '60000',
  auth: 'sigv4',
  metricsAuth: 'loopback',
  xrayAddress: '127.0.0.1:2000',
  xrayForward: '',
  networkFile: '',
  vpcConnectTimeoutMs: '127000',
  watchDirectories: 'off',
  metrics: 'on',
  isolation: 'process',
  maxConnections: 'auto',
  maxConnectionsPerAddress: '1000',
  maxContexts: 'auto',
  codeRoots: '.',
  tlsCert: '',
  tlsKey: '',
});

/**
 * Builds the config from, in order of precedence: explicit values (command-line flags, keyed by flag name),
 * the environment, the defaults.
 */
export function loadConfig(flags: Readonly<Record<string, string | undefined>> = {}, env: NodeJS.ProcessEnv = {}): Config {
  const known = new Set(OPTIONS.map((o) => o.flag));
  for (const flag of Object.keys(flags)) {
    if (!known.has(flag)) throw new ConfigError(`unknown option --${flag}`);
  }
  const config: Record<string, unknown> = {};
  for (const option of OPTIONS) {
    const fromFlag = flags[option.flag];
    const fromEnv = env[option.env];
    if (fromFlag !== undefined) config[option.key] = option.parse(fromFlag, `--${option.flag}`);
    else if (fromEnv !== undefined && fromEnv !== '') config[option.key] = option.parse(fromEnv, option.env);
    else config[option.key] = option.parse(DEFAULTS[option.key], `--${option.flag}`);
  }
  config.credentials = credentialsFrom(env);
  if (config.auth === 'none' && !isLoopback(config.host as string)) {
    // Unsigned requests from beyond this machine would hand out code execution to anyone.
    throw new ConfigError(`--host ${String(config.host)} is not a loopback address: serving it needs --auth sigv4`);
  }
  if ((config.tlsCert === '') !== (config.tlsKey === '')) throw new ConfigError('--tls-cert and --tls-key go together');
  return Object.freeze(config as unknown as Config);
}

/** LAMBDAD_ACCESS_KEY_ID and LAMBDAD_SECRET_ACCESS_KEY: secrets, so environment only, never flags. */
function credentialsFrom(env: NodeJS.ProcessEnv): Config['credentials'] {
  const accessKeyId = env.LAMBDAD_ACCESS_KEY_ID ?? '';
  const secretAccessKey = env.LAMBDAD_SECRET_ACCESS_KEY ?? '';
  if (accessKeyId === '' && secretAccessKey === '') return null;
  if (accessKeyId === '' || secretAccessKey === '') throw new ConfigError('LAMBDAD_ACCESS_KEY_ID and LAMBDAD_SECRET_ACCESS_KEY go together');
  if (!/^[A-Z0-9]{16,128}$/.test(accessKeyId)) throw new ConfigError('LAMBDAD_ACCESS_KEY_ID must be 16 to 128 upper-case letters and digits');
  if (secretAccessKey.length < 16) throw new ConfigError('LAMBDAD_SECRET_ACCESS_KEY must be at least 16 characters');
  return Object.freeze({ accessKeyId, secretAccessKey });
}
