/**
 * The one network policy (spec xray-and-vpc.md §4), pure: given a function's placement and where it wants to
 * go, allow — with the real address to use — or deny with the rule that blocked it. Run inside each execution
 * context for every connect, datagram and DNS lookup; it imports nothing of the daemon's, so a worker can load it.
 *
 * As on Lambda: outside a VPC a function reaches the internet and no VPC address. In a VPC it reaches VPC hosts
 * its security groups' egress allows (the `local` route), and the internet only through its subnet's route to a
 * NAT gateway that sits in a subnet routed to an internet gateway — a route to an internet gateway alone is
 * not enough, the function's network interface has no public address. The function's first subnet is the one
 * its traffic leaves from.
 */
import { cidrContains, ipv4ToNumber, parseCidr } from './cidr.js';
import type { EgressRule, NetworkModel, Route, VpcHost } from './model.js';

export interface Placement {
  readonly network: NetworkModel;
  /** The function's VpcConfig; null outside any VPC. */
  readonly vpc: { readonly subnetIds: readonly string[]; readonly securityGroupIds: readonly string[] } | null;
  /** Always reachable, as the sandbox's own services are on Lambda (lambdad's X-Ray collector). */
  readonly exempt: readonly { readonly host: string; readonly port: number }[];
}

export interface ConnectRequest {
  readonly protocol: 'tcp' | 'udp';
  /** An IPv4 address (names are looked up first, through lookupVerdict). */
  readonly address: string;
  readonly port: number;
}

export type ConnectVerdict = { readonly allow: true; readonly host: string; readonly port: number } | { readonly allow: false; readonly reason: string };
export type LookupVerdict = { readonly kind: 'resolve' } | { readonly kind: 'answer'; readonly address: string } | { readonly kind: 'not-found'; readonly reason: string };

const deny = (reason: string): ConnectVerdict => ({ allow: false, reason });

function hostAt(network: NetworkModel, request: ConnectRequest): VpcHost | undefined {
  return network.VpcHosts.find((host) => host.PrivateIpAddress === request.address && host.Port === request.port && (host.Protocol ?? 'tcp') === request.protocol);
}

function vpcOfAddress(network: NetworkModel, address: number): string | undefined {
  return network.Vpcs.find((vpc) => {
    const cidr = parseCidr(vpc.CidrBlock);
    return cidr !== null && cidrContains(cidr, address);
  })?.VpcId;
}

/** The most specific route for the address, `local` routes aside. */
function routeFor(routes: readonly Route[] | undefined, address: number): Route | undefined {
  let best: { route: Route; prefix: number } | undefined;
  for (const route of routes ?? []) {
    const cidr = parseCidr(route.DestinationCidrBlock);
    if (route.Target === 'local' || cidr === null || !cidrContains(cidr, address)) continue;
    if (best === undefined || cidr.prefix > best.prefix) best = { route, prefix: cidr.prefix };
  }
  return best?.route;
}

const ALL_TRAFFIC: readonly EgressRule[] = [{ IpProtocol: '-1', CidrIp: '0.0.0.0/0' }];

function egressAllows(rule: EgressRule, request: ConnectRequest, address: number, hostGroups: readonly string[]): boolean {
  if (rule.IpProtocol !== '-1' && rule.IpProtocol !== request.protocol) return false;
  if (rule.IpProtocol !== '-1' && (request.port < (rule.FromPort ?? 0) || request.port > (rule.ToPort ?? 65_535))) return false;
  if (rule.GroupId !== undefined) return hostGroups.includes(rule.GroupId);
  const cidr = rule.CidrIp === undefined ? null : parseCidr(rule.CidrIp);
  return cidr !== null && cidrContains(cidr, address);
}

/** Null when one of the function's security groups lets the traffic out; the reason otherwise. */
function securityGroupsBlock(placement: Placement, request: ConnectRequest, address: number, hostGroups: readonly string[]): string | null {
  const groupIds = placement.vpc?.securityGroupIds ?? [];
  for (const groupId of groupIds) {
    const group = placement.network.SecurityGroups.find((candidate) => candidate.GroupId === groupId);
    if ((group?.Egress ?? ALL_TRAFFIC).some((rule) => egressAllows(rule, request, address, hostGroups))) return null;
  }
  return `no egress rule of security group${groupIds.length === 1 ? '' : 's'} ${groupIds.join(', ') || '(none)'} allows ${request.protocol} port ${request.port} to ${request.address}`;
}

export function connectVerdict(placement: Placement, request: ConnectRequest): ConnectVerdict {
  const { network } = placement;
  if (placement.exempt.some((exempt) => exempt.host === request.address && exempt.port === request.port)) return { allow: true, host: request.address, port: request.port };
  const address = ipv4ToNumber(request.address);
  const target = `${request.protocol} ${request.address}:${request.port}`;
  if (address === null) return deny(`${target}: only IPv4 destinations are modelled`);
  const host = hostAt(network, request);
  const destinationVpc = vpcOfAddress(network, address);

  if (placement.vpc === null) {
    if (destinationVpc !== undefined) return deny(`${target}: the function is not in a VPC, and ${request.address} is a private address of ${destinationVpc}`);
    return { allow: true, host: request.address, port: request.port };
  }

  const subnetId = placement.vpc.subnetIds[0];
  const subnet = network.Subnets.find((candidate) => candidate.SubnetId === subnetId);
  if (subnet === undefined) return deny(`${target}: the function's subnet ${String(subnetId)} is no longer in the network`);
  if (destinationVpc === subnet.VpcId) {
    const blocked = securityGroupsBlock(placement, request, address, host?.SecurityGroupIds ?? []);
    if (blocked !== null) return deny(`${target}: ${blocked}`);
    if (host === undefined) return deny(`${target}: no VPC host listens there in ${subnet.VpcId}`);
    return { allow: true, host: host.Backend.Host, port: host.Backend.Port };
  }
  if (destinationVpc !== undefined) return deny(`${target}: ${request.address} is in ${destinationVpc}, which ${subnet.VpcId} is not peered with`);

  const route = routeFor(subnet.Routes, address);
  if (route === undefined) return deny(`${target}: ${subnet.SubnetId} has no route to ${request.address} (no NAT gateway)`);
  if (route.Target.startsWith('igw-')) {
    return deny(`${target}: ${subnet.SubnetId} routes it to ${route.Target}, but a function's network interface has no public IP address: internet access needs a NAT gateway`);
  }
  const nat = network.NatGateways.find((candidate) => candidate.NatGatewayId === route.Target);
  const natSubnet = network.Subnets.find((candidate) => candidate.SubnetId === nat?.SubnetId);
  const onward = natSubnet === undefined ? undefined : routeFor(natSubnet.Routes, address);
  if (onward === undefined || !onward.Target.startsWith('igw-')) {
    return deny(`${target}: NAT gateway ${route.Target} is in ${nat?.SubnetId ?? 'no subnet'}, which has no route to an internet gateway`);
  }
  const blocked = securityGroupsBlock(placement, request, address, []);
  if (blocked !== null) return deny(`${target}: ${blocked}`);
  return { allow: true, host: request.address, port: request.port };
}

/** DNS: a VPC host's name answers with its private address inside its VPC; other names resolve as usual. */
export function lookupVerdict(placement: Placement, hostname: string): LookupVerdict {
  const host = placement.network.VpcHosts.find((candidate) => candidate.DnsName !== undefined && candidate.DnsName.toLowerCase() === hostname.toLowerCase());
  if (host === undefined) return { kind: 'resolve' };
  const hostVpc = placement.network.Subnets.find((subnet) => subnet.SubnetId === host.SubnetId)?.VpcId;
  const functionVpc = placement.network.Subnets.find((subnet) => subnet.SubnetId === placement.vpc?.subnetIds[0])?.VpcId;
  if (functionVpc === undefined || functionVpc !== hostVpc) return { kind: 'not-found', reason: `${hostname} is a name inside ${String(hostVpc)}, and the function is not in that VPC` };
  return { kind: 'answer', address: host.PrivateIpAddress };
}
