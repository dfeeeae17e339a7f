/** The environment a function sees: its own variables plus Lambda's reserved ones (spec/runtime.md §2). */
import type { FunctionConfiguration } from '../registry/index.js';
import type { FunctionPaths } from './execution-context.js';

export interface EnvironmentInputs {
  readonly configuration: FunctionConfiguration;
  readonly executedVersion: string;
  readonly region: string;
  /** Its code, layers and temporary directory, as the context sees them. */
  readonly paths: FunctionPaths;
  readonly logStreamName: string;
  /** The execution role's session (AWS_ACCESS_KEY_ID, …) and lambdad's endpoint (AWS_ENDPOINT_URL). */
  readonly credentials?: Readonly<Record<string, string>>;
  /** `provisioned-concurrency` for contexts initialised ahead; `on-demand` otherwise. */
  readonly initializationType?: 'on-demand' | 'provisioned-concurrency';
  /** lambdad's X-Ray collector, `host:port`. */
  readonly xrayDaemonAddress?: string;
}

export function functionEnvironment(inputs: EnvironmentInputs): Record<string, string> {
  const { configuration, paths } = inputs;
  const { codeDirectory } = paths;
  // Lambda unzips layers into /opt in order, a later one overwriting an earlier one's files: here each layer
  // stays in its own directory and a later one comes first on the module search path (its packages win).
  const layersFirstLast = [...paths.layerDirectories].reverse();
  const nodeMajor = configuration.Runtime.replace(/^nodejs(\d+)\.x$/, 'node$1');
  return {
    // Lambda's defaults for variables a function may set itself…
    LANG: 'en_US.UTF-8',
    PATH: ['/usr/local/bin:/usr/bin:/bin', ...layersFirstLast.map((layer) => `${layer}/bin`)].join(':'),
    NODE_PATH: [...layersFirstLast.flatMap((layer) => [`${layer}/nodejs/${nodeMajor}/node_modules`, `${layer}/nodejs/node_modules`]), `${codeDirectory}/node_modules`].join(':'),
    // Each context has its own temporary directory, standing in for Lambda's /tmp.
    TMPDIR: paths.tmpDirectory,
    TMP: paths.tmpDirectory,
    TEMP: paths.tmpDirectory,
    ...(paths.home === undefined ? {} : { HOME: paths.home }),
    // What the X-Ray SDK does with no active segment (outside a handler): log, not throw; and where it sends.
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    ...(inputs.xrayDaemonAddress === undefined ? {} : xrayDaemon(inputs.xrayDaemonAddress)),
    ...configuration.Environment?.Variables,
    // …and the reserved ones, which it cannot.
    ...inputs.credentials,
    _HANDLER: configuration.Handler,
    AWS_REGION: inputs.region,
    AWS_DEFAULT_REGION: inputs.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${configuration.Runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: configuration.FunctionName,
    AWS_LAMBDA_FUNCTION_VERSION: inputs.executedVersion,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(configuration.MemorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: configuration.LoggingConfig.LogGroup,
    AWS_LAMBDA_LOG_STREAM_NAME: inputs.logStreamName,
    AWS_LAMBDA_INITIALIZATION_TYPE: inputs.initializationType ?? 'on-demand',
    LAMBDA_TASK_ROOT: codeDirectory,
    LAMBDA_RUNTIME_DIR: paths.runtimeDirectory,
    TZ: ':UTC',
  };
}

/** The X-Ray daemon's address in both forms Lambda gives it. */
function xrayDaemon(address: string): Record<string, string> {
  const colon = address.lastIndexOf(':');
  return { AWS_XRAY_DAEMON_ADDRESS: address, _AWS_XRAY_DAEMON_ADDRESS: address.slice(0, colon), _AWS_XRAY_DAEMON_PORT: address.slice(colon + 1) };
}

/** `YYYY/MM/DD/[version]<32 lowercase hex>`, one per execution context, as on Lambda. */
export function logStreamName(now: number, executedVersion: string, hex32: string): string {
  const date = new Date(now).toISOString().slice(0, 10).replaceAll('-', '/');
  return `${date}/[${executedVersion}]${hex32}`;
}
