/**
 * Every Lambda quota lambdad enforces, in one place (../shared/spec/limits.md).
 * "MB" in Lambda's docs means MiB.
 */
export const LIMITS = Object.freeze({
  functionNameMaxLength: 64,
  /** A function-name label may be an ARN, possibly qualified. */
  functionLabelMaxLength: 140,
  handlerMaxLength: 128,
  descriptionMaxLength: 256,
  aliasNameMaxLength: 128,
  /** A `?Qualifier=`: `$LATEST`, a version number or an alias name. */
  qualifierMaxLength: 128,

  timeoutMinSeconds: 1,
  timeoutMaxSeconds: 900,
  timeoutDefaultSeconds: 3,

  /** Loading a function's code has this long, apart from its timeout. */
  initMaxMs: 10_000,
  /** A provisioned context's init has max(this, the function's timeout). */
  provisionedInitMinMs: 130_000,

  layersPerFunctionMax: 5,
  vpcSubnetsMax: 16,
  vpcSecurityGroupsMax: 5,
  layerCompatibleRuntimesMax: 15,
  layerLicenseInfoMaxLength: 512,
  listLayersPageSize: 50,

  /** Trace ids one BatchGetTraces may name: lambdad's own bound, X-Ray documents none. */
  batchGetTracesMaxIds: 100,

  memoryMinMb: 128,
  memoryMaxMb: 10_240,
  memoryDefaultMb: 128,

  ephemeralStorageMinMb: 512,
  ephemeralStorageMaxMb: 10_240,
  ephemeralStorageDefaultMb: 512,

  /** All environment variables together, measured on their JSON serialization. */
  environmentMaxBytes: 4 * 1024,

  zippedCodeMaxBytes: 52_428_800,
  unzippedCodeMaxBytes: 262_144_000,
  codeStorageMaxBytes: 80_530_636_800,

  syncPayloadMaxBytes: 6_291_456,
  /** An Event invoke's payload (the current Invoke API reference: 1 MB). */
  asyncPayloadMaxBytes: 1_048_576,
  asyncRetryAttemptsMax: 2,
  asyncEventMinAgeSeconds: 60,
  /** Also the default MaximumEventAgeInSeconds: 6 hours. */
  asyncEventMaxAgeSeconds: 21_600,
  /** The runtime API's response limit: 6 MiB + 100 bytes. */
  syncResponseMaxBytes: 6_291_556,
  /** `X-Amz-Client-Context`: base64 of the client context JSON. */
  clientContextMaxBytes: 3_583,
  /** `X-Amz-Log-Result`: the end of the invocation's log. */
  logResultMaxBytes: 4 * 1024,

  aliasRoutingMaxEntries: 1,

  /** lambdad queues, with SQS's values. */
  queueMessageMaxBytes: 262_144,
  queueReceiveMax: 10,
  queueMessageAttributesMax: 10,
  queueVisibilityTimeoutDefaultSeconds: 30,
  queueVisibilityTimeoutMaxSeconds: 43_200,

  /** Reservations (PutFunctionConcurrency) must leave at least this much of the account unreserved. */
  unreservedConcurrencyMin: 100,
  /** lambdad's own bound: functions that can hold a reservation at once (each has a slot of shared counters). */
  reservedFunctionsMax: 10_000,

  listMaxItemsMin: 1,
  listMaxItemsMax: 10_000,
  listFunctionsPageSize: 50,
  /** ListVersionsByFunction also answers at most 50 per page, whatever MaxItems says. */
  listVersionsPageSize: 50,
  listProvisionedConcurrencyPageSize: 50,
  listEventInvokeConfigsPageSize: 50,
});

/** Node.js runtimes lambdad runs on its own Node.js, in worker threads. */
export const SUPPORTED_RUNTIMES = Object.freeze(['nodejs18.x', 'nodejs20.x', 'nodejs22.x'] as const);
export type Runtime = (typeof SUPPORTED_RUNTIMES)[number];

/** Variables Lambda sets itself; CreateFunction/UpdateFunctionConfiguration reject them (spec/runtime.md §2). */
export const RESERVED_ENVIRONMENT_KEYS = Object.freeze([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
  'TZ',
]);
