/**
 * The network policy, table-driven: every way a function's traffic is allowed or blocked on Lambda — no VPC,
 * private subnets with and without NAT, a public subnet alone, a NAT gateway without an internet gateway,
 * security-group port, protocol, CIDR and group-reference rules, UDP and DNS.
 */
import { describe, expect, it } from 'vitest';
import { checkNetwork, type NetworkModel } from '../../dist/daemon/network/model.js';
import { connectVerdict, lookupVerdict, type ConnectRequest, type Placement } from '../../dist/daemon/network/policy.js';

const network: NetworkModel = checkNetwork({
  Vpcs: [
    { VpcId: 'vpc-main', CidrBlock: '10.0.0.0/16' },
    { VpcId: 'vpc-other', CidrBlock: '172.16.0.0/16' },
  ],
  InternetGateways: [{ InternetGatewayId: 'igw-main', VpcId: 'vpc-main' }],
  NatGateways: [
    { NatGatewayId: 'nat-main', SubnetId: 'subnet-public' },
    { NatGatewayId: 'nat-orphan', SubnetId: 'subnet-isolated' },
  ],
  Subnets: [
    { SubnetId: 'subnet-public', VpcId: 'vpc-main', CidrBlock: '10.0.0.0/24', Routes: [{ DestinationCidrBlock: '0.0.0.0/0', Target: 'igw-main' }] },
    { SubnetId: 'subnet-private', VpcId: 'vpc-main', CidrBlock: '10.0.1.0/24', Routes: [{ DestinationCidrBlock: '0.0.0.0/0', Target: 'nat-main' }] },
    { SubnetId: 'subnet-isolated', VpcId: 'vpc-main', CidrBlock: '10.0.2.0/24' },
    { SubnetId: 'subnet-natnoigw', VpcId: 'vpc-main', CidrBlock: '10.0.3.0/24', Routes: [{ DestinationCidrBlock: '0.0.0.0/0', Target: 'nat-orphan' }] },
    {
      SubnetId: 'subnet-specific',
      VpcId: 'vpc-main',
      CidrBlock: '10.0.4.0/24',
      Routes: [
        { DestinationCidrBlock: '0.0.0.0/0', Target: 'nat-main' },
        { DestinationCidrBlock: '203.0.113.0/24', Target: 'igw-main' },
      ],
    },
    { SubnetId: 'subnet-other', VpcId: 'vpc-other', CidrBlock: '172.16.1.0/24' },
  ],
  SecurityGroups: [
    { GroupId: 'sg-all', VpcId: 'vpc-main' },
    { GroupId: 'sg-db', VpcId: 'vpc-main', Egress: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, CidrIp: '10.0.2.0/24' }] },
    { GroupId: 'sg-web', VpcId: 'vpc-main', Egress: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' }] },
    { GroupId: 'sg-ref', VpcId: 'vpc-main', Egress: [{ IpProtocol: 'tcp', FromPort: 0, ToPort: 65535, GroupId: 'sg-dbhosts' }] },
    { GroupId: 'sg-udp', VpcId: 'vpc-main', Egress: [{ IpProtocol: 'udp', FromPort: 53, ToPort: 53, CidrIp: '0.0.0.0/0' }] },
    { GroupId: 'sg-none', VpcId: 'vpc-main', Egress: [] },
    { GroupId: 'sg-dbhosts', VpcId: 'vpc-main' },
    { GroupId: 'sg-otherall', VpcId: 'vpc-other' },
  ],
  VpcHosts: [
    { PrivateIpAddress: '10.0.2.15', Port: 5432, SubnetId: 'subnet-isolated', SecurityGroupIds: ['sg-dbhosts'], DnsName: 'db.internal', Backend: { Host: '127.0.0.1', Port: 15432 } },
    { PrivateIpAddress: '10.0.2.16', Port: 6379, SubnetId: 'subnet-isolated', Backend: { Host: '127.0.0.1', Port: 16379 } },
    { PrivateIpAddress: '10.0.2.20', Port: 514, Protocol: 'udp', SubnetId: 'subnet-isolated', Backend: { Host: '127.0.0.1', Port: 1514 } },
    { PrivateIpAddress: '172.16.1.10', Port: 80, SubnetId: 'subnet-other', Backend: { Host: '127.0.0.1', Port: 18080 } },
  ],
});

const XRAY = { host: '127.0.0.1', port: 2000 };
const outside: Placement = { network, vpc: null, exempt: [XRAY] };
const inVpc = (subnetId: string, ...securityGroupIds: string[]): Placement => ({ network, vpc: { subnetIds: [subnetId], securityGroupIds: securityGroupIds.length === 0 ? ['sg-all'] : securityGroupIds }, exempt: [XRAY] });
const tcp = (address: string, port: number): ConnectRequest => ({ protocol: 'tcp', address, port });
const udp = (address: string, port: number): ConnectRequest => ({ protocol: 'udp', address, port });

const INTERNET = '93.184.216.34';
const DB = tcp('10.0.2.15', 5432);
const REDIS = tcp('10.0.2.16', 6379);

// [case, placement, request, expected: real host:port when allowed, or a part of the denial's reason]
const CASES: [string, Placement, ConnectRequest, { to: string } | { denied: string }][] = [
  ['no VPC: the internet', outside, tcp(INTERNET, 443), { to: `${INTERNET}:443` }],
  ['no VPC: a loopback server', outside, tcp('127.0.0.1', 8080), { to: '127.0.0.1:8080' }],
  ['no VPC: UDP to the internet', outside, udp(INTERNET, 53), { to: `${INTERNET}:53` }],
  ['no VPC: a VPC host', outside, DB, { denied: 'the function is not in a VPC, and 10.0.2.15 is a private address of vpc-main' }],
  ["no VPC: another VPC's host", outside, tcp('172.16.1.10', 80), { denied: 'private address of vpc-other' }],
  ['no VPC: the X-Ray daemon', outside, udp('127.0.0.1', 2000), { to: '127.0.0.1:2000' }],
  ['private subnet with NAT: the internet', inVpc('subnet-private'), tcp(INTERNET, 443), { to: `${INTERNET}:443` }],
  ['private subnet with NAT: a loopback "internet" server', inVpc('subnet-private'), tcp('127.0.0.1', 8080), { to: '127.0.0.1:8080' }],
  ['private subnet with NAT: a VPC host, mapped to its backend', inVpc('subnet-private'), DB, { to: '127.0.0.1:15432' }],
  ['private subnet: a VPC address where no host listens', inVpc('subnet-private'), tcp('10.0.2.99', 5432), { denied: 'no VPC host listens there in vpc-main' }],
  ['private subnet: another VPC, not peered', inVpc('subnet-private'), tcp('172.16.1.10', 80), { denied: 'which vpc-main is not peered with' }],
  ['private subnet with NAT: UDP to the internet', inVpc('subnet-private'), udp(INTERNET, 123), { to: `${INTERNET}:123` }],
  ['private subnet: a UDP VPC host', inVpc('subnet-private'), udp('10.0.2.20', 514), { to: '127.0.0.1:1514' }],
  ['private subnet: TCP to a UDP-only host', inVpc('subnet-private'), tcp('10.0.2.20', 514), { denied: 'no VPC host listens there' }],
  ['private subnet without NAT: the internet', inVpc('subnet-isolated'), tcp(INTERNET, 443), { denied: 'subnet-isolated has no route to 93.184.216.34 (no NAT gateway)' }],
  ['private subnet without NAT: a VPC host', inVpc('subnet-isolated'), DB, { to: '127.0.0.1:15432' }],
  ['private subnet without NAT: the X-Ray daemon', inVpc('subnet-isolated'), udp('127.0.0.1', 2000), { to: '127.0.0.1:2000' }],
  ['public subnet alone: the internet', inVpc('subnet-public'), tcp(INTERNET, 443), { denied: "routes it to igw-main, but a function's network interface has no public IP address" }],
  ['public subnet: a VPC host', inVpc('subnet-public'), DB, { to: '127.0.0.1:15432' }],
  ['NAT gateway without an internet gateway', inVpc('subnet-natnoigw'), tcp(INTERNET, 443), { denied: 'NAT gateway nat-orphan is in subnet-isolated, which has no route to an internet gateway' }],
  ['the most specific route wins: to an internet gateway', inVpc('subnet-specific'), tcp('203.0.113.5', 443), { denied: 'routes it to igw-main' }],
  ['the most specific route wins: the default via NAT', inVpc('subnet-specific'), tcp('8.8.8.8', 443), { to: '8.8.8.8:443' }],
  ['security group port rule: the database', inVpc('subnet-private', 'sg-db'), DB, { to: '127.0.0.1:15432' }],
  ['security group port rule: another port', inVpc('subnet-private', 'sg-db'), REDIS, { denied: 'no egress rule of security group sg-db allows tcp port 6379 to 10.0.2.16' }],
  ['security group CIDR rule: outside its block', inVpc('subnet-private', 'sg-db'), tcp(INTERNET, 5432), { denied: 'no egress rule of security group sg-db' }],
  ['security group: HTTPS out', inVpc('subnet-private', 'sg-web'), tcp(INTERNET, 443), { to: `${INTERNET}:443` }],
  ['security group: HTTP not allowed', inVpc('subnet-private', 'sg-web'), tcp(INTERNET, 80), { denied: 'allows tcp port 80' }],
  ['security group protocol rule: UDP on a TCP rule', inVpc('subnet-private', 'sg-web'), udp(INTERNET, 443), { denied: 'allows udp port 443' }],
  ['security group reference: a host in the group', inVpc('subnet-private', 'sg-ref'), DB, { to: '127.0.0.1:15432' }],
  ['security group reference: a host outside it', inVpc('subnet-private', 'sg-ref'), REDIS, { denied: 'no egress rule of security group sg-ref' }],
  ['security group: UDP DNS allowed', inVpc('subnet-private', 'sg-udp'), udp('8.8.8.8', 53), { to: '8.8.8.8:53' }],
  ['security group: TCP DNS not', inVpc('subnet-private', 'sg-udp'), tcp('8.8.8.8', 53), { denied: 'allows tcp port 53' }],
  ['security group without egress rules: even a VPC host', inVpc('subnet-private', 'sg-none'), DB, { denied: 'no egress rule of security group sg-none' }],
  ['two security groups: either one allows', inVpc('subnet-private', 'sg-none', 'sg-web'), tcp(INTERNET, 443), { to: `${INTERNET}:443` }],
  ['IPv6 is not modelled', inVpc('subnet-private'), tcp('::1', 80), { denied: 'only IPv4 destinations are modelled' }],
];

describe('connectVerdict', () => {
  it.each(CASES)('%s', (_case, placement, request, expected) => {
    const verdict = connectVerdict(placement, request);
    if ('to' in expected) {
      expect(verdict).toEqual({ allow: true, host: expected.to.split(':')[0], port: Number(expected.to.split(':')[1]) });
    } else {
      expect(verdict.allow).toBe(false);
      expect((verdict as { reason: string }).reason).toContain(expected.denied);
    }
  });
});

describe('lookupVerdict', () => {
  it.each([
    ["a VPC host's name inside its VPC", inVpc('subnet-private'), 'db.internal', { kind: 'answer', address: '10.0.2.15' }],
    ['names are not case-sensitive', inVpc('subnet-isolated'), 'DB.Internal', { kind: 'answer', address: '10.0.2.15' }],
    ["a VPC host's name from outside any VPC", outside, 'db.internal', { kind: 'not-found' }],
    ["a VPC host's name from another VPC", { ...outside, vpc: { subnetIds: ['subnet-other'], securityGroupIds: ['sg-otherall'] } }, 'db.internal', { kind: 'not-found' }],
    ['any other name resolves as usual', inVpc('subnet-isolated'), 'example.com', { kind: 'resolve' }],
  ] as [string, Placement, string, object][])('%s', (_case, placement, hostname, expected) => {
    expect(lookupVerdict(placement, hostname)).toMatchObject(expected);
  });
});

describe('checkNetwork', () => {
  it.each([
    [{ Vpcs: [{ VpcId: 'vpc-a', CidrBlock: '10.0.0.0/16' }], Subnets: [{ SubnetId: 'subnet-a', VpcId: 'vpc-a', CidrBlock: '10.1.0.0/24' }] }, "is not inside its VPC's CIDR block"],
    [{ Vpcs: [{ VpcId: 'vpc-a', CidrBlock: '10.0.0.0/16' }], Subnets: [{ SubnetId: 'subnet-a', VpcId: 'vpc-a', CidrBlock: '10.0.0.0/24', Routes: [{ DestinationCidrBlock: '0.0.0.0/0', Target: 'nat-x' }] }] }, "route target 'nat-x'"],
    [{ Vpcs: [{ VpcId: 'vpc-a', CidrBlock: '10.0.0.0/16' }, { VpcId: 'vpc-a', CidrBlock: '10.1.0.0/16' }] }, 'vpc-a is defined twice'],
    [{ Vpcs: [{ VpcId: 'vpc-a', CidrBlock: '10.0.0.0/33' }] }, 'is not an IPv4 CIDR block'],
    [{ Vpcs: [{ VpcId: 'vpc-a', CidrBlock: '10.0.0.0/16' }], SecurityGroups: [{ GroupId: 'sg-a', VpcId: 'vpc-a', Egress: [{ IpProtocol: 'icmp', CidrIp: '0.0.0.0/0' }] }] }, 'IpProtocol must be tcp, udp or -1'],
    [{ Routers: [] }, "Unknown network member 'Routers'"],
  ])('refuses %j', (document, message) => {
    expect(() => checkNetwork(document)).toThrow(expect.objectContaining({ code: 'InvalidParameterValueException', message: expect.stringContaining(message) }));
  });
});
