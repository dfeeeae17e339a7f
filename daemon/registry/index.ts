/**
 * The function registry: functions, their versions and aliases, and their code, kept durably in the data
 * directory. This file is the registry's only entry; it checks each operation's input, applies Lambda's
 * rules and hands back the API's shapes. The invoke path calls `resolveForInvoke`, which is answered from
 * memory once a label has been resolved.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomIds, systemClock, type Clock, type Ids } from '../clock.js';
import { conflict, invalidParameter, LambdaError, missingMember, notFound, revisionMismatch, validationError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { functionArn, parseFunctionLabel, type ArnScope } from './arn.js';
import { resolve } from 'node:path';
import { CodeStore, type PreparedCode } from './code-store.js';
import { Layers, type ListLayersInput, type PublishLayerVersionInput } from './layers.js';
import { isNameAndNumberKey, isNumberKey, isStringKey, pageSize, readMarker, toPage } from './paging.js';
import {
  fingerprint,
  LATEST,
  LATEST_NUMBER,
  toAliasConfiguration,
  toFunctionConfiguration,
  versionLabel,
  type AliasRecord,
  type LayerReference,
  type VersionRecord,
  type VpcPlacement,
} from './records.js';
import { Store, type ProvisionedRecord } from './store.js';
import type {
  AccountUsage,
  AliasConfiguration,
  AliasRoutingConfig,
  CreateAliasInput,
  CreateFunctionInput,
  FunctionConfiguration,
  InvokeTarget,
  ListAliasesInput,
  ListFunctionsInput,
  Page,
  PublishVersionInput,
  UpdateAliasInput,
  UpdateFunctionCodeInput,
  UpdateFunctionConfigurationInput,
} from './types.js';
import {
  checkAliasName,
  checkArchitectures,
  checkDescription,
  checkRouting,
  checkVersionReference,
  listsAllVersions,
  settingsForCreate,
  settingsForUpdate,
} from './validation.js';

export type * from './types.js';
export type { ProvisionedRecord } from './store.js';
export { formatLastModified } from './records.js';
export { functionArn, parseFunctionLabel, type ArnScope, type FunctionRef } from './arn.js';
export type { LayerVersion, LayerVersionsListItem, ListLayersInput, PublishLayerVersionInput } from './layers.js';

export interface RegistryOptions {
  readonly dataDir: string;
  readonly region: string;
  readonly accountId: string;
  readonly clock?: Clock;
  readonly ids?: Ids;
  /** The account's code storage quota; Lambda's by default. */
  readonly codeStorageMaxBytes?: number;
  /** Checks a VpcConfig against the network model and the role (null: not in a VPC). Without it, no VPC exists. */
  readonly checkVpcConfig?: (config: NonNullable<CreateFunctionInput['VpcConfig']>, role: string) => VpcPlacement | null;
}

const VERSION_NUMBER = /^[0-9]+$/;
const FIRST_FUNCTION_KEY: [string, number] = ['', LATEST_NUMBER - 1];

export class Registry {
  readonly #scope: ArnScope;
  readonly #store: Store;
  readonly #code: CodeStore;
  readonly #clock: Clock;
  readonly #ids: Ids;
  readonly #codeStorageMaxBytes: number;
  readonly #layers: Layers;
  readonly #checkVpcConfig: NonNullable<RegistryOptions['checkVpcConfig']>;
  /** Invoke targets by label and qualifier, prepared once; every change empties it. */
  readonly #targets = new Map<string, InvokeTarget>();

  private constructor(options: RegistryOptions, store: Store, code: CodeStore) {
    this.#scope = Object.freeze({ region: options.region, accountId: options.accountId });
    this.#store = store;
    this.#code = code;
    this.#clock = options.clock ?? systemClock;
    this.#ids = options.ids ?? randomIds;
    this.#codeStorageMaxBytes = options.codeStorageMaxBytes ?? LIMITS.codeStorageMaxBytes;
    this.#layers = new Layers(this.#scope, store, code, () => this.#clock.now());
    this.#checkVpcConfig = options.checkVpcConfig ?? noNetwork;
  }

  static open(options: RegistryOptions): Registry {
    mkdirSync(options.dataDir, { recursive: true });
    const store = new Store(join(options.dataDir, 'lambdad.db'));
    try {
      const code = new CodeStore(join(options.dataDir, 'code'));
      // Nothing runs code yet: the one safe moment to drop code no version uses any more.
      code.prune(store.codeInUse());
      return new Registry(options, store, code);
    } catch (error) {
      store.close();
      throw error;
    }
  }

  close(): void {
    this.#targets.clear();
    this.#store.close();
  }

  createFunction(input: CreateFunctionInput): FunctionConfiguration {
    if (typeof input.FunctionName !== 'string') throw missingMember('functionName');
    const ref = parseFunctionLabel(this.#scope, input.FunctionName);
    if (ref.qualifier !== undefined) throw unsupportedName(input.FunctionName);
    const settings = settingsForCreate(input);
    if (input.Code === undefined || input.Code === null) throw missingMember('code');
    const watch = checkWatch(input.Watch, input.Code.Directory);
    if (this.#store.functionExists(ref.name)) throw conflict(`Function already exist: ${ref.name}`);

    const code = this.#code.prepare(input.Code);
    const layers = input.Layers === undefined ? [] : this.#layers.references(input.Layers);
    checkUnzippedSize(code.unzippedSize, layers);
    const publish = input.Publish === true;
    this.#checkCodeStorage(publish ? 2 * code.codeSize : code.codeSize);
    this.#code.store(code);
    const vpc = input.VpcConfig === undefined ? null : this.#checkVpcConfig(input.VpcConfig, settings.role);
    const latest: VersionRecord = {
      ...settings,
      layers,
      vpc,
      functionName: ref.name,
      versionNumber: LATEST_NUMBER,
      codeSha256: code.codeSha256,
      codeSize: code.codeSize,
      lastModified: this.#clock.now(),
      revisionId: this.#ids.uuid(),
      sourceFingerprint: null,
    };
    const created = this.#change(() => {
      this.#store.insertFunction(ref.name);
      this.#store.putVersion(latest);
      this.#store.setWatchDirectory(ref.name, watch);
      return publish ? this.#publish(latest) : latest;
    });
    return this.#configuration(created, { creating: true });
  }

  getFunctionConfiguration(label: string, qualifier?: string): FunctionConfiguration {
    const ref = parseFunctionLabel(this.#scope, label, qualifier);
    const { version } = this.#resolve(ref.name, ref.qualifier);
    return toFunctionConfiguration(this.#scope, version, { qualifier: ref.qualifier });
  }

  listFunctions(input: ListFunctionsInput = {}): { Functions: FunctionConfiguration[]; NextMarker?: string } {
    const all = listsAllVersions(input.FunctionVersion);
    const size = pageSize(input.MaxItems, LIMITS.listFunctionsPageSize);
    const after = readMarker(input.Marker, FIRST_FUNCTION_KEY, isNameAndNumberKey);
    const page = toPage(this.#store.allVersions(after, !all, size + 1), size, (v) => [v.functionName, v.versionNumber]);
    // Listing every version qualifies each ARN, $LATEST's too.
    const Functions = page.items.map((v) =>
      toFunctionConfiguration(this.#scope, v, all ? { qualifier: versionLabel(v.versionNumber) } : {}),
    );
    return page.nextMarker === undefined ? { Functions } : { Functions, NextMarker: page.nextMarker };
  }

  deleteFunction(label: string, qualifier?: string): void {
    const ref = parseFunctionLabel(this.#scope, label, qualifier);
    this.#requireFunction(ref.name, ref.qualifier);
    if (ref.qualifier === undefined) {
      this.#change(() => this.#store.deleteFunction(ref.name));
      return;
    }
    if (ref.qualifier === LATEST) throw invalidParameter('$LATEST version cannot be deleted without deleting the function.');
    if (!VERSION_NUMBER.test(ref.qualifier)) throw invalidParameter('Deletion of aliases is not supported.');
    const version = this.#requireVersion(ref.name, Number(ref.qualifier));
    const users = this.#store.aliasesUsing(ref.name, version.versionNumber);
    if (users.length > 0) {
      throw conflict(`Unable to delete version because the following aliases reference it: [${users.join(', ')}]`);
    }
    this.#change(() => {
      this.#store.deleteVersion(ref.name, version.versionNumber);
      this.#store.deleteProvisioned(ref.name, ref.qualifier!);
    });
  }

  updateFunctionCode(label: string, input: UpdateFunctionCodeInput): FunctionConfiguration {
    const latest = this.#latest(label);
    checkRevision(input.RevisionId, latest.revisionId);
    const watch = checkWatch(input.Watch, input.Directory);
    const architecture = input.Architectures === undefined ? latest.architecture : checkArchitectures(input.Architectures);
    const code = this.#code.prepare(input);
    const result = this.#updateCode({ ...latest, architecture }, code, input.Publish === true, input.DryRun === true);
    if (input.DryRun !== true) this.#change(() => this.#store.setWatchDirectory(latest.functionName, watch));
    return result;
  }

  /**
   * Hot reload: $LATEST takes the code now in the function's watched directory. Null when the function is not
   * watched or its code did not change. `readable` gives the directory's path as it may be read now (it throws
   * when the directory may no longer be).
   */
  reloadFromDirectory(functionName: string, readable: (directory: string) => string): FunctionConfiguration | null {
    const directory = this.#store.functionExists(functionName) ? this.#store.watchDirectory(functionName) : null;
    if (directory === null) return null;
    const latest = this.#requireVersion(functionName, LATEST_NUMBER);
    const code = this.#code.prepare({ Directory: readable(directory) });
    return code.codeSha256 === latest.codeSha256 ? null : this.#updateCode(latest, code, false, false);
  }

  /** Every watched function and the directory it follows, for the watcher at start. */
  watchedFunctions(): { name: string; directory: string }[] {
    return this.#store.watchedFunctions();
  }

  #updateCode(latest: VersionRecord, code: PreparedCode, publish: boolean, dryRun: boolean): FunctionConfiguration {
    checkUnzippedSize(code.unzippedSize, latest.layers);
    const changed: VersionRecord = { ...latest, codeSha256: code.codeSha256, codeSize: code.codeSize };
    // A dry run checks the request and shows the outcome, changing nothing.
    if (dryRun) return this.#configuration(changed);

    this.#checkCodeStorage(code.codeSize - latest.codeSize + (publish ? code.codeSize : 0));
    this.#code.store(code);
    const updated: VersionRecord = { ...changed, lastModified: this.#clock.now(), revisionId: this.#ids.uuid() };
    const result = this.#change(() => {
      this.#store.putVersion(updated);
      return publish ? this.#publishIfChanged(updated) : updated;
    });
    return this.#configuration(result);
  }

  updateFunctionConfiguration(label: string, input: UpdateFunctionConfigurationInput): FunctionConfiguration {
    const latest = this.#latest(label);
    checkRevision(input.RevisionId, latest.revisionId);
    const layers = input.Layers === undefined ? latest.layers : this.#layers.references(input.Layers);
    if (input.Layers !== undefined) checkUnzippedSize(this.#code.unzippedSize(latest.codeSha256), layers);
    const settings = settingsForUpdate(latest, input);
    // A new role must still be allowed to create the network interfaces of the VPC the function is in.
    const vpcConfig = input.VpcConfig ?? (latest.vpc === null || input.Role === undefined ? undefined : { SubnetIds: [...latest.vpc.subnetIds], SecurityGroupIds: [...latest.vpc.securityGroupIds] });
    const vpc = vpcConfig === undefined ? latest.vpc : this.#checkVpcConfig(vpcConfig, settings.role);
    const updated: VersionRecord = {
      ...latest,
      ...settings,
      layers,
      vpc,
      lastModified: this.#clock.now(),
      revisionId: this.#ids.uuid(),
    };
    this.#change(() => this.#store.putVersion(updated));
    return this.#configuration(updated);
  }

  publishVersion(label: string, input: PublishVersionInput = {}): FunctionConfiguration {
    const latest = this.#latest(label);
    if (input.CodeSha256 !== undefined && input.CodeSha256 !== latest.codeSha256) {
      throw invalidParameter(
        `CodeSHA256 (${input.CodeSha256}) is different from current CodeSHA256 in $LATEST (${latest.codeSha256}). ` +
          'Please try again with the CodeSHA256 in $LATEST.',
      );
    }
    checkRevision(input.RevisionId, latest.revisionId);
    const description = input.Description === undefined ? undefined : checkDescription(input.Description, 'description');
    return this.#configuration(this.#change(() => this.#publishIfChanged(latest, description)));
  }

  listVersionsByFunction(label: string, page: Page = {}): { Versions: FunctionConfiguration[]; NextMarker?: string } {
    const name = this.#functionName(label);
    const size = pageSize(page.MaxItems, LIMITS.listVersionsPageSize);
    const after = readMarker(page.Marker, LATEST_NUMBER - 1, isNumberKey);
    const rows = toPage(this.#store.versions(name, after, size + 1), size, (v) => v.versionNumber);
    const Versions = rows.items.map((v) => toFunctionConfiguration(this.#scope, v, { qualifier: versionLabel(v.versionNumber) }));
    return rows.nextMarker === undefined ? { Versions } : { Versions, NextMarker: rows.nextMarker };
  }

  createAlias(label: string, input: CreateAliasInput): AliasConfiguration {
    const functionName = this.#functionName(label);
    const name = checkAliasName(input.Name);
    const versionNumber = checkVersionReference(input.FunctionVersion);
    const description = input.Description === undefined ? '' : checkDescription(input.Description, 'description');
    const primary = this.#requireVersion(functionName, versionNumber);
    if (this.#store.alias(functionName, name) !== undefined) {
      throw conflict(`Alias already exists: ${functionArn(this.#scope, functionName, name)}`);
    }
    const alias: AliasRecord = {
      functionName,
      name,
      versionNumber,
      description,
      routing: this.#checkRouting(primary, input.RoutingConfig),
      revisionId: this.#ids.uuid(),
    };
    this.#change(() => this.#store.putAlias(alias));
    return toAliasConfiguration(this.#scope, alias);
  }

  getAlias(label: string, name: string): AliasConfiguration {
    return toAliasConfiguration(this.#scope, this.#requireAlias(this.#functionName(label), name));
  }

  updateAlias(label: string, name: string, input: UpdateAliasInput): AliasConfiguration {
    const current = this.#requireAlias(this.#functionName(label), name);
    checkRevision(input.RevisionId, current.revisionId);
    const versionNumber = input.FunctionVersion === undefined ? current.versionNumber : checkVersionReference(input.FunctionVersion);
    const description = input.Description === undefined ? current.description : checkDescription(input.Description, 'description');
    const primary = this.#requireVersion(current.functionName, versionNumber);
    // Routing kept from before must still fit the (possibly new) primary version.
    const routing: AliasRoutingConfig | undefined =
      input.RoutingConfig ??
      (current.routing === null
        ? undefined
        : { AdditionalVersionWeights: { [versionLabel(current.routing.versionNumber)]: current.routing.weight } });
    const alias: AliasRecord = {
      ...current,
      versionNumber,
      description,
      routing: this.#checkRouting(primary, routing),
      revisionId: this.#ids.uuid(),
    };
    this.#change(() => this.#store.putAlias(alias));
    return toAliasConfiguration(this.#scope, alias);
  }

  /** Deleting an alias that is not there is not an error (as on Lambda). */
  deleteAlias(label: string, name: string): void {
    const functionName = this.#functionName(label);
    checkAliasName(name);
    this.#change(() => {
      this.#store.deleteAlias(functionName, name);
      this.#store.deleteProvisioned(functionName, name);
    });
  }

  listAliases(label: string, input: ListAliasesInput = {}): { Aliases: AliasConfiguration[]; NextMarker?: string } {
    const functionName = this.#functionName(label);
    const versionNumber = input.FunctionVersion === undefined ? null : checkVersionReference(input.FunctionVersion);
    const size = pageSize(input.MaxItems, LIMITS.listMaxItemsMax);
    const after = readMarker(input.Marker, '', isStringKey);
    const rows = toPage(this.#store.aliases(functionName, after, versionNumber, size + 1), size, (a) => a.name);
    const Aliases = rows.items.map((alias) => toAliasConfiguration(this.#scope, alias));
    return rows.nextMarker === undefined ? { Aliases } : { Aliases, NextMarker: rows.nextMarker };
  }

  /**
   * What the invoke path needs to run `label` (with `qualifier`). An alias runs its primary version here;
   * the alias and its routing are passed on for the router to choose by weight.
   */
  resolveForInvoke(label: string, qualifier?: string): InvokeTarget {
    const key = qualifier === undefined ? label : `${label}\n${qualifier}`;
    const cached = this.#targets.get(key);
    if (cached !== undefined) return cached;

    const ref = parseFunctionLabel(this.#scope, label, qualifier);
    const { version, alias } = this.#resolve(ref.name, ref.qualifier);
    const target: InvokeTarget = freezeDeep({
      configuration: toFunctionConfiguration(this.#scope, version, { qualifier: ref.qualifier }),
      codeDirectory: this.#code.directory(version.codeSha256),
      layerDirectories: version.layers.map((layer) => this.#code.directory(layer.codeSha256)),
      invokedFunctionArn: functionArn(this.#scope, ref.name, ref.qualifier),
      executedVersion: versionLabel(version.versionNumber),
      ...(alias === undefined ? {} : { alias: toAliasConfiguration(this.#scope, alias) }),
    });
    this.#targets.set(key, target);
    return target;
  }

  /** The directory a CodeSha256's code is extracted to (a function's `/var/task`). */
  codeDirectory(codeSha256: string): string {
    return this.#code.directory(codeSha256);
  }

  /** A function's reserved concurrency (null: it draws from the unreserved pool), by name or ARN. */
  reservedConcurrency(label: string): { functionName: string; reserved: number | null } {
    const functionName = this.#functionName(label);
    return { functionName, reserved: this.#store.reservedConcurrency(functionName) };
  }

  /** Keeps a function's reserved concurrency (null removes it); the concurrency rules are checked before. */
  setReservedConcurrency(functionName: string, reserved: number | null): void {
    this.#change(() => {
      this.#requireFunction(functionName);
      this.#store.setReservedConcurrency(functionName, reserved);
    });
  }

  /**
   * Keeps a provisioned-concurrency config for an alias or a published version (not $LATEST) that exists.
   * Returns the stored record and the version it resolves to now.
   */
  putProvisionedConcurrency(label: string, qualifier: string, requested: number): { record: ProvisionedRecord; target: InvokeTarget } {
    const functionName = this.#functionName(label);
    if (qualifier === LATEST) throw invalidParameter('Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
    const target = this.resolveForInvoke(functionName, qualifier);
    const record: ProvisionedRecord = { functionName, qualifier, requested, lastModified: this.#clock.now() };
    this.#change(() => this.#store.putProvisioned(record));
    return { record, target };
  }

  /** The config of an alias or version; ProvisionedConcurrencyConfigNotFoundException when there is none. */
  provisionedConcurrency(label: string, qualifier: string): ProvisionedRecord {
    const functionName = this.#functionName(label);
    const record = this.#store.provisioned(functionName, qualifier);
    if (record === undefined) throw new LambdaError('ProvisionedConcurrencyConfigNotFoundException', 'No Provisioned Concurrency Config found for this function');
    return record;
  }

  deleteProvisionedConcurrency(label: string, qualifier: string): ProvisionedRecord {
    const record = this.provisionedConcurrency(label, qualifier);
    this.#change(() => this.#store.deleteProvisioned(record.functionName, qualifier));
    return record;
  }

  listProvisionedConcurrency(label: string, page: Page = {}): { items: ProvisionedRecord[]; NextMarker?: string } {
    const functionName = this.#functionName(label);
    const size = pageSize(page.MaxItems, LIMITS.listProvisionedConcurrencyPageSize);
    const after = readMarker(page.Marker, '', isStringKey);
    const rows = toPage(this.#store.provisionedList(functionName, after, size + 1), size, (row) => row.qualifier);
    return rows.nextMarker === undefined ? { items: rows.items } : { items: rows.items, NextMarker: rows.nextMarker };
  }

  /** Every provisioned-concurrency config with the version it resolves to, for the contexts at start. */
  allProvisionedConcurrency(): { record: ProvisionedRecord; target: InvokeTarget }[] {
    return this.#store.provisionedList(null, '', 0).map((record) => ({ record, target: this.resolveForInvoke(record.functionName, record.qualifier) }));
  }

  /** Every function with reserved concurrency, for the scheduler at start. */
  reservations(): Map<string, number> {
    return this.#store.reservations();
  }

  publishLayerVersion(input: PublishLayerVersionInput) {
    return this.#layers.publish(input, (bytes) => this.#checkCodeStorage(bytes));
  }

  getLayerVersion(layerName: string, versionNumber: unknown) {
    return this.#layers.get(layerName, versionNumber);
  }

  getLayerVersionByArn(arn: unknown) {
    return this.#layers.getByArn(arn);
  }

  listLayerVersions(layerName: string, input: ListLayersInput = {}) {
    return this.#layers.listVersions(layerName, input);
  }

  listLayers(input: ListLayersInput = {}) {
    return this.#layers.list(input);
  }

  deleteLayerVersion(layerName: string, versionNumber: unknown): void {
    this.#layers.delete(layerName, versionNumber);
  }

  /** The zip file of a CodeSha256 (GetFunction's download), or null if no version keeps it any more. */
  codeZipFile(codeSha256: string): string | null {
    return this.#code.zipFile(codeSha256);
  }

  accountUsage(): AccountUsage {
    return { TotalCodeSize: this.#store.totalCodeSize(), FunctionCount: this.#store.functionCount() };
  }

  /** Runs a change in one transaction and forgets the invoke targets it may have changed. */
  #change<T>(work: () => T): T {
    const result = this.#store.transaction(work);
    this.#targets.clear();
    return result;
  }

  /** A version from $LATEST, unless $LATEST is what the newest version was published from. Inside a change. */
  #publishIfChanged(latest: VersionRecord, description?: string): VersionRecord {
    const newest = this.#store.newestPublished(latest.functionName);
    if (newest !== undefined && newest.sourceFingerprint === fingerprint(latest)) return newest;
    this.#checkCodeStorage(latest.codeSize);
    return this.#publish(latest, description);
  }

  #publish(latest: VersionRecord, description?: string): VersionRecord {
    const versionNumber = this.#store.lastVersionNumber(latest.functionName) + 1;
    const version: VersionRecord = {
      ...latest,
      versionNumber,
      description: description ?? latest.description,
      lastModified: this.#clock.now(),
      revisionId: this.#ids.uuid(),
      sourceFingerprint: fingerprint(latest),
    };
    this.#store.putVersion(version);
    this.#store.setLastVersionNumber(latest.functionName, versionNumber);
    return version;
  }

  #configuration(version: VersionRecord, view: { creating?: boolean } = {}): FunctionConfiguration {
    const qualifier = version.versionNumber === LATEST_NUMBER ? undefined : versionLabel(version.versionNumber);
    return toFunctionConfiguration(this.#scope, version, { ...view, qualifier });
  }

  /** The version a qualifier names: none or `$LATEST`, a number, or an alias (then also the alias). */
  #resolve(functionName: string, qualifier: string | undefined): { version: VersionRecord; alias?: AliasRecord } {
    this.#requireFunction(functionName, qualifier);
    if (qualifier === undefined || qualifier === LATEST) return { version: this.#requireVersion(functionName, LATEST_NUMBER) };
    if (VERSION_NUMBER.test(qualifier)) return { version: this.#requireVersion(functionName, Number(qualifier)) };
    const alias = this.#store.alias(functionName, qualifier);
    if (alias === undefined) throw functionNotFound(this.#scope, functionName, qualifier);
    return { version: this.#requireVersion(functionName, alias.versionNumber), alias };
  }

  /** The function name of a label that must name the function itself, which must exist. */
  #functionName(label: string): string {
    const ref = parseFunctionLabel(this.#scope, label);
    if (ref.qualifier !== undefined) throw unsupportedName(label);
    this.#requireFunction(ref.name);
    return ref.name;
  }

  #latest(label: string): VersionRecord {
    return this.#requireVersion(this.#functionName(label), LATEST_NUMBER);
  }

  #requireFunction(name: string, qualifier?: string): void {
    if (!this.#store.functionExists(name)) throw functionNotFound(this.#scope, name, qualifier);
  }

  #requireVersion(functionName: string, versionNumber: number): VersionRecord {
    const version = this.#store.version(functionName, versionNumber);
    if (version === undefined) throw functionNotFound(this.#scope, functionName, versionLabel(versionNumber));
    return version;
  }

  #requireAlias(functionName: string, name: string): AliasRecord {
    const alias = this.#store.alias(functionName, checkAliasName(name));
    if (alias === undefined) throw notFound(`Cannot find alias arn: ${functionArn(this.#scope, functionName, name)}`);
    return alias;
  }

  /** Routing rules that need the versions themselves: the additional one exists and runs with the same role. */
  #checkRouting(primary: VersionRecord, routing: AliasRoutingConfig | undefined): AliasRecord['routing'] {
    const checked = checkRouting(routing, primary.versionNumber);
    if (checked === null) return null;
    const additional = this.#requireVersion(primary.functionName, checked.versionNumber);
    if (additional.role !== primary.role) {
      throw invalidParameter(
        `Versions ${primary.versionNumber} and ${additional.versionNumber} have different execution roles: ` +
          'an alias can only route between versions with the same role.',
      );
    }
    return checked;
  }

  #checkCodeStorage(additionalBytes: number): void {
    if (this.#store.totalCodeSize() + additionalBytes > this.#codeStorageMaxBytes) {
      throw new LambdaError('CodeStorageExceededException', 'Code storage limit exceeded.');
    }
  }
}

/** The registry of a daemon without a network model: every subnet is unknown. */
function noNetwork(config: { SubnetIds?: string[] }): null {
  const first = config.SubnetIds?.[0];
  if (first !== undefined) throw invalidParameter(`Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. EC2 Error Message: The subnet ID '${first}' does not exist`);
  return null;
}

/** The directory to watch: only code from a directory can be, and only when asked. */
function checkWatch(watch: unknown, directory: string | undefined): string | null {
  if (watch === undefined || watch === false) return null;
  if (watch !== true) throw validationError(watch, 'watch', 'Member must be a boolean');
  if (directory === undefined) throw invalidParameter('Watch needs code from a directory (Code.Directory, --code DIR): there is nothing to watch in a zip.');
  return resolve(directory);
}

/** Function code and its layers, unzipped, within Lambda's 250 MB. */
function checkUnzippedSize(codeBytes: number, layers: readonly LayerReference[]): void {
  const total = layers.reduce((sum, layer) => sum + layer.unzippedSize, codeBytes);
  if (total > LIMITS.unzippedCodeMaxBytes) {
    throw invalidParameter(`Function code combined with layers exceeds the maximum allowed size of ${LIMITS.unzippedCodeMaxBytes} bytes. The actual size is ${total} bytes.`);
  }
}

function checkRevision(given: string | undefined, current: string): void {
  if (given !== undefined && given !== current) throw revisionMismatch();
}

function functionNotFound(scope: ArnScope, name: string, qualifier?: string): LambdaError {
  return notFound(`Function not found: ${functionArn(scope, name, qualifier)}`);
}

/** A qualified name where the operation acts on the function itself. */
function unsupportedName(label: string): LambdaError {
  return invalidParameter(`Unsupported function name: ${label}`);
}

function freezeDeep<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) freezeDeep(member);
  }
  return value;
}
