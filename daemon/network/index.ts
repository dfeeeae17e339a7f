/**
 * The network functions run in, durable in `network.db`: the model (one checked document, replaced whole) and
 * a minimal IAM of execution roles with their attached managed policies — enough to refuse a VPC function whose
 * role may not create network interfaces, as Lambda does. Gives each function its Placement for the policy.
 */
import type Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalidParameter, notFound, validationError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { openStore } from '../sqlite.js';
import { checkNetwork, EMPTY_NETWORK, type NetworkModel } from './model.js';
import type { Placement } from './policy.js';

export type { NetworkModel } from './model.js';
export type { Placement } from './policy.js';

const SCHEMA = {
  name: 'network',
  version: 1,
  sql: `CREATE TABLE network (id INTEGER PRIMARY KEY CHECK (id = 1), document TEXT NOT NULL) STRICT;
    CREATE TABLE roles (name TEXT PRIMARY KEY, policies TEXT NOT NULL) STRICT;`,
};

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** Managed policies that let Lambda create the function's network interfaces (spec xray-and-vpc.md §4). */
const ENI_POLICIES = new Set(['AWSLambdaVPCAccessExecutionRole', 'AWSLambdaENIManagementAccess']);

export interface Role {
  RoleName: string;
  Arn: string;
  AttachedPolicyArns: string[];
}

/** A function's VpcConfig as the registry keeps it: checked, with its VPC. */
export interface VpcPlacement {
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly vpcId: string;
  readonly ipv6AllowedForDualStack: boolean;
}

export class Network {
  readonly #db: Database.Database;
  readonly #accountId: string;
  #model: NetworkModel;

  private constructor(db: Database.Database, accountId: string) {
    this.#db = db;
    this.#accountId = accountId;
    const row = db.prepare('SELECT document FROM network WHERE id = 1').get() as { document: string } | undefined;
    this.#model = row === undefined ? EMPTY_NETWORK : (JSON.parse(row.document) as NetworkModel);
  }

  /** Opens the store; a `file` (the --network-file option) replaces the stored model at start. */
  static open(dataDir: string, accountId: string, file: string | null): Network {
    const network = new Network(openStore(join(dataDir, 'network.db'), SCHEMA), accountId);
    if (file !== null) {
      let document: unknown;
      try {
        document = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        network.close();
        throw new Error(`--network-file ${file}: ${(error as Error).message}`);
      }
      try {
        network.put(document);
      } catch (error) {
        network.close();
        throw new Error(`--network-file ${file}: ${(error as Error).message}`);
      }
    }
    return network;
  }

  get model(): NetworkModel {
    return this.#model;
  }

  /** Replaces the whole model with a checked document. */
  put(document: unknown): NetworkModel {
    const model = checkNetwork(document);
    this.#db.prepare('INSERT INTO network (id, document) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET document = excluded.document').run(JSON.stringify(model));
    this.#model = model;
    return model;
  }

  putRole(roleName: unknown, policies: unknown): Role {
    if (typeof roleName !== 'string' || !ROLE_NAME.test(roleName)) throw validationError(roleName, 'roleName', 'Member must satisfy regular expression pattern: [\\w+=,.@-]+');
    if (policies !== undefined && (!Array.isArray(policies) || policies.some((policy) => typeof policy !== 'string'))) throw validationError(policies, 'attachedPolicyArns', 'Member must be a list of strings');
    const attached = (policies as string[] | undefined) ?? [];
    this.#db.prepare('INSERT INTO roles (name, policies) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET policies = excluded.policies').run(roleName, JSON.stringify(attached));
    return this.#role(roleName, attached);
  }

  deleteRole(roleName: string): void {
    if (this.#db.prepare('DELETE FROM roles WHERE name = ?').run(roleName).changes === 0) throw notFound(`The role with name ${roleName} cannot be found.`);
  }

  listRoles(): Role[] {
    return (this.#db.prepare('SELECT name, policies FROM roles ORDER BY name').all() as { name: string; policies: string }[]).map((row) => this.#role(row.name, JSON.parse(row.policies) as string[]));
  }

  /**
   * A function's VpcConfig checked as Lambda checks it; null when it has no subnets (not in a VPC). A role lambdad
   * knows must carry the permission to create network interfaces; an unknown role is taken on trust.
   */
  checkVpcConfig(config: { SubnetIds?: unknown; SecurityGroupIds?: unknown; Ipv6AllowedForDualStack?: unknown }, roleArn: string): VpcPlacement | null {
    const subnetIds = stringList(config.SubnetIds, 'vpcConfig.subnetIds', LIMITS.vpcSubnetsMax);
    const securityGroupIds = stringList(config.SecurityGroupIds, 'vpcConfig.securityGroupIds', LIMITS.vpcSecurityGroupsMax);
    if (subnetIds.length === 0 && securityGroupIds.length === 0) return null;
    if (subnetIds.length === 0 || securityGroupIds.length === 0) throw invalidParameter('SubnetIds and SecurityIds must coexist or be both empty list.');
    const role = this.listRoles().find((candidate) => candidate.Arn === roleArn);
    if (role !== undefined && !role.AttachedPolicyArns.some((policy) => ENI_POLICIES.has(policy.split('/').pop() ?? ''))) {
      throw invalidParameter('The provided execution role does not have permissions to call CreateNetworkInterface on EC2');
    }
    const vpcIds = new Set<string>();
    for (const subnetId of subnetIds) {
      const subnet = this.#model.Subnets.find((candidate) => candidate.SubnetId === subnetId);
      if (subnet === undefined) {
        throw invalidParameter(`Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. EC2 Error Message: The subnet ID '${subnetId}' does not exist`);
      }
      vpcIds.add(subnet.VpcId);
    }
    // AWS's wording for subnets of several VPCs is not recorded; this one is lambdad's.
    if (vpcIds.size > 1) throw invalidParameter(`The subnets must all be in one VPC; they are in ${[...vpcIds].join(', ')}.`);
    for (const groupId of securityGroupIds) {
      const group = this.#model.SecurityGroups.find((candidate) => candidate.GroupId === groupId);
      if (group === undefined) {
        throw invalidParameter(`Error occurred while DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound. EC2 Error Message: The security group '${groupId}' does not exist`);
      }
      if (!vpcIds.has(group.VpcId)) throw invalidParameter('Security Groups are required to be in the same VPC.');
    }
    return { subnetIds, securityGroupIds, vpcId: [...vpcIds][0]!, ipv6AllowedForDualStack: config.Ipv6AllowedForDualStack === true };
  }

  /** Where a function with this VpcConfig sits, for the policy in its execution contexts. */
  placement(vpc: VpcPlacement | null, exempt: Placement['exempt']): Placement {
    return { network: this.#model, vpc: vpc === null ? null : { subnetIds: vpc.subnetIds, securityGroupIds: vpc.securityGroupIds }, exempt };
  }

  close(): void {
    this.#db.close();
  }

  #role(name: string, policies: string[]): Role {
    return { RoleName: name, Arn: `arn:aws:iam::${this.#accountId}:role/${name}`, AttachedPolicyArns: policies };
  }
}

function stringList(value: unknown, field: string, max: number): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw validationError(value, field, 'Member must be a list of strings');
  if (value.length > max) throw validationError(value, field, `Member must have length less than or equal to ${max}`);
  return value as string[];
}

