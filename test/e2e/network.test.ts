/**
 * VPC emulation end to end: handler code reaches out with http.get, fetch, net.connect, tls.connect and a UDP
 * send, to a loopback "internet" server and to a VPC host (a private address backed by a loopback server).
 * Each is allowed or blocked exactly as Lambda's networking would; a blocked connection times out, and the
 * function's log says which rule blocked it. No packet leaves loopback.
 */
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { event, FIXTURES, ISOLATIONS, json, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';

let harness: TestDaemon;
const servers: (HttpServer | NetServer)[] = [];
const udpServers: UdpSocket[] = [];
const received = { internetUdp: [] as string[], hostUdp: [] as string[] };
const ports = { http: 0, echo: 0, tls: 0, udp: 0, database: 0, syslog: 0 };
let certs: string;

const listen = (server: HttpServer | NetServer): Promise<number> =>
  new Promise((resolve) => {
    servers.push(server);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
const listenUdp = (into: string[]): Promise<number> =>
  new Promise((resolve) => {
    const socket = createSocket('udp4');
    udpServers.push(socket);
    socket.on('message', (message) => into.push(message.toString()));
    socket.bind(0, '127.0.0.1', () => resolve(socket.address().port));
  });

async function attempt(functionName: string, kind: string, host: string, port: number): Promise<{ ok?: string; error?: string; log: string }> {
  const result = await harness.daemon.service.invoke({ functionName, payload: event({ kind, host, port }) });
  return { ...json(result.payload), log: result.log };
}

describe.each(ISOLATIONS)('%s isolation', (isolation) => {
  beforeAll(async () => {
    certs = mkdtempSync(join(tmpdir(), 'lambdad-net-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(certs, 'key.pem'), '-out', join(certs, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    ports.http = await listen(createHttpServer((_request, response) => response.end('hello from the internet')));
    ports.echo = await listen(createNetServer((socket) => socket.on('data', (data) => socket.write(`echo ${data.toString()}`))));
    ports.tls = await listen(createTlsServer({ key: readFileSync(join(certs, 'key.pem')), cert: readFileSync(join(certs, 'cert.pem')) }, (socket) => socket.end()));
    ports.database = await listen(createNetServer((socket) => socket.on('data', () => socket.write('database here'))));
    ports.udp = await listenUdp(received.internetUdp);
    ports.syslog = await listenUdp(received.hostUdp);

    harness = await startDaemon({ isolation, 'vpc-connect-timeout-ms': '300' });
    const service = harness.daemon.service;
    service.putNetwork({
      Vpcs: [
        { VpcId: 'vpc-main', CidrBlock: '10.0.0.0/16' },
        { VpcId: 'vpc-other', CidrBlock: '10.1.0.0/16' },
      ],
      InternetGateways: [{ InternetGatewayId: 'igw-main', VpcId: 'vpc-main' }],
      NatGateways: [{ NatGatewayId: 'nat-main', SubnetId: 'subnet-public' }],
      Subnets: [
        { SubnetId: 'subnet-public', VpcId: 'vpc-main', CidrBlock: '10.0.0.0/24', Routes: [{ DestinationCidrBlock: '0.0.0.0/0', Target: 'igw-main' }] },
        { SubnetId: 'subnet-private', VpcId: 'vpc-main', CidrBlock: '10.0.1.0/24', Routes: [{ DestinationCidrBlock: '0.0.0.0/0', Target: 'nat-main' }] },
        { SubnetId: 'subnet-isolated', VpcId: 'vpc-main', CidrBlock: '10.0.2.0/24' },
        { SubnetId: 'subnet-other', VpcId: 'vpc-other', CidrBlock: '10.1.0.0/24' },
      ],
      SecurityGroups: [
        { GroupId: 'sg-all', VpcId: 'vpc-main' },
        { GroupId: 'sg-other', VpcId: 'vpc-other' },
        { GroupId: 'sg-db', VpcId: 'vpc-main', Egress: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, CidrIp: '10.0.2.0/24' }] },
      ],
      VpcHosts: [
        { PrivateIpAddress: '10.0.2.15', Port: 5432, SubnetId: 'subnet-isolated', DnsName: 'db.internal', Backend: { Host: '127.0.0.1', Port: ports.database } },
        { PrivateIpAddress: '10.0.2.20', Port: 514, Protocol: 'udp', SubnetId: 'subnet-isolated', Backend: { Host: '127.0.0.1', Port: ports.syslog } },
      ],
    });
    const create = (name: string, vpc?: { SubnetIds: string[]; SecurityGroupIds: string[] }): void =>
      void service.createFunction({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: `${FIXTURES}/network` }, Timeout: 10, ...(vpc === undefined ? {} : { VpcConfig: vpc }) });
    create('outside');
    create('private-nat', { SubnetIds: ['subnet-private'], SecurityGroupIds: ['sg-all'] });
    create('public-only', { SubnetIds: ['subnet-public'], SecurityGroupIds: ['sg-all'] });
    create('isolated', { SubnetIds: ['subnet-isolated'], SecurityGroupIds: ['sg-all'] });
    create('db-only', { SubnetIds: ['subnet-private'], SecurityGroupIds: ['sg-db'] });
  });
  afterAll(async () => {
    await harness.stop();
    for (const server of servers) server.close();
    for (const socket of udpServers) socket.close();
    servers.length = 0;
    udpServers.length = 0;
    rmSync(certs, { recursive: true, force: true });
  });

  const INTERNET = '127.0.0.1';

  /** Waits (at most 2 s) for a datagram sent to a loopback server to be received. */
  async function until(received: () => boolean): Promise<void> {
    const deadline = Date.now() + 2000;
    while (!received() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  describe('a function outside any VPC', () => {
    it('reaches the internet by http, fetch, net, TLS and UDP', async () => {
      expect(await attempt('outside', 'http', INTERNET, ports.http)).toMatchObject({ ok: 'hello from the internet' });
      expect(await attempt('outside', 'fetch', INTERNET, ports.http)).toMatchObject({ ok: 'hello from the internet' });
      expect(await attempt('outside', 'net', INTERNET, ports.echo)).toMatchObject({ ok: 'echo ping' });
      expect(await attempt('outside', 'tls', INTERNET, ports.tls)).toMatchObject({ ok: expect.stringMatching(/^tls TLSv1\.[23]$/) });
      expect(await attempt('outside', 'udp', INTERNET, ports.udp)).toMatchObject({ ok: 'sent 8' });
      const before = received.internetUdp.length;
      expect(await attempt('outside', 'udp-connected', INTERNET, ports.udp)).toMatchObject({ ok: `sent 18 to ${INTERNET}:${ports.udp}` });
      await until(() => received.internetUdp.length > before);
      expect(received.internetUdp.slice(before)).toEqual(['connected datagram']);
    });

    it('cannot reach a VPC host: the connection times out and the log says why', async () => {
      const started = performance.now();
      const result = await attempt('outside', 'net', '10.0.2.15', 5432);
      expect(result.error).toBe('ETIMEDOUT');
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      expect(result.log).toContain('WARN\tlambdad network: blocked tcp 10.0.2.15:5432: the function is not in a VPC, and 10.0.2.15 is a private address of vpc-main; the connection will time out');
    });
  });

  describe('a function in a private subnet with a NAT gateway', () => {
    it('reaches the internet, and VPC hosts at their private address or DNS name', async () => {
      expect(await attempt('private-nat', 'http', INTERNET, ports.http)).toMatchObject({ ok: 'hello from the internet' });
      expect(await attempt('private-nat', 'tls', INTERNET, ports.tls)).toMatchObject({ ok: expect.stringMatching(/^tls/) });
      expect(await attempt('private-nat', 'net', '10.0.2.15', 5432)).toMatchObject({ ok: 'database here' });
      expect(await attempt('private-nat', 'net', 'db.internal', 5432)).toMatchObject({ ok: 'database here' });
      const before = received.hostUdp.length;
      expect(await attempt('private-nat', 'udp', '10.0.2.20', 514)).toMatchObject({ ok: 'sent 8' });
      // A connected socket shows the address it was connected to, not the host's backend.
      expect(await attempt('private-nat', 'udp-connected', '10.0.2.20', 514)).toMatchObject({ ok: 'sent 18 to 10.0.2.20:514' });
      await until(() => received.hostUdp.length >= before + 2);
      expect(received.hostUdp.slice(before)).toEqual(['datagram', 'connected datagram']);
    });
  });

  describe('a function in a subnet without a NAT gateway', () => {
    it('times out on every internet connection, drops datagrams, and still reaches VPC hosts', async () => {
      for (const kind of ['http', 'fetch', 'net', 'tls']) {
        const port = kind === 'net' ? ports.echo : kind === 'tls' ? ports.tls : ports.http;
        const result = await attempt('isolated', kind, INTERNET, port);
        expect({ kind, error: result.error }).toEqual({ kind, error: 'ETIMEDOUT' });
        expect(result.log).toContain(`lambdad network: blocked tcp 127.0.0.1:${port}: subnet-isolated has no route to 127.0.0.1 (no NAT gateway)`);
      }
      const before = received.internetUdp.length;
      // Dropped in the network, as on Lambda: the send itself succeeds, with the datagram's length.
      const udp = await attempt('isolated', 'udp', INTERNET, ports.udp);
      expect(udp.ok).toBe('sent 8');
      expect(udp.log).toContain(`lambdad network: blocked udp 127.0.0.1:${ports.udp}: subnet-isolated has no route to 127.0.0.1 (no NAT gateway); the datagram is dropped`);
      const connected = await attempt('isolated', 'udp-connected', INTERNET, ports.udp);
      expect(connected.ok).toBe(`sent 18 to ${INTERNET}:${ports.udp}`);
      expect(connected.log).toContain(`lambdad network: blocked udp 127.0.0.1:${ports.udp}: subnet-isolated has no route to 127.0.0.1 (no NAT gateway); its datagrams are dropped`);
      // A datagram sent after them on the same route, from a function that may send it: loopback delivers in order,
      // so once this one is in, a datagram the isolated function had really sent would be in too.
      expect(await attempt('private-nat', 'udp', INTERNET, ports.udp)).toMatchObject({ ok: 'sent 8' });
      await until(() => received.internetUdp.length > before);
      expect(received.internetUdp.slice(before)).toEqual(['datagram']);
      expect(await attempt('isolated', 'net', '10.0.2.15', 5432)).toMatchObject({ ok: 'database here' });
    });

    it('a public subnet alone is not enough: the function has no public address', async () => {
      const result = await attempt('public-only', 'http', INTERNET, ports.http);
      expect(result.error).toBe('ETIMEDOUT');
      expect(result.log).toContain("routes it to igw-main, but a function's network interface has no public IP address");
    });
  });

  describe('security groups', () => {
    it('let out only what their egress rules allow', async () => {
      expect(await attempt('db-only', 'net', '10.0.2.15', 5432)).toMatchObject({ ok: 'database here' });
      const blocked = await attempt('db-only', 'http', INTERNET, ports.http);
      expect(blocked.error).toBe('ETIMEDOUT');
      expect(blocked.log).toContain(`no egress rule of security group sg-db allows tcp port ${ports.http} to 127.0.0.1`);
    });
  });

  describe('VpcConfig', () => {
    it('shows VpcId, is refused for unknown subnets and groups, subnets without groups, several VPCs, and a known role without the ENI policy', () => {
      const service = harness.daemon.service;
      expect(service.getFunctionConfiguration('private-nat').VpcConfig).toEqual({ SubnetIds: ['subnet-private'], SecurityGroupIds: ['sg-all'], VpcId: 'vpc-main', Ipv6AllowedForDualStack: false });
      const create = (vpc: { SubnetIds: string[]; SecurityGroupIds: string[] }, role = ROLE) => () =>
        service.createFunction({ FunctionName: 'refused', Runtime: 'nodejs20.x', Role: role, Handler: 'index.handler', Code: { Directory: `${FIXTURES}/network` }, VpcConfig: vpc });
      expect(create({ SubnetIds: ['subnet-nope'], SecurityGroupIds: ['sg-all'] })).toThrow(expect.objectContaining({ code: 'InvalidParameterValueException', message: expect.stringContaining('Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound.') }));
      expect(create({ SubnetIds: ['subnet-private'], SecurityGroupIds: ['sg-nope'] })).toThrow(expect.objectContaining({ message: expect.stringContaining('Error occurred while DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound.') }));
      expect(create({ SubnetIds: ['subnet-private'], SecurityGroupIds: [] })).toThrow(expect.objectContaining({ code: 'InvalidParameterValueException', message: 'SubnetIds and SecurityIds must coexist or be both empty list.' }));
      expect(create({ SubnetIds: ['subnet-private'], SecurityGroupIds: ['sg-all', 'sg-other'] })).toThrow(expect.objectContaining({ code: 'InvalidParameterValueException', message: 'Security Groups are required to be in the same VPC.' }));
      expect(create({ SubnetIds: ['subnet-private', 'subnet-other'], SecurityGroupIds: ['sg-all'] })).toThrow(expect.objectContaining({ code: 'InvalidParameterValueException', message: 'The subnets must all be in one VPC; they are in vpc-main, vpc-other.' }));
      const bare = service.putRole('bare-role', ['AWSLambdaBasicExecutionRole']);
      expect(create({ SubnetIds: ['subnet-private'], SecurityGroupIds: ['sg-all'] }, bare.Arn)).toThrow(expect.objectContaining({ code: 'InvalidParameterValueException', message: 'The provided execution role does not have permissions to call CreateNetworkInterface on EC2' }));
      const vpcRole = service.putRole('vpc-role', ['arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']);
      expect(create({ SubnetIds: ['subnet-private'], SecurityGroupIds: ['sg-all'] }, vpcRole.Arn)().VpcConfig?.VpcId).toBe('vpc-main');
      // Empty lists take a function out of its VPC.
      expect(service.updateFunctionConfiguration('refused', { VpcConfig: { SubnetIds: [], SecurityGroupIds: [] } }).VpcConfig).toBeUndefined();
    });
  });

  describe('lambdad network / iam', () => {
    const lambdad = (args: string[]) => runCli(args, harness.daemon.url, certs);

    it('puts a network from a file, creates a role, and puts a function in the VPC', async () => {
      const network = {
        Vpcs: [{ VpcId: 'vpc-cli', CidrBlock: '10.9.0.0/16' }],
        Subnets: [{ SubnetId: 'subnet-cli', VpcId: 'vpc-cli', CidrBlock: '10.9.1.0/24' }],
        SecurityGroups: [{ GroupId: 'sg-cli', VpcId: 'vpc-cli' }],
      };
      writeFileSync(join(certs, 'network.json'), JSON.stringify(network));
      expect((await lambdad(['network', 'put', '--file', 'network.json'])).code).toBe(0);
      expect(JSON.parse((await lambdad(['network', 'get'])).stdout)).toMatchObject(network);
      const role = JSON.parse((await lambdad(['iam', 'put-role', '--role-name', 'cli-vpc', '--attached-policy-arns', 'AWSLambdaVPCAccessExecutionRole'])).stdout);
      expect(role.Arn).toBe('arn:aws:iam::000000000000:role/cli-vpc');
      expect(JSON.parse((await lambdad(['iam', 'list-roles'])).stdout).Roles.map((r: { RoleName: string }) => r.RoleName)).toContain('cli-vpc');
      const created = await lambdad(['create-function', '--function-name', 'cli-in-vpc', '--runtime', 'nodejs20.x', '--handler', 'index.handler', '--role', role.Arn, '--code', `${FIXTURES}/network`, '--vpc-config', 'SubnetIds=subnet-cli,SecurityGroupIds=sg-cli,Ipv6AllowedForDualStack=true']);
      expect(created.stderr).toBe('');
      expect(JSON.parse(created.stdout).VpcConfig).toEqual({ SubnetIds: ['subnet-cli'], SecurityGroupIds: ['sg-cli'], VpcId: 'vpc-cli', Ipv6AllowedForDualStack: true });
      writeFileSync(join(certs, 'bad.json'), JSON.stringify({ Vpcs: [{ VpcId: 'vpc-x', CidrBlock: 'nope' }] }));
      const bad = await lambdad(['network', 'put', '--file', 'bad.json']);
      expect(bad.code).toBe(254);
      expect(bad.stderr).toContain("(InvalidParameterValueException) when calling the PutNetwork operation: VPC vpc-x: 'nope' is not an IPv4 CIDR block");
    });
  });
});

describe('the network model', () => {
  it('is loaded from --network-file at start, kept across restarts, and a bad file stops the start', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'lambdad-net-model-'));
    const file = join(folder, 'start.json');
    const model = { Vpcs: [{ VpcId: 'vpc-file', CidrBlock: '10.7.0.0/16' }], Subnets: [{ SubnetId: 'subnet-file', VpcId: 'vpc-file', CidrBlock: '10.7.1.0/24' }] };
    writeFileSync(file, JSON.stringify(model));
    const daemon = await startDaemon({ 'network-file': file });
    try {
      expect(daemon.daemon.service.getNetwork()).toMatchObject(model);
      daemon.daemon.service.putNetwork({ Vpcs: [{ VpcId: 'vpc-later', CidrBlock: '10.8.0.0/16' }] });
      await daemon.daemon.stop();
      const again = await startDaemon({}, daemon.dataDir);
      expect(again.daemon.service.getNetwork().Vpcs).toEqual([{ VpcId: 'vpc-later', CidrBlock: '10.8.0.0/16' }]);
      await again.daemon.stop();
      writeFileSync(file, '{"Vpcs": [{"VpcId": "vpc-bad", "CidrBlock": "10.0.0.0/40"}]}');
      await expect(startDaemon({ 'network-file': file }, daemon.dataDir)).rejects.toThrow(`--network-file ${file}: VPC vpc-bad: '10.0.0.0/40' is not an IPv4 CIDR block`);
    } finally {
      await daemon.stop();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
