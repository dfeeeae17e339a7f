/**
 * What the registry keeps about a function version and an alias, and how each reads in the API
 * (FunctionConfiguration, AliasConfiguration).
 */
import { createHash } from 'node:crypto';
import type { Runtime } from '../limits.js';
import type { VpcPlacement } from '../network/index.js';
import { functionArn, type ArnScope } from './arn.js';
import type { AliasConfiguration, FunctionConfiguration } from './types.js';

export const LATEST = '$LATEST';
/** `$LATEST` is stored as version number 0, so versions sort `$LATEST` first. */
export const LATEST_NUMBER = 0;

export type Architecture = 'x86_64' | 'arm64';
export type TracingMode = 'Active' | 'PassThrough';

/** A version's settings: everything CreateFunction and UpdateFunctionConfiguration set. */
export interface FunctionSettings {
  readonly runtime: Runtime;
  readonly role: string;
  readonly handler: string;
  readonly description: string;
  readonly timeout: number;
  readonly memorySize: number;
  /** null when the function has no variables. */
  readonly environment: Readonly<Record<string, string>> | null;
  readonly tracingMode: TracingMode;
  readonly architecture: Architecture;
  readonly ephemeralStorage: number;
  /** DeadLetterConfig.TargetArn: where failed asynchronous events go; null without one. */
  readonly deadLetterTarget: string | null;
  /** The layer versions the function uses, in order (later ones override earlier ones). */
  readonly layers: readonly LayerReference[];
  /** Its checked VpcConfig; null outside any VPC. */
  readonly vpc: VpcPlacement | null;
}

export type { VpcPlacement };

/** A layer version as a function version keeps it: enough to run it after the layer version is deleted. */
export interface LayerReference {
  readonly arn: string;
  readonly codeSha256: string;
  readonly codeSize: number;
  readonly unzippedSize: number;
}

export interface LayerVersionRecord {
  readonly layerName: string;
  readonly versionNumber: number;
  readonly description: string;
  readonly compatibleRuntimes: readonly string[];
  readonly compatibleArchitectures: readonly string[];
  readonly licenseInfo: string | null;
  readonly codeSha256: string;
  readonly codeSize: number;
  readonly unzippedSize: number;
  /** Milliseconds since the epoch. */
  readonly created: number;
}

export interface VersionRecord extends FunctionSettings {
  readonly functionName: string;
  readonly versionNumber: number;
  /** base64 SHA-256 of the zip, as the API shows it. */
  readonly codeSha256: string;
  readonly codeSize: number;
  /** Milliseconds since the epoch. */
  readonly lastModified: number;
  readonly revisionId: string;
  /** For a published version: the fingerprint of $LATEST it was published from (to spot an unchanged $LATEST). */
  readonly sourceFingerprint: string | null;
}

export interface AliasRecord {
  readonly functionName: string;
  readonly name: string;
  readonly versionNumber: number;
  readonly description: string;
  /** The one additional version and its weight, or null without routing. */
  readonly routing: { readonly versionNumber: number; readonly weight: number } | null;
  readonly revisionId: string;
}

/** How a configuration was asked for, which decides its FunctionArn and State. */
export interface ConfigurationView {
  /** The qualifier in the FunctionArn: none, a version, `$LATEST` or an alias name. */
  readonly qualifier?: string | undefined;
  /** CreateFunction's answer: the function is still being created. */
  readonly creating?: boolean;
}

export function versionLabel(versionNumber: number): string {
  return versionNumber === LATEST_NUMBER ? LATEST : String(versionNumber);
}

/** What makes two versions the same function: code and settings, not times or revisions. */
export function fingerprint(version: FunctionSettings & { readonly codeSha256: string }): string {
  const environment = version.environment === null ? null : Object.entries(version.environment).sort(([a], [b]) => (a < b ? -1 : 1));
  const fields = [
    version.codeSha256, version.runtime, version.role, version.handler, version.description, version.timeout,
    version.memorySize, environment, version.tracingMode, version.architecture, version.ephemeralStorage,
    // Only when set, so versions published before dead-letter targets existed keep their fingerprint.
    ...(version.deadLetterTarget === null ? [] : [version.deadLetterTarget]),
    ...(version.layers.length === 0 ? [] : [version.layers.map((layer) => layer.arn)]),
    ...(version.vpc === null ? [] : [version.vpc]),
  ];
  return createHash('sha256').update(JSON.stringify(fields)).digest('base64');
}

/** `2018-12-06T07:03:10.353+0000`, the API's LastModified. */
export function formatLastModified(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('Z', '+0000');
}

export function toFunctionConfiguration(scope: ArnScope, record: VersionRecord, view: ConfigurationView = {}): FunctionConfiguration {
  const state = view.creating === true
    ? { State: 'Pending' as const, StateReason: 'The function is being created.', StateReasonCode: 'Creating' }
    : { State: 'Active' as const };
  return {
    FunctionName: record.functionName,
    FunctionArn: functionArn(scope, record.functionName, view.qualifier),
    Runtime: record.runtime,
    Role: record.role,
    Handler: record.handler,
    CodeSize: record.codeSize,
    Description: record.description,
    Timeout: record.timeout,
    MemorySize: record.memorySize,
    LastModified: formatLastModified(record.lastModified),
    CodeSha256: record.codeSha256,
    Version: versionLabel(record.versionNumber),
    ...(record.environment === null ? {} : { Environment: { Variables: { ...record.environment } } }),
    ...(record.deadLetterTarget === null ? {} : { DeadLetterConfig: { TargetArn: record.deadLetterTarget } }),
    ...(record.vpc === null
      ? {}
      : { VpcConfig: { SubnetIds: [...record.vpc.subnetIds], SecurityGroupIds: [...record.vpc.securityGroupIds], VpcId: record.vpc.vpcId, Ipv6AllowedForDualStack: record.vpc.ipv6AllowedForDualStack } }),
    ...(record.layers.length === 0 ? {} : { Layers: record.layers.map((layer) => ({ Arn: layer.arn, CodeSize: layer.codeSize })) }),
    TracingConfig: { Mode: record.tracingMode },
    RevisionId: record.revisionId,
    ...state,
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: [record.architecture],
    EphemeralStorage: { Size: record.ephemeralStorage },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${record.functionName}` },
  };
}

export function toAliasConfiguration(scope: ArnScope, record: AliasRecord): AliasConfiguration {
  return {
    AliasArn: functionArn(scope, record.functionName, record.name),
    Name: record.name,
    FunctionVersion: versionLabel(record.versionNumber),
    Description: record.description,
    ...(record.routing === null
      ? {}
      : { RoutingConfig: { AdditionalVersionWeights: { [versionLabel(record.routing.versionNumber)]: record.routing.weight } } }),
    RevisionId: record.revisionId,
  };
}
