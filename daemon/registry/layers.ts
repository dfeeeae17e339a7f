/**
 * Lambda layers: published versions of shared code (spec lambda-api.md §2, limits.md), content-addressed in the
 * code store like function code. A function names up to 5 layer versions by ARN; it keeps each one's code and
 * sizes, so a layer version deleted later still runs for the functions that use it, as on AWS.
 */
import { invalidParameter, LambdaError, validationError } from '../errors.js';
import { LIMITS } from '../limits.js';
import type { ArnScope } from './arn.js';
import type { CodeSource, CodeStore } from './code-store.js';
import { pageSize, readMarker, toPage, isNumberKey, isStringKey } from './paging.js';
import { formatLastModified, type LayerReference, type LayerVersionRecord } from './records.js';
import type { Store } from './store.js';
import { checkDescription } from './validation.js';

const LAYER_NAME_PATTERN = '(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+';
const LAYER_NAME = /^(?:arn:[a-zA-Z0-9-]+:lambda:(?<region>[a-zA-Z0-9-]+):(?<account>\d{12}):layer:(?<arnName>[a-zA-Z0-9-_]+)|(?<name>[a-zA-Z0-9-_]+))$/;
const LAYER_VERSION_ARN_PATTERN = 'arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+';
const LAYER_VERSION_ARN = /^arn:[a-zA-Z0-9-]+:lambda:(?<region>[a-zA-Z0-9-]+):(?<account>\d{12}):layer:(?<name>[a-zA-Z0-9-_]+):(?<version>[0-9]+)$/;
const RUNTIME_NAME = /^(nodejs|python|java|ruby|dotnet|go|provided)[a-z0-9.]*$/;
const ARCHITECTURES = ['x86_64', 'arm64'];

export interface PublishLayerVersionInput {
  LayerName: string;
  Description?: string;
  Content: CodeSource;
  CompatibleRuntimes?: string[];
  CompatibleArchitectures?: string[];
  LicenseInfo?: string;
}

export interface ListLayersInput {
  CompatibleRuntime?: string;
  CompatibleArchitecture?: string;
  Marker?: string;
  MaxItems?: number;
}

/** A layer version as the API shows it (Content.Location is the service's to add). */
export interface LayerVersion {
  LayerArn: string;
  LayerVersionArn: string;
  Description: string;
  CreatedDate: string;
  Version: number;
  CompatibleRuntimes: string[];
  CompatibleArchitectures: string[];
  LicenseInfo?: string;
  Content: { CodeSha256: string; CodeSize: number };
}

export type LayerVersionsListItem = Omit<LayerVersion, 'LayerArn' | 'Content'>;

const doesNotExist = (): LambdaError => new LambdaError('ResourceNotFoundException', 'The resource you requested does not exist.');

export class Layers {
  readonly #scope: ArnScope;
  readonly #store: Store;
  readonly #code: CodeStore;
  readonly #now: () => number;

  constructor(scope: ArnScope, store: Store, code: CodeStore, now: () => number) {
    this.#scope = scope;
    this.#store = store;
    this.#code = code;
    this.#now = now;
  }

  /** Stores the content and makes the next version of the layer; `checkStorage` refuses code over the quota. */
  publish(input: PublishLayerVersionInput, checkStorage: (bytes: number) => void): LayerVersion {
    const layerName = this.#layerName(input.LayerName);
    const description = input.Description === undefined ? '' : checkDescription(input.Description, 'description');
    const compatibleRuntimes = checkList(input.CompatibleRuntimes, 'compatibleRuntimes', LIMITS.layerCompatibleRuntimesMax, (runtime) => RUNTIME_NAME.test(runtime));
    const compatibleArchitectures = checkList(input.CompatibleArchitectures, 'compatibleArchitectures', ARCHITECTURES.length, (architecture) => ARCHITECTURES.includes(architecture));
    if (input.LicenseInfo !== undefined && (typeof input.LicenseInfo !== 'string' || input.LicenseInfo.length > LIMITS.layerLicenseInfoMaxLength)) {
      throw validationError(input.LicenseInfo, 'licenseInfo', `Member must have length less than or equal to ${LIMITS.layerLicenseInfoMaxLength}`);
    }
    if (input.Content === undefined || input.Content === null) throw validationError(null, 'content', 'Member must not be null');
    const code = this.#code.prepare(input.Content);
    checkStorage(code.codeSize);
    this.#code.store(code);
    const record: LayerVersionRecord = {
      layerName,
      versionNumber: this.#store.lastLayerVersionNumber(layerName) + 1,
      description,
      compatibleRuntimes,
      compatibleArchitectures,
      licenseInfo: input.LicenseInfo ?? null,
      codeSha256: code.codeSha256,
      codeSize: code.codeSize,
      unzippedSize: code.unzippedSize,
      created: this.#now(),
    };
    this.#store.transaction(() => this.#store.putLayerVersion(record));
    return this.#shape(record);
  }

  get(layerName: string, versionNumber: unknown): LayerVersion {
    return this.#shape(this.#require(this.#layerName(layerName), checkVersionNumber(versionNumber)));
  }

  getByArn(arn: unknown): LayerVersion {
    const { name, version } = this.#parseVersionArn(arn, 'arn');
    return this.#shape(this.#require(name, version));
  }

  /** A layer's versions, newest first, that match the filters. */
  listVersions(layerName: string, input: ListLayersInput): { LayerVersions: LayerVersionsListItem[]; NextMarker?: string } {
    const name = this.#layerName(layerName);
    const size = pageSize(input.MaxItems, LIMITS.listLayersPageSize);
    const before = readMarker(input.Marker, Number.MAX_SAFE_INTEGER, isNumberKey);
    const matching = this.#store.layerVersions(name, before, Number.MAX_SAFE_INTEGER).filter(matches(input));
    const page = toPage(matching.slice(0, size + 1), size, (record) => record.versionNumber);
    const LayerVersions = page.items.map((record) => listItem(this.#shape(record)));
    return page.nextMarker === undefined ? { LayerVersions } : { LayerVersions, NextMarker: page.nextMarker };
  }

  /** Every layer with its newest version that matches the filters. */
  list(input: ListLayersInput): { Layers: { LayerName: string; LayerArn: string; LatestMatchingVersion: LayerVersionsListItem }[]; NextMarker?: string } {
    const size = pageSize(input.MaxItems, LIMITS.listLayersPageSize);
    const after = readMarker(input.Marker, '', isStringKey);
    const latest = new Map<string, LayerVersionRecord>();
    for (const record of this.#store.allLayerVersions().filter(matches(input))) {
      if (record.layerName > after && !latest.has(record.layerName)) latest.set(record.layerName, record);
    }
    const page = toPage([...latest.values()].slice(0, size + 1), size, (record) => record.layerName);
    const Layers = page.items.map((record) => {
      const shape = this.#shape(record);
      return { LayerName: record.layerName, LayerArn: shape.LayerArn, LatestMatchingVersion: listItem(shape) };
    });
    return page.nextMarker === undefined ? { Layers } : { Layers, NextMarker: page.nextMarker };
  }

  /** Deleting a version that is not there is not an error (as on AWS); functions using it keep running it. */
  delete(layerName: string, versionNumber: unknown): void {
    const name = this.#layerName(layerName);
    const version = checkVersionNumber(versionNumber);
    this.#store.transaction(() => this.#store.deleteLayerVersion(name, version));
  }

  /** A function's `Layers` (version ARNs, in order) as the references it keeps; every rule of limits.md checked. */
  references(arns: unknown): LayerReference[] {
    if (!Array.isArray(arns)) throw validationError(arns, 'layers', 'Member must be a list');
    if (arns.length > LIMITS.layersPerFunctionMax) throw invalidParameter(`Cannot reference more than ${LIMITS.layersPerFunctionMax} layers.`);
    const seen = new Map<string, string>();
    // AWS's order of checks: each ARN's region, then that it exists, then that no earlier one is the same layer.
    return arns.map((arn: unknown) => {
      const { name, version } = this.#parseVersionArn(arn, 'layers');
      const record = this.#store.layerVersion(name, version);
      if (record === undefined) throw invalidParameter(`Layer version ${String(arn)} does not exist.`);
      const other = seen.get(name);
      if (other !== undefined) {
        throw invalidParameter(`Two different versions of the same layer are not allowed to be referenced in the same function. ${other} and ${String(arn)} are versions of the same layer.`);
      }
      seen.set(name, String(arn));
      return { arn: this.#versionArn(name, version), codeSha256: record.codeSha256, codeSize: record.codeSize, unzippedSize: record.unzippedSize };
    });
  }

  #layerName(label: unknown): string {
    const match = typeof label === 'string' && label.length <= LIMITS.functionLabelMaxLength ? LAYER_NAME.exec(label) : null;
    if (match === null) throw validationError(label, 'layerName', `Member must satisfy regular expression pattern: ${LAYER_NAME_PATTERN}`);
    const { region, account, arnName, name } = match.groups!;
    if (arnName !== undefined && (region !== this.#scope.region || account !== this.#scope.accountId)) throw doesNotExist();
    return (arnName ?? name)!;
  }

  #parseVersionArn(arn: unknown, field: string): { name: string; version: number } {
    const match = typeof arn === 'string' && arn.length <= LIMITS.functionLabelMaxLength ? LAYER_VERSION_ARN.exec(arn) : null;
    if (match === null) throw validationError(arn, field, `Member must satisfy regular expression pattern: ${LAYER_VERSION_ARN_PATTERN}`);
    const { region, account, name, version } = match.groups!;
    if (region !== this.#scope.region) throw invalidParameter(`Layers are not in the same region as the function. Layers are expected to be in region ${this.#scope.region}.`);
    if (account !== this.#scope.accountId) throw invalidParameter(`Layer version ${String(arn)} does not exist.`);
    return { name: name!, version: Number(version) };
  }

  #require(name: string, version: number): LayerVersionRecord {
    const record = this.#store.layerVersion(name, version);
    if (record === undefined) throw doesNotExist();
    return record;
  }

  #layerArn(name: string): string {
    return `arn:aws:lambda:${this.#scope.region}:${this.#scope.accountId}:layer:${name}`;
  }

  #versionArn(name: string, version: number): string {
    return `${this.#layerArn(name)}:${version}`;
  }

  #shape(record: LayerVersionRecord): LayerVersion {
    return {
      LayerArn: this.#layerArn(record.layerName),
      LayerVersionArn: this.#versionArn(record.layerName, record.versionNumber),
      Description: record.description,
      CreatedDate: formatLastModified(record.created),
      Version: record.versionNumber,
      CompatibleRuntimes: [...record.compatibleRuntimes],
      CompatibleArchitectures: [...record.compatibleArchitectures],
      ...(record.licenseInfo === null ? {} : { LicenseInfo: record.licenseInfo }),
      Content: { CodeSha256: record.codeSha256, CodeSize: record.codeSize },
    };
  }
}

function listItem(shape: LayerVersion): LayerVersionsListItem {
  const { LayerArn: _layerArn, Content: _content, ...item } = shape;
  return item;
}

function matches(input: ListLayersInput): (record: LayerVersionRecord) => boolean {
  return (record) =>
    (input.CompatibleRuntime === undefined || record.compatibleRuntimes.includes(input.CompatibleRuntime)) &&
    (input.CompatibleArchitecture === undefined || record.compatibleArchitectures.includes(input.CompatibleArchitecture));
}

function checkVersionNumber(value: unknown): number {
  const number = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1) throw validationError(value, 'versionNumber', 'Member must have value greater than or equal to 1');
  return number;
}

function checkList(value: unknown, field: string, max: number, valid: (item: string) => boolean): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > max) throw validationError(value, field, `Member must have length less than or equal to ${max}`);
  for (const item of value) if (typeof item !== 'string' || !valid(item)) throw validationError(value, field, 'Member must satisfy enum value set');
  return value as string[];
}
