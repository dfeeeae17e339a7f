/**
 * `npm run bench` (network part): what the network guard adds to one TCP connect. Three threads connect to the
 * same loopback server, one connect at a time: without the guard (the floor), with it for a function outside any
 * VPC, and with it for a function in a private subnet whose traffic leaves through a NAT gateway (the longest
 * path through the policy: route lookups and security-group rules). 5 rounds of 2,000 connects each, in turn;
 * medians of the rounds' p50s.
 */
import { createServer, type AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { checkNetwork } from '../daemon/network/model.js';
import type { NetworkBinding } from '../daemon/contexts/messages.js';
import { writeReport } from './report.js';
import { summarize } from './stats.js';

const ROUNDS = 5;
const CONNECTS = 2_000;
const WORKER = new URL('./network-worker.js', import.meta.url);

const network = checkNetwork({
  Vpcs: [{ VpcId: 'vpc-bench', CidrBlock: '10.0.0.0/16' }],
  InternetGateways: [{ InternetGatewayId: 'igw-bench', VpcId: 'vpc-bench' }],
  NatGateways: [{ NatGatewayId: 'nat-bench', SubnetId: 'subnet-public' }],
  Subnets: [
    { SubnetId: 'subnet-public', VpcId: 'vpc-bench', CidrBlock: '10.0.0.0/24', Routes: [{ DestinationCidrBlock: '0.0.0.0/0', Target: 'igw-bench' }] },
    { SubnetId: 'subnet-private', VpcId: 'vpc-bench', CidrBlock: '10.0.1.0/24', Routes: [{ DestinationCidrBlock: '0.0.0.0/0', Target: 'nat-bench' }] },
  ],
  SecurityGroups: [{ GroupId: 'sg-bench', VpcId: 'vpc-bench', Egress: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 65535, CidrIp: '0.0.0.0/0' }] }],
});
const SIDES: Record<string, NetworkBinding | null> = {
  floor: null,
  noVpc: { placement: { network, vpc: null, exempt: [] }, connectTimeoutMs: 1000 },
  vpcNat: { placement: { network, vpc: { subnetIds: ['subnet-private'], securityGroupIds: ['sg-bench'] }, exempt: [] }, connectTimeoutMs: 1000 },
};

const server = createServer((socket) => socket.destroy());
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
const { port } = server.address() as AddressInfo;

function run(guard: NetworkBinding | null): Promise<number[]> {
  const worker = new Worker(WORKER, { workerData: { port, connects: CONNECTS, guard } });
  return new Promise((resolve, reject) => {
    worker.once('message', (samples: number[]) => void worker.terminate().then(() => resolve(samples)));
    worker.once('error', reject);
  });
}

const rounds: Record<string, number[]> = {};
const record = (key: string, value: number): void => void (rounds[key] ??= []).push(Math.round(value * 10) / 10);
for (let round = 0; round < ROUNDS; round++) {
  const p50 = {} as Record<string, number>;
  for (const [name, guard] of Object.entries(SIDES)) {
    const stats = summarize(await run(guard));
    p50[name] = stats.p50 * 1000;
    record(`${name}P50Us`, p50[name]!);
    record(`${name}P99Us`, stats.p99 * 1000);
  }
  record('noVpcAddedUs', p50.noVpc! - p50.floor!);
  record('vpcNatAddedUs', p50.vpcNat! - p50.floor!);
  record('vpcNatToFloorRatio', p50.vpcNat! / p50.floor!);
  process.stdout.write(`round ${round + 1}/${ROUNDS}: connect p50 ${p50.floor!.toFixed(1)} µs bare, ${p50.noVpc!.toFixed(1)} µs guarded (no VPC), ${p50.vpcNat!.toFixed(1)} µs guarded (VPC via NAT)\n`);
}
server.close();
writeReport('network', { ROUNDS, CONNECTS }, rounds);
