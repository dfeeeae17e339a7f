/**
 * Input checks of the registry's operations, with AWS's exception names and messages: schema constraints
 * (pattern, length, range, enum) are ValidationExceptions, values Lambda will not take are
 * InvalidParameterValueExceptions. Each check returns the value in the registry's own terms.
 */
import {
  invalidParameter,
  missingMember,
  sensitiveValidationError,
  validationError,
  type LambdaError,
} from '../errors.js';
import { LIMITS, RESERVED_ENVIRONMENT_KEYS, SUPPORTED_RUNTIMES, type Runtime } from '../limits.js';
import { LATEST, LATEST_NUMBER, type Architecture, type FunctionSettings, type TracingMode } from './records.js';
import type { AliasRoutingConfig, CreateFunctionInput, FunctionConfigInput } from './types.js';

const ROLE_PATTERN = 'arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+';
const ROLE = new RegExp(`^${ROLE_PATTERN}$`);
const HANDLER_PATTERN = '[^\\s]+';
const HANDLER = /^[^\s]+$/;
const ENVIRONMENT_KEY_PATTERN = '[a-zA-Z]([a-zA-Z0-9_])+';
const ENVIRONMENT_KEY = new RegExp(`^${ENVIRONMENT_KEY_PATTERN}$`);
const ALIAS_NAME_PATTERN = '(?!^[0-9]+$)([a-zA-Z0-9-_]+)';
const ALIAS_NAME = /^(?!^[0-9]+$)[a-zA-Z0-9-_]+$/;
const VERSION_PATTERN = '(\\$LATEST|[0-9]+)';
const VERSION_NUMBER = /^[0-9]+$/;
const ARCHITECTURES: readonly Architecture[] = ['x86_64', 'arm64'];
const DEFAULT_ARCHITECTURE: Architecture = 'x86_64';
const TRACING_MODES: readonly TracingMode[] = ['Active', 'PassThrough'];
const DEFAULT_TRACING_MODE: TracingMode = 'PassThrough';
const RESERVED_KEYS: ReadonlySet<string> = new Set(RESERVED_ENVIRONMENT_KEYS);
const encoder = new TextEncoder();

/**
 * The settings of a new function: every field checked, defaults filled in. Schema checks come first, then
 * what Lambda refuses of well-formed values (runtime, reserved or oversized variables).
 */
export function settingsForCreate(input: CreateFunctionInput): Omit<FunctionSettings, 'layers' | 'vpc'> {
  if (input.Role === undefined || input.Role === null) throw missingMember('role');
  const role = checkRole(input.Role);
  if (input.Runtime === undefined || input.Handler === undefined) {
    throw invalidParameter('Runtime and Handler are mandatory parameters for functions created with deployment packages.');
  }
  checkPackageType(input.PackageType);
  const handler = checkHandler(input.Handler);
  const settings = {
    role,
    handler,
    description: input.Description === undefined ? '' : checkDescription(input.Description, 'description'),
    timeout: input.Timeout === undefined ? LIMITS.timeoutDefaultSeconds : checkTimeout(input.Timeout),
    memorySize: input.MemorySize === undefined ? LIMITS.memoryDefaultMb : checkMemorySize(input.MemorySize),
    architecture: input.Architectures === undefined ? DEFAULT_ARCHITECTURE : checkArchitectures(input.Architectures),
    ephemeralStorage: input.EphemeralStorage === undefined ? LIMITS.ephemeralStorageDefaultMb : checkEphemeralStorage(input.EphemeralStorage),
    tracingMode: input.TracingConfig === undefined ? DEFAULT_TRACING_MODE : checkTracing(input.TracingConfig),
    deadLetterTarget: input.DeadLetterConfig === undefined ? null : checkDeadLetterTarget(input.DeadLetterConfig),
  };
  const variables = input.Environment === undefined ? null : checkEnvironmentKeys(input.Environment);
  return { ...settings, runtime: checkRuntime(input.Runtime), environment: checkEnvironmentValues(variables) };
}

/** $LATEST's settings after UpdateFunctionConfiguration: what is given replaces what was there. */
export function settingsForUpdate(current: FunctionSettings, input: FunctionConfigInput): Omit<FunctionSettings, 'layers' | 'vpc'> {
  const settings = {
    role: input.Role === undefined ? current.role : checkRole(input.Role),
    handler: input.Handler === undefined ? current.handler : checkHandler(input.Handler),
    description: input.Description === undefined ? current.description : checkDescription(input.Description, 'description'),
    timeout: input.Timeout === undefined ? current.timeout : checkTimeout(input.Timeout),
    memorySize: input.MemorySize === undefined ? current.memorySize : checkMemorySize(input.MemorySize),
    ephemeralStorage: input.EphemeralStorage === undefined ? current.ephemeralStorage : checkEphemeralStorage(input.EphemeralStorage),
    tracingMode: input.TracingConfig === undefined ? current.tracingMode : checkTracing(input.TracingConfig),
    architecture: current.architecture,
    deadLetterTarget: input.DeadLetterConfig === undefined ? current.deadLetterTarget : checkDeadLetterTarget(input.DeadLetterConfig),
  };
  // Environment.Variables replaces the whole map; an Environment without Variables clears it.
  const variables = input.Environment === undefined ? undefined : checkEnvironmentKeys(input.Environment);
  return {
    ...settings,
    runtime: input.Runtime === undefined ? current.runtime : checkRuntime(input.Runtime),
    environment: variables === undefined ? current.environment : checkEnvironmentValues(variables),
  };
}

function checkRole(role: unknown): string {
  if (typeof role !== 'string' || !ROLE.test(role)) {
    throw validationError(role, 'role', `Member must satisfy regular expression pattern: ${ROLE_PATTERN}`);
  }
  return role;
}

function checkHandler(handler: unknown): string {
  if (typeof handler === 'string' && handler.length > LIMITS.handlerMaxLength) {
    throw validationError(handler, 'handler', `Member must have length less than or equal to ${LIMITS.handlerMaxLength}`);
  }
  if (typeof handler !== 'string' || !HANDLER.test(handler)) {
    throw validationError(handler, 'handler', `Member must satisfy regular expression pattern: ${HANDLER_PATTERN}`);
  }
  return handler;
}

/** Descriptions of functions, versions and aliases share one constraint. */
export function checkDescription(description: unknown, field: string): string {
  if (typeof description !== 'string') throw validationError(description, field, 'Member must be a string');
  if (description.length > LIMITS.descriptionMaxLength) {
    throw validationError(description, field, `Member must have length less than or equal to ${LIMITS.descriptionMaxLength}`);
  }
  return description;
}

function checkTimeout(timeout: unknown): number {
  return integerIn(timeout, 'timeout', LIMITS.timeoutMinSeconds, LIMITS.timeoutMaxSeconds);
}

function checkMemorySize(memorySize: unknown): number {
  return integerIn(memorySize, 'memorySize', LIMITS.memoryMinMb, LIMITS.memoryMaxMb);
}

function checkEphemeralStorage(storage: { Size?: unknown }): number {
  if (storage.Size === undefined) throw missingMember('ephemeralStorage.size');
  return integerIn(storage.Size, 'ephemeralStorage.size', LIMITS.ephemeralStorageMinMb, LIMITS.ephemeralStorageMaxMb);
}

function integerIn(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw validationError(value, field, 'Member must be an integer');
  if (value > max) throw validationError(value, field, `Member must have value less than or equal to ${max}`);
  if (value < min) throw validationError(value, field, `Member must have value greater than or equal to ${min}`);
  return value;
}

function checkTracing(tracing: { Mode?: unknown }): TracingMode {
  const mode = TRACING_MODES.find((known) => known === tracing.Mode);
  if (mode === undefined) {
    throw validationError(tracing.Mode ?? null, 'tracingConfig.mode', `Member must satisfy enum value set: [${TRACING_MODES.join(', ')}]`);
  }
  return mode;
}

/** Exactly one of x86_64 and arm64. AWS shows the list as Java prints it: `[x86_64, arm64]`. */
export function checkArchitectures(architectures: unknown): Architecture {
  const list = Array.isArray(architectures) ? architectures : [architectures];
  const shown = `[${list.join(', ')}]`;
  if (list.length > 1) throw validationError(shown, 'architectures', 'Member must have length less than or equal to 1');
  if (list.length < 1) throw validationError(shown, 'architectures', 'Member must have length greater than or equal to 1');
  const architecture = ARCHITECTURES.find((known) => known === list[0]);
  if (architecture === undefined) {
    throw validationError(
      shown,
      'architectures',
      `Member must satisfy constraint: [Member must satisfy enum value set: [${ARCHITECTURES.join(', ')}], Member must not be null]`,
    );
  }
  return architecture;
}

function checkPackageType(packageType: unknown): void {
  if (packageType === undefined || packageType === 'Zip') return;
  if (packageType === 'Image') throw invalidParameter('PackageType Image is not supported by lambdad: deploy a .zip file archive.');
  throw validationError(packageType, 'packageType', 'Member must satisfy enum value set: [Zip, Image]');
}

function checkRuntime(runtime: unknown): Runtime {
  const supported = SUPPORTED_RUNTIMES.find((known) => known === runtime);
  if (supported === undefined) {
    throw invalidParameter(
      `The runtime parameter of ${String(runtime)} is not supported by lambdad. Supported runtimes: ${SUPPORTED_RUNTIMES.join(', ')}`,
    );
  }
  return supported;
}

/** The schema checks of Environment (key pattern, string values); null means no variables. */
function checkEnvironmentKeys(environment: { Variables?: unknown }): Record<string, string> | null {
  const variables = environment.Variables;
  if (variables === undefined || variables === null) return null;
  if (typeof variables !== 'object' || Array.isArray(variables)) {
    throw sensitiveValidationError('environment.variables', 'Member must be a map of strings');
  }
  for (const [key, value] of Object.entries(variables)) {
    if (!ENVIRONMENT_KEY.test(key)) {
      throw sensitiveValidationError(
        'environment.variables',
        `Map keys must satisfy constraint: [Member must satisfy regular expression pattern: ${ENVIRONMENT_KEY_PATTERN}]`,
      );
    }
    if (typeof value !== 'string') {
      throw sensitiveValidationError('environment.variables', 'Map values must satisfy constraint: [Member must be a string]');
    }
  }
  return { ...(variables as Record<string, string>) };
}

/** What Lambda refuses of well-formed variables: reserved keys, and more than 4 KB of them. */
function checkEnvironmentValues(variables: Record<string, string> | null): Readonly<Record<string, string>> | null {
  if (variables === null) return null;
  const reserved = Object.keys(variables).filter((key) => RESERVED_KEYS.has(key));
  if (reserved.length > 0) {
    throw invalidParameter(
      'Lambda was unable to configure your environment variables because the environment variables you have provided ' +
        `contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
    );
  }
  const measured = JSON.stringify(variables);
  if (encoder.encode(measured).length > LIMITS.environmentMaxBytes) {
    throw invalidParameter(
      'Lambda was unable to configure your environment variables because the environment variables you have provided ' +
        `exceeded the 4KB limit. String measured: ${measured}`,
    );
  }
  return Object.keys(variables).length === 0 ? null : Object.freeze(variables);
}

export function checkAliasName(name: unknown): string {
  if (typeof name !== 'string' || name.length < 1) throw missingMember('name');
  if (name.length > LIMITS.aliasNameMaxLength) {
    throw validationError(name, 'name', `Member must have length less than or equal to ${LIMITS.aliasNameMaxLength}`);
  }
  if (!ALIAS_NAME.test(name)) throw validationError(name, 'name', `Member must satisfy regular expression pattern: ${ALIAS_NAME_PATTERN}`);
  return name;
}

/** An alias's FunctionVersion (and ListAliases' filter): `$LATEST` or a version number, as a number. */
export function checkVersionReference(version: unknown): number {
  if (version === undefined || version === null) throw missingMember('functionVersion');
  if (version === LATEST) return LATEST_NUMBER;
  if (typeof version !== 'string' || !VERSION_NUMBER.test(version) || !Number.isSafeInteger(Number(version))) {
    throw validationError(version, 'functionVersion', `Member must satisfy regular expression pattern: ${VERSION_PATTERN}`);
  }
  return Number(version);
}

/**
 * RoutingConfig's own rules (spec §5): at most one entry, a published version number as key, a weight from
 * 0.0 to 1.0, not the alias's own version, and no routing for an alias of `$LATEST`. Whether the version
 * exists and matches is the caller's part. Returns null when there is no routing.
 */
export function checkRouting(
  routing: AliasRoutingConfig | undefined,
  primaryVersion: number,
): { readonly versionNumber: number; readonly weight: number } | null {
  const weights = routing?.AdditionalVersionWeights;
  if (weights === undefined || weights === null) return null;
  const entries = Object.entries(weights);
  if (entries.length === 0) return null;
  if (entries.length > LIMITS.aliasRoutingMaxEntries) {
    throw invalidParameter(`Number of items in AdditionalVersionWeights cannot be greater than ${LIMITS.aliasRoutingMaxEntries}`);
  }
  const [key, weight] = entries[0]!;
  const shown = `{${key}=${javaDouble(weight)}}`;
  if (!VERSION_NUMBER.test(key) || !Number.isSafeInteger(Number(key))) {
    throw routingValidation(
      shown,
      'Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+, Member must not be null]',
    );
  }
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1) {
    throw routingValidation(
      shown,
      'Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]',
    );
  }
  const versionNumber = Number(key);
  if (versionNumber === primaryVersion) {
    throw invalidParameter(`Invalid function version ${key}. Function version ${key} is already included in routing configuration.`);
  }
  if (primaryVersion === LATEST_NUMBER) throw invalidParameter('$LATEST is not supported for an alias pointing to more than 1 version');
  return { versionNumber, weight };
}

function routingValidation(shown: string, constraint: string): LambdaError {
  return validationError(shown, 'routingConfig.additionalVersionWeights', constraint);
}

/** AWS echoes weights as Java prints a double: `1.0`, `0.25`. */
function javaDouble(value: unknown): string {
  return typeof value === 'number' && Number.isInteger(value) ? value.toFixed(1) : String(value);
}

/** MaxItems of the List operations. */
export function checkMaxItems(maxItems: unknown): number | undefined {
  if (maxItems === undefined) return undefined;
  return integerIn(maxItems, 'maxItems', LIMITS.listMaxItemsMin, LIMITS.listMaxItemsMax);
}

/** ListFunctions' FunctionVersion: `ALL`, or absent for `$LATEST` only. */
export function listsAllVersions(functionVersion: unknown): boolean {
  if (functionVersion === undefined) return false;
  if (functionVersion !== 'ALL') throw validationError(functionVersion, 'functionVersion', 'Member must satisfy enum value set: [ALL]');
  return true;
}

const QUEUE_ARN = /^arn:aws:sqs:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:[A-Za-z0-9_-]{1,80}$/;

/** DeadLetterConfig.TargetArn: a queue's ARN, or empty (no dead-letter queue). SNS topics are not emulated. */
function checkDeadLetterTarget(config: { TargetArn?: string }): string | null {
  const arn = config.TargetArn;
  if (arn === undefined || arn === '') return null;
  if (typeof arn !== 'string' || !QUEUE_ARN.test(arn)) {
    throw invalidParameter(`The provided target ARN ${String(arn)} is invalid: lambdad's dead-letter targets are queues (arn:aws:sqs:<region>:<account>:<name>).`);
  }
  return arn;
}
