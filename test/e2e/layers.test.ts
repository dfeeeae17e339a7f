/**
 * Layers as on Lambda: published versions of shared code that a function names (at most 5, in order); a
 * layer's `nodejs/node_modules` is on the function's module search path, a later layer's packages win, a
 * published version keeps the layer versions it was published with, and a deleted layer version keeps running
 * for the functions that use it. Through the service, the SDK and the lambdad CLI against a real daemon.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdadClient } from '../../dist/clients/node/index.js';
import { runCli } from '../helpers/cli.js';
import { event, ISOLATIONS, json, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { zipOf } from '../helpers/zip.js';

const USES_GREETING = `exports.handler = async () => require('greeting');`;

let harness: TestDaemon;
let client: LambdadClient;
let work: string;

/** A layer whose `nodejs/node_modules/greeting` exports `text`. */
function greetingLayer(text: string, folder = 'nodejs/node_modules'): Uint8Array {
  return zipSync({ [`${folder}/greeting/index.js`]: strToU8(`module.exports = ${JSON.stringify(text)};\n`) });
}

function publish(name: string, zip: Uint8Array): string {
  return harness.daemon.service.publishLayerVersion({ LayerName: name, Content: { ZipFile: zip }, CompatibleRuntimes: ['nodejs20.x'] }).LayerVersionArn;
}

async function run(name: string, qualifier?: string): Promise<unknown> {
  const result = await harness.daemon.service.invoke({ functionName: name, payload: event({}), ...(qualifier === undefined ? {} : { qualifier }) });
  expect(result.functionError).toBeUndefined();
  return json(result.payload);
}

describe.each(ISOLATIONS)('%s isolation', (isolation) => {
  beforeAll(async () => {
    harness = await startDaemon({ isolation });
    client = await LambdadClient.connect({ url: harness.daemon.url });
    work = mkdtempSync(join(tmpdir(), 'lambdad-layers-'));
  });
  afterAll(async () => {
    client.close();
    await harness.stop();
    rmSync(work, { recursive: true, force: true });
  });

  describe('layers', () => {
    it("put a layer's node_modules on the module path; a later layer's packages win", async () => {
      const first = publish('greeting-a', greetingLayer('from A'));
      const second = publish('greeting-b', greetingLayer('from B'));
      expect(first).toBe('arn:aws:lambda:us-east-1:000000000000:layer:greeting-a:1');
      const created = harness.daemon.service.createFunction({ FunctionName: 'greeter', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zipOf(USES_GREETING) }, Layers: [first, second] });
      expect(created.Layers?.map((layer) => layer.Arn)).toEqual([first, second]);
      expect(await run('greeter')).toBe('from B');
      harness.daemon.service.updateFunctionConfiguration('greeter', { Layers: [second, first] });
      expect(await run('greeter')).toBe('from A');
      // The runtime's own folder (nodejs/node20/node_modules) comes before nodejs/node_modules in the same layer.
      const both = harness.daemon.service.publishLayerVersion({
        LayerName: 'greeting-both',
        Content: { ZipFile: zipSync({ 'nodejs/node_modules/greeting/index.js': strToU8('module.exports = "any node";'), 'nodejs/node20/node_modules/greeting/index.js': strToU8('module.exports = "node20";') }) },
      });
      harness.daemon.service.updateFunctionConfiguration('greeter', { Layers: [both.LayerVersionArn] });
      expect(await run('greeter')).toBe('node20');
      harness.daemon.service.updateFunctionConfiguration('greeter', { Layers: [] });
      const withoutLayers = await harness.daemon.service.invoke({ functionName: 'greeter', payload: event({}) });
      expect(json(withoutLayers.payload)).toMatchObject({ errorType: 'Error', errorMessage: expect.stringContaining("Cannot find module 'greeting'") });
    });

    it('keeps the layer versions a version was published with, and a deleted layer version keeps running', async () => {
      const v1 = publish('shared', greetingLayer('shared v1'));
      harness.daemon.service.createFunction({ FunctionName: 'pinned', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zipOf(USES_GREETING) }, Layers: [v1], Publish: true });
      const v2 = publish('shared', greetingLayer('shared v2'));
      expect(v2.endsWith(':shared:2')).toBe(true);
      harness.daemon.service.updateFunctionConfiguration('pinned', { Layers: [v2] });
      expect(await run('pinned')).toBe('shared v2');
      expect(await run('pinned', '1')).toBe('shared v1');

      harness.daemon.service.deleteLayerVersion('shared', 1);
      expect(() => harness.daemon.service.getLayerVersion('shared', 1)).toThrow(expect.objectContaining({ code: 'ResourceNotFoundException', message: 'The resource you requested does not exist.' }));
      expect(() => harness.daemon.service.updateFunctionConfiguration('pinned', { Layers: [v1] })).toThrow(expect.objectContaining({ code: 'InvalidParameterValueException', message: `Layer version ${v1} does not exist.` }));
      // Version numbers are not reused; the deleted version's code stays while a function version uses it, restarts included.
      expect(publish('shared', greetingLayer('shared v3')).endsWith(':shared:3')).toBe(true);
      harness = await harness.restart();
      client.close();
      client = await LambdadClient.connect({ url: harness.daemon.url });
      expect(await run('pinned', '1')).toBe('shared v1');
    });

    it("refuses more than 5 layers, two versions of one layer, a layer of another region or that does not exist, and a layer's zip-slip entry", () => {
      const arns = Array.from({ length: 6 }, (_, n) => publish(`many-${n}`, greetingLayer(String(n))));
      const create = (layers: string[]) => () =>
        harness.daemon.service.createFunction({ FunctionName: 'too-many', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zipOf(USES_GREETING) }, Layers: layers });
      expect(create(arns)).toThrow(expect.objectContaining({ code: 'InvalidParameterValueException', message: 'Cannot reference more than 5 layers.' }));
      const again = publish('many-0', greetingLayer('again'));
      expect(create([arns[0]!, again])).toThrow(
        expect.objectContaining({
          code: 'InvalidParameterValueException',
          message: `Two different versions of the same layer are not allowed to be referenced in the same function. ${arns[0]} and ${again} are versions of the same layer.`,
        }),
      );
      expect(create(['arn:aws:lambda:eu-west-1:000000000000:layer:many-0:1'])).toThrow(
        expect.objectContaining({ code: 'InvalidParameterValueException', message: 'Layers are not in the same region as the function. Layers are expected to be in region us-east-1.' }),
      );
      expect(create(['arn:aws:lambda:us-east-1:000000000000:layer:nope:1'])).toThrow(expect.objectContaining({ code: 'InvalidParameterValueException', message: 'Layer version arn:aws:lambda:us-east-1:000000000000:layer:nope:1 does not exist.' }));
      expect(create(['not-an-arn'])).toThrow(expect.objectContaining({ code: 'ValidationException' }));
      const slip = zipSync({ 'nodejs/ok.js': strToU8('1'), '../evil.js': strToU8('2') });
      expect(() => publish('evil', slip)).toThrow(expect.objectContaining({ code: 'InvalidParameterValueException', message: "Could not unzip uploaded file. The entry '../evil.js' would be written outside the function's directory." }));
    });

    it('lists layers and layer versions, newest first, filtered by runtime, through the SDK', async () => {
      harness.daemon.service.publishLayerVersion({ LayerName: 'listed', Content: { ZipFile: greetingLayer('x') }, CompatibleRuntimes: ['nodejs18.x'] });
      harness.daemon.service.publishLayerVersion({ LayerName: 'listed', Content: { ZipFile: greetingLayer('y') }, CompatibleRuntimes: ['nodejs22.x'], LicenseInfo: 'MIT' });
      const versions = await client.listLayerVersions({ LayerName: 'listed' });
      expect(versions.LayerVersions?.map((v) => v.Version)).toEqual([2, 1]);
      const for18 = await client.listLayerVersions({ LayerName: 'listed', CompatibleRuntime: 'nodejs18.x' });
      expect(for18.LayerVersions?.map((v) => v.Version)).toEqual([1]);
      const layers = await client.listLayers({ CompatibleRuntime: 'nodejs22.x' });
      expect(layers.Layers?.find((layer) => layer.LayerName === 'listed')?.LatestMatchingVersion).toMatchObject({ Version: 2, LicenseInfo: 'MIT' });
      const byArn = await client.getLayerVersionByArn({ Arn: 'arn:aws:lambda:us-east-1:000000000000:layer:listed:1' });
      expect(byArn).toMatchObject({ Version: 1, CompatibleRuntimes: ['nodejs18.x'], Content: { CodeSize: expect.any(Number) } });
      const download = await fetch(byArn.Content!.Location);
      expect(download.status).toBe(200);
      expect(new Uint8Array(await download.arrayBuffer())).toEqual(greetingLayer('x'));
    });
  });

  describe('lambdad CLI', () => {
    const lambdad = (args: string[]) => runCli(args, harness.daemon.url, work);

    it('publishes a layer from a directory and creates a function that uses it', async () => {
      const layerDir = join(work, 'layer');
      mkdirSync(join(layerDir, 'nodejs/node_modules/greeting'), { recursive: true });
      writeFileSync(join(layerDir, 'nodejs/node_modules/greeting/index.js'), 'module.exports = "from the CLI layer";\n');
      const published = await lambdad(['publish-layer-version', '--layer-name', 'cli-layer', '--code', layerDir, '--compatible-runtimes', 'nodejs20.x']);
      expect(published.stderr).toBe('');
      const { LayerVersionArn } = JSON.parse(published.stdout) as { LayerVersionArn: string };
      writeFileSync(join(work, 'function.zip'), zipOf(USES_GREETING));
      const created = await lambdad(['create-function', '--function-name', 'cli-greeter', '--runtime', 'nodejs20.x', '--handler', 'index.handler', '--role', ROLE, '--zip-file', 'fileb://function.zip', '--layers', LayerVersionArn]);
      expect(created.code).toBe(0);
      expect(JSON.parse(created.stdout).Layers).toEqual([{ Arn: LayerVersionArn, CodeSize: expect.any(Number) }]);
      const invoked = await lambdad(['invoke', '--function-name', 'cli-greeter', 'out.json']);
      expect(invoked.code).toBe(0);
      expect(JSON.parse((await import('node:fs')).readFileSync(join(work, 'out.json'), 'utf8'))).toBe('from the CLI layer');
      const listed = await lambdad(['list-layer-versions', '--layer-name', 'cli-layer']);
      expect(JSON.parse(listed.stdout).LayerVersions.map((v: { LayerVersionArn: string }) => v.LayerVersionArn)).toEqual([LayerVersionArn]);
      expect((await lambdad(['delete-layer-version', '--layer-name', 'cli-layer', '--version-number', '1'])).code).toBe(0);
      const gone = await lambdad(['get-layer-version', '--layer-name', 'cli-layer', '--version-number', '1']);
      expect(gone.code).toBe(254);
      expect(gone.stderr).toContain('(ResourceNotFoundException)');
    });
  });
});
