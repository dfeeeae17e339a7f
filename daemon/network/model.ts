/**
 * The network model lambdad enforces for functions (spec xray-and-vpc.md §4): VPCs, subnets with their route
 * tables, internet and NAT gateways, security groups with egress rules, and VPC hosts — private addresses backed
 * by real local ones. One JSON document, checked whole here; the names are EC2's.
 */
import { invalidParameter } from '../errors.js';
import { cidrWithin, ipv4ToNumber, parseCidr, cidrContains } from './cidr.js';

export interface NetworkModel {
  readonly Vpcs: readonly { readonly VpcId: string; readonly CidrBlock: string }[];
  readonly Subnets: readonly { readonly SubnetId: string; readonly VpcId: string; readonly CidrBlock: string; readonly Routes?: readonly Route[] }[];
  readonly InternetGateways: readonly { readonly InternetGatewayId: string; readonly VpcId: string }[];
  readonly NatGateways: readonly { readonly NatGatewayId: string; readonly SubnetId: string }[];
  readonly SecurityGroups: readonly SecurityGroup[];
  readonly VpcHosts: readonly VpcHost[];
}

/** A subnet's route: traffic to `DestinationCidrBlock` goes to `local` (the VPC), an `igw-…` or a `nat-…`. */
export interface Route {
  readonly DestinationCidrBlock: string;
  readonly Target: string;
}

export interface SecurityGroup {
  readonly GroupId: string;
  readonly VpcId: string;
  /** Absent: a new group's one rule, all traffic to 0.0.0.0/0. */
  readonly Egress?: readonly EgressRule[];
}

export interface EgressRule {
  /** `tcp`, `udp`, or `-1` for all. */
  readonly IpProtocol: 'tcp' | 'udp' | '-1';
  readonly FromPort?: number;
  readonly ToPort?: number;
  readonly CidrIp?: string;
  /** Another security group: traffic to hosts in it. */
  readonly GroupId?: string;
}

export interface VpcHost {
  /** The private address functions connect to, inside the subnet. */
  readonly PrivateIpAddress: string;
  readonly Port: number;
  readonly Protocol?: 'tcp' | 'udp';
  readonly SubnetId: string;
  readonly SecurityGroupIds?: readonly string[];
  /** A name that resolves to the private address inside the VPC (e.g. an RDS endpoint). */
  readonly DnsName?: string;
  /** The real address that serves it, e.g. a database on 127.0.0.1. */
  readonly Backend: { readonly Host: string; readonly Port: number };
}

export const EMPTY_NETWORK: NetworkModel = Object.freeze({ Vpcs: [], Subnets: [], InternetGateways: [], NatGateways: [], SecurityGroups: [], VpcHosts: [] });

const ID = (prefix: string): RegExp => new RegExp(`^${prefix}-[0-9a-zA-Z]+$`);
const IDS = { vpc: ID('vpc'), subnet: ID('subnet'), igw: ID('igw'), nat: ID('nat'), sg: ID('sg') };

function list<T>(value: unknown, name: string): T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidParameter(`${name} must be a list`);
  return value as T[];
}

function cidrOf(text: unknown, where: string): NonNullable<ReturnType<typeof parseCidr>> {
  const cidr = typeof text === 'string' ? parseCidr(text) : null;
  if (cidr === null) throw invalidParameter(`${where}: '${String(text)}' is not an IPv4 CIDR block`);
  return cidr;
}

function idOf(value: unknown, pattern: RegExp, where: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw invalidParameter(`${where}: '${String(value)}' is not a valid id (${pattern.source})`);
  return value;
}

function port(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65_535) throw invalidParameter(`${where}: port must be 0-65535`);
  return value;
}

/** The document as a checked model: ids well-formed and unique, CIDRs nested, every reference resolved. */
export function checkNetwork(document: unknown): NetworkModel {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw invalidParameter('The network must be a JSON object');
  const input = document as Record<string, unknown>;
  const known = new Set(['Vpcs', 'Subnets', 'InternetGateways', 'NatGateways', 'SecurityGroups', 'VpcHosts']);
  for (const key of Object.keys(input)) if (!known.has(key)) throw invalidParameter(`Unknown network member '${key}': expected ${[...known].join(', ')}`);
  const seen = new Set<string>();
  const unique = (id: string): string => {
    if (seen.has(id)) throw invalidParameter(`${id} is defined twice`);
    seen.add(id);
    return id;
  };

  const vpcs = new Map(list<Record<string, unknown>>(input['Vpcs'], 'Vpcs').map((vpc) => [unique(idOf(vpc['VpcId'], IDS.vpc, 'Vpcs')), cidrOf(vpc['CidrBlock'], `VPC ${String(vpc['VpcId'])}`)]));
  const igws = new Map(list<Record<string, unknown>>(input['InternetGateways'], 'InternetGateways').map((igw) => {
    const id = unique(idOf(igw['InternetGatewayId'], IDS.igw, 'InternetGateways'));
    const vpcId = idOf(igw['VpcId'], IDS.vpc, `internet gateway ${id}`);
    if (!vpcs.has(vpcId)) throw invalidParameter(`internet gateway ${id}: no VPC ${vpcId}`);
    return [id, vpcId];
  }));
  const subnets = list<Record<string, unknown>>(input['Subnets'], 'Subnets');
  const subnetVpc = new Map<string, string>();
  for (const subnet of subnets) {
    const id = unique(idOf(subnet['SubnetId'], IDS.subnet, 'Subnets'));
    const vpcId = idOf(subnet['VpcId'], IDS.vpc, `subnet ${id}`);
    const vpcCidr = vpcs.get(vpcId);
    if (vpcCidr === undefined) throw invalidParameter(`subnet ${id}: no VPC ${vpcId}`);
    if (!cidrWithin(cidrOf(subnet['CidrBlock'], `subnet ${id}`), vpcCidr)) throw invalidParameter(`subnet ${id}: ${String(subnet['CidrBlock'])} is not inside its VPC's CIDR block`);
    subnetVpc.set(id, vpcId);
  }
  const nats = new Map(list<Record<string, unknown>>(input['NatGateways'], 'NatGateways').map((nat) => {
    const id = unique(idOf(nat['NatGatewayId'], IDS.nat, 'NatGateways'));
    const subnetId = idOf(nat['SubnetId'], IDS.subnet, `NAT gateway ${id}`);
    if (!subnetVpc.has(subnetId)) throw invalidParameter(`NAT gateway ${id}: no subnet ${subnetId}`);
    return [id, subnetId];
  }));
  for (const subnet of subnets) {
    for (const route of list<Record<string, unknown>>(subnet['Routes'], `subnet ${String(subnet['SubnetId'])} Routes`)) {
      cidrOf(route['DestinationCidrBlock'], `subnet ${String(subnet['SubnetId'])} route`);
      const target = route['Target'];
      const vpcId = subnetVpc.get(subnet['SubnetId'] as string);
      const valid = target === 'local' || (typeof target === 'string' && ((igws.get(target) ?? null) === vpcId || subnetVpc.get(nats.get(target) ?? '') === vpcId));
      if (!valid) throw invalidParameter(`subnet ${String(subnet['SubnetId'])}: route target '${String(target)}' is not local, nor an internet or NAT gateway of its VPC`);
    }
  }
  const groups = list<Record<string, unknown>>(input['SecurityGroups'], 'SecurityGroups');
  const groupVpc = new Map(groups.map((group) => {
    const id = unique(idOf(group['GroupId'], IDS.sg, 'SecurityGroups'));
    const vpcId = idOf(group['VpcId'], IDS.vpc, `security group ${id}`);
    if (!vpcs.has(vpcId)) throw invalidParameter(`security group ${id}: no VPC ${vpcId}`);
    return [id, vpcId];
  }));
  for (const group of groups) {
    const where = `security group ${String(group['GroupId'])}`;
    for (const rule of list<Record<string, unknown>>(group['Egress'], `${where} Egress`)) {
      if (!['tcp', 'udp', '-1'].includes(rule['IpProtocol'] as string)) throw invalidParameter(`${where}: IpProtocol must be tcp, udp or -1`);
      if (rule['IpProtocol'] !== '-1') {
        if (port(rule['FromPort'], where) > port(rule['ToPort'], where)) throw invalidParameter(`${where}: FromPort is above ToPort`);
      }
      if ((rule['CidrIp'] === undefined) === (rule['GroupId'] === undefined)) throw invalidParameter(`${where}: an egress rule names exactly one of CidrIp and GroupId`);
      if (rule['CidrIp'] !== undefined) cidrOf(rule['CidrIp'], where);
      if (rule['GroupId'] !== undefined && !groupVpc.has(rule['GroupId'] as string)) throw invalidParameter(`${where}: no security group ${String(rule['GroupId'])}`);
    }
  }
  for (const host of list<Record<string, unknown>>(input['VpcHosts'], 'VpcHosts')) {
    const where = `VPC host ${String(host['PrivateIpAddress'])}:${String(host['Port'])}`;
    const address = typeof host['PrivateIpAddress'] === 'string' ? ipv4ToNumber(host['PrivateIpAddress']) : null;
    if (address === null) throw invalidParameter(`${where}: PrivateIpAddress must be an IPv4 address`);
    port(host['Port'], where);
    const subnet = subnets.find((candidate) => candidate['SubnetId'] === host['SubnetId']);
    if (subnet === undefined) throw invalidParameter(`${where}: no subnet ${String(host['SubnetId'])}`);
    if (!cidrContains(cidrOf(subnet['CidrBlock'], where), address)) throw invalidParameter(`${where}: the address is not inside subnet ${String(host['SubnetId'])}`);
    if (host['Protocol'] !== undefined && host['Protocol'] !== 'tcp' && host['Protocol'] !== 'udp') throw invalidParameter(`${where}: Protocol must be tcp or udp`);
    for (const groupId of list<string>(host['SecurityGroupIds'], `${where} SecurityGroupIds`)) {
      if (groupVpc.get(groupId) !== subnetVpc.get(host['SubnetId'] as string)) throw invalidParameter(`${where}: no security group ${groupId} in its VPC`);
    }
    const backend = host['Backend'] as Record<string, unknown> | undefined;
    if (typeof backend?.['Host'] !== 'string' || backend['Host'] === '') throw invalidParameter(`${where}: Backend.Host is required`);
    port(backend['Port'], `${where} Backend`);
  }
  return { ...EMPTY_NETWORK, ...(input as Partial<NetworkModel>) };
}
