/**
 * Code.Directory names a path on the daemon's disk: it is read only under the roots the operator allowed
 * (`--code-roots`), never under the data directory, and only for a client on the daemon's own machine.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdadClient } from '../../dist/clients/node/index.js';
import { CodeRoots } from '../../dist/daemon/registry/code-roots.js';
import { FIXTURES, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';

const HANDLER = 'exports.handler = async () => "from the root";\n';

describe('Code.Directory under --code-roots', () => {
  let root: string;
  let outside: string;
  let harness: TestDaemon;
  let client: LambdadClient;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lambdad-roots-'));
    outside = mkdtempSync(join(tmpdir(), 'lambdad-outside-'));
    mkdirSync(join(root, 'fn'));
    writeFileSync(join(root, 'fn', 'index.js'), HANDLER);
    writeFileSync(join(outside, 'index.js'), HANDLER);
    symlinkSync(outside, join(root, 'escape'));
    // The data directory inside the root: a root does not make the data directory readable.
    harness = await startDaemon({ 'code-roots': root, isolation: 'thread', auth: 'sigv4' }, join(root, 'data'));
    client = await LambdadClient.connect({ url: harness.daemon.url, credentials: harness.credentials() });
  });
  afterAll(async () => {
    client.close();
    await harness.stop();
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  const create = (name: string, directory: string) => client.createFunction({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: directory } });

  it('takes code from a directory under a root, from a client on the same machine', async () => {
    await create('rooted', join(root, 'fn'));
    const result = await client.invoke('rooted', {});
    expect(JSON.parse(new TextDecoder().decode(result.Payload))).toBe('from the root');
  });

  it('refuses a directory outside the roots, and one reached through a link that leads out of them', async () => {
    await expect(create('outside', FIXTURES)).rejects.toMatchObject({ code: 'InvalidParameterValueException', message: expect.stringContaining('outside the directories lambdad may read code from (--code-roots:') });
    await expect(create('linked', join(root, 'escape'))).rejects.toMatchObject({ code: 'InvalidParameterValueException', message: expect.stringContaining('--code-roots') });
    await create('later', join(root, 'fn'));
    await expect(client.updateFunctionCode({ FunctionName: 'later', Directory: outside })).rejects.toMatchObject({ code: 'InvalidParameterValueException' });
    await expect(client.publishLayerVersion({ LayerName: 'outside', Content: { Directory: outside } })).rejects.toMatchObject({ code: 'InvalidParameterValueException' });
  });

  it('never reads the data directory, even under a root', async () => {
    await expect(create('data', harness.dataDir)).rejects.toMatchObject({ code: 'InvalidParameterValueException', message: expect.stringContaining("inside lambdad's data directory") });
    await expect(create('data-sub', join(harness.dataDir, 'contexts'))).rejects.toMatchObject({ code: 'InvalidParameterValueException' });
  });

  it('refuses any directory to a client on another machine: it must send a zip', () => {
    const roots = new CodeRoots([root], harness.dataDir);
    expect(roots.resolve(join(root, 'fn'), true)).toBe(join(root, 'fn'));
    expect(() => roots.resolve(join(root, 'fn'), false)).toThrow("accepted only from a client on that machine; send the code as a ZipFile");
  });
});
