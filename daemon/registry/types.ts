/** Shapes of the registry, spelled as the Lambda API spells them (spec lambda-api.md §2). */
import type { Runtime } from '../limits.js';

export interface EnvironmentResponse {
  Variables: Record<string, string>;
}

export interface FunctionConfiguration {
  FunctionName: string;
  /** Qualified with `:N` for a published version. */
  FunctionArn: string;
  Runtime: Runtime;
  Role: string;
  Handler: string;
  CodeSize: number;
  Description: string;
  Timeout: number;
  MemorySize: number;
  /** `2018-12-06T07:03:10.353+0000` */
  LastModified: string;
  CodeSha256: string;
  /** `$LATEST` or `1`, `2`, … */
  Version: string;
  Environment?: EnvironmentResponse;
  DeadLetterConfig?: { TargetArn: string };
  Layers?: { Arn: string; CodeSize: number }[];
  VpcConfig?: { SubnetIds: string[]; SecurityGroupIds: string[]; VpcId: string; Ipv6AllowedForDualStack: boolean };
  TracingConfig: { Mode: 'Active' | 'PassThrough' };
  RevisionId: string;
  State: 'Pending' | 'Active' | 'Inactive' | 'Failed';
  StateReason?: string;
  StateReasonCode?: string;
  LastUpdateStatus: 'Successful' | 'Failed' | 'InProgress';
  PackageType: 'Zip';
  Architectures: ['x86_64' | 'arm64'];
  EphemeralStorage: { Size: number };
  LoggingConfig: { LogFormat: 'Text'; LogGroup: string };
}

/** Code given to Create/UpdateFunctionCode: zip bytes, or (lambdad's addition) a local directory to zip. */
export type CodeInput = { ZipFile: Uint8Array; Directory?: undefined } | { Directory: string; ZipFile?: undefined };

export interface FunctionConfigInput {
  Role?: string;
  Handler?: string;
  Description?: string;
  Timeout?: number;
  MemorySize?: number;
  Runtime?: string;
  Environment?: { Variables?: Record<string, string> };
  TracingConfig?: { Mode?: string };
  EphemeralStorage?: { Size?: number };
  /** An empty TargetArn removes the dead-letter queue. */
  DeadLetterConfig?: { TargetArn?: string };
  /** Layer version ARNs, in order; an empty list removes every layer. */
  Layers?: string[];
  /** Empty lists take the function out of its VPC. */
  VpcConfig?: { SubnetIds?: string[]; SecurityGroupIds?: string[]; Ipv6AllowedForDualStack?: boolean };
}

export interface CreateFunctionInput extends FunctionConfigInput {
  FunctionName: string;
  Runtime: string;
  Role: string;
  Handler: string;
  Code: CodeInput;
  Publish?: boolean;
  Architectures?: string[];
  PackageType?: string;
  /** With Code.Directory: $LATEST follows the directory (hot reload). */
  Watch?: boolean;
}

export interface UpdateFunctionConfigurationInput extends FunctionConfigInput {
  RevisionId?: string;
}

export interface UpdateFunctionCodeInput {
  ZipFile?: Uint8Array;
  Directory?: string;
  Publish?: boolean;
  DryRun?: boolean;
  RevisionId?: string;
  Architectures?: string[];
  /** With Directory: $LATEST follows the directory (hot reload); any other code update stops a watch. */
  Watch?: boolean;
}

export interface PublishVersionInput {
  CodeSha256?: string;
  Description?: string;
  RevisionId?: string;
}

export interface AliasRoutingConfig {
  AdditionalVersionWeights?: Record<string, number>;
}

export interface AliasConfiguration {
  AliasArn: string;
  Name: string;
  FunctionVersion: string;
  Description: string;
  RoutingConfig?: AliasRoutingConfig;
  RevisionId: string;
}

export interface CreateAliasInput {
  Name: string;
  FunctionVersion: string;
  Description?: string;
  RoutingConfig?: AliasRoutingConfig;
}

export interface UpdateAliasInput {
  FunctionVersion?: string;
  Description?: string;
  RoutingConfig?: AliasRoutingConfig;
  RevisionId?: string;
}

export interface Page {
  Marker?: string;
  MaxItems?: number;
}

export interface ListFunctionsInput extends Page {
  /** `ALL` lists every version; default lists `$LATEST` only. */
  FunctionVersion?: string;
}

export interface ListAliasesInput extends Page {
  FunctionVersion?: string;
}

/** What the invoke path needs about one resolved function version. */
export interface InvokeTarget {
  readonly configuration: FunctionConfiguration;
  /** Directory holding the extracted code (the function's `/var/task`). */
  readonly codeDirectory: string;
  /** The extracted code of its layers, in the function's order (what Lambda unzips into `/opt`). */
  readonly layerDirectories: readonly string[];
  /** The ARN exactly as the caller named it: unqualified, `:$LATEST`, `:alias` or `:N`. */
  readonly invokedFunctionArn: string;
  /** `$LATEST` or the version number the qualifier resolved to. */
  readonly executedVersion: string;
  /** The alias the caller named, if any, with its routing: choosing by weight is the router's job. */
  readonly alias?: AliasConfiguration;
}

export interface AccountUsage {
  TotalCodeSize: number;
  FunctionCount: number;
}
