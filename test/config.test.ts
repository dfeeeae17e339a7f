/** Options: defaults, LAMBDAD_* variables, flags winning over both, and errors that name the option. */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../dist/daemon/config.js';

describe('loadConfig', () => {
  it('defaults to 127.0.0.1:9001, ./.lambdad, us-east-1, account 000000000000, 10 minutes keep-warm, 1000 concurrent, smooth routing, process isolation', () => {
    expect(loadConfig()).toEqual({
      host: '127.0.0.1',
      port: 9001,
      dataDir: resolve('.lambdad'),
      region: 'us-east-1',
      accountId: '000000000000',
      keepWarmMs: 600_000,
      spareWorkers: 2,
      logBytesPerFunction: 1_048_576,
      shutdownGraceMs: 30_000,
      accountConcurrency: 1000,
      asyncRetryDelayMs: 60000,
      aliasRouting: 'smooth',
      auth: 'sigv4',
      metricsAuth: 'loopback',
      xrayAddress: { host: '127.0.0.1', port: 2000 },
      xrayForward: null,
      networkFile: '',
      vpcConnectTimeoutMs: 127_000,
      watchDirectories: 'off',
      metrics: 'on',
      isolation: 'process',
      maxConnections: expect.any(Number),
      maxConnectionsPerAddress: 1000,
      maxContexts: null,
      codeRoots: [resolve('.')],
      tlsCert: '',
      tlsKey: '',
      credentials: null,
    });
  });

  it('derives the connection limit from the open-file limit, takes limits as integers or auto, and code roots as a list', () => {
    const derived = loadConfig().maxConnections;
    expect(derived).toBeGreaterThanOrEqual(64);
    expect(derived).toBeLessThanOrEqual(10_000);
    expect(loadConfig({ 'max-connections': '500', 'max-contexts': '40' })).toMatchObject({ maxConnections: 500, maxContexts: 40 });
    expect(loadConfig({}, { LAMBDAD_MAX_CONTEXTS: 'auto' }).maxContexts).toBeNull();
    expect(() => loadConfig({ 'max-connections': '3' })).toThrow("--max-connections must be an integer from 16 to 1000000, got '3'");
    expect(loadConfig({ 'code-roots': '/srv/a:/srv/b' }).codeRoots).toEqual(['/srv/a', '/srv/b']);
    expect(() => loadConfig({ 'code-roots': ':' })).toThrow('--code-roots must name at least one directory');
  });

  it('takes the isolation mode from --isolation or LAMBDAD_ISOLATION, and refuses another', () => {
    expect(loadConfig({}, { LAMBDAD_ISOLATION: 'thread' }).isolation).toBe('thread');
    expect(loadConfig({ isolation: 'process' }, { LAMBDAD_ISOLATION: 'thread' }).isolation).toBe('process');
    expect(() => loadConfig({ isolation: 'vm' })).toThrow("--isolation must be one of process, thread, got 'vm'");
  });

  it('reads the environment and lets flags win', () => {
    const config = loadConfig({ port: '9100' }, { LAMBDAD_PORT: '9200', LAMBDAD_REGION: 'eu-west-1', LAMBDAD_KEEP_WARM_SECONDS: '5' });
    expect(config.port).toBe(9100);
    expect(config.region).toBe('eu-west-1');
    expect(config.keepWarmMs).toBe(5_000);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    [{ port: '70000' }, '--port must be an integer from 0 to 65535'],
    [{ port: '1.5' }, '--port must be an integer'],
    [{ 'account-id': '123' }, '--account-id must be twelve digits'],
    [{ region: 'moon' }, '--region must be a region such as us-east-1'],
    [{ host: 'example.com' }, '--host must be an IP address or localhost'],
    [{ host: '10.0.0.1', auth: 'none' }, '--host 10.0.0.1 is not a loopback address: serving it needs --auth sigv4'],
    [{ auth: 'basic' }, '--auth must be one of sigv4, none'],
    [{ 'tls-cert': 'cert.pem' }, '--tls-cert and --tls-key go together'],
    [{ 'spare-workers': '-1' }, '--spare-workers must be an integer from 0 to 64'],
    [{ nonsense: '1' }, 'unknown option --nonsense'],
    [{ 'xray-address': '127.0.0.1' }, "--xray-address must be host:port with an IP address or localhost (or off), got '127.0.0.1'"],
    [{ 'xray-forward': 'xray.example.com:2000' }, '--xray-forward must be host:port with an IP address or localhost, got'],
    [{ 'xray-address': '127.0.0.1:70000' }, '--xray-address must be host:port'],
  ])('refuses %o', (flags, message) => {
    expect(() => loadConfig(flags)).toThrow(ConfigError);
    expect(() => loadConfig(flags)).toThrow(message);
  });

  it('reads X-Ray addresses as host:port, IPv6 in brackets, and off', () => {
    expect(loadConfig({ 'xray-address': '[::1]:2001', 'xray-forward': 'localhost:2002' })).toMatchObject({ xrayAddress: { host: '::1', port: 2001 }, xrayForward: { host: 'localhost', port: 2002 } });
    expect(loadConfig({ 'xray-address': 'off' }).xrayAddress).toBeNull();
  });

  it('serves beyond loopback only when requests are signed', () => {
    expect(loadConfig({ host: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it('takes credentials from the environment only, both or neither', () => {
    expect(loadConfig({}, { LAMBDAD_ACCESS_KEY_ID: 'LKABCDEFGHIJKLMNOPQR', LAMBDAD_SECRET_ACCESS_KEY: 'a-secret-of-some-length' }).credentials).toEqual({
      accessKeyId: 'LKABCDEFGHIJKLMNOPQR',
      secretAccessKey: 'a-secret-of-some-length',
    });
    expect(() => loadConfig({}, { LAMBDAD_ACCESS_KEY_ID: 'LKABCDEFGHIJKLMNOPQR' })).toThrow('LAMBDAD_ACCESS_KEY_ID and LAMBDAD_SECRET_ACCESS_KEY go together');
  });

  it('names the variable when the environment is wrong', () => {
    expect(() => loadConfig({}, { LAMBDAD_PORT: 'x' })).toThrow("LAMBDAD_PORT must be an integer from 0 to 65535, got 'x'");
  });
});
