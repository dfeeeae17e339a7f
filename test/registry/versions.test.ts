/** Functions and versions: create, get, list, update, publish, delete, RevisionId locking, usage. */
import { describe, expect, it } from 'vitest';
import { ARN_PREFIX, failure, functionInput, openRegistry, ROLE, zipOf } from './helpers.js';

const PRECONDITION = {
  code: 'PreconditionFailedException',
  message:
    'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
};

describe('functions', () => {
  it('answers a create as Pending, then shows the function Active', () => {
    const { registry } = openRegistry();
    const created = registry.createFunction(functionInput('fn', { Environment: { Variables: { STAGE: 'dev' } } }));
    expect(created).toMatchObject({
      FunctionName: 'fn',
      FunctionArn: `${ARN_PREFIX}fn`,
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Version: '$LATEST',
      LastModified: '2018-12-06T07:03:10.353+0000',
      Environment: { Variables: { STAGE: 'dev' } },
      State: 'Pending',
      StateReason: 'The function is being created.',
      StateReasonCode: 'Creating',
    });
    const stored = registry.getFunctionConfiguration('fn');
    expect(stored).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful', RevisionId: created.RevisionId });
    expect(stored).not.toHaveProperty('StateReason');
  });

  it('with Publish, creates version 1 too and answers with it', () => {
    const { registry } = openRegistry();
    const created = registry.createFunction(functionInput('fn', { Publish: true }));
    expect(created).toMatchObject({ Version: '1', FunctionArn: `${ARN_PREFIX}fn:1`, State: 'Pending' });
    expect(registry.listVersionsByFunction('fn').Versions.map((v) => v.Version)).toEqual(['$LATEST', '1']);
  });

  it('updates configuration with a new RevisionId and LastModified; Environment.Variables replaces the map', () => {
    const { registry, clock } = openRegistry();
    const created = registry.createFunction(functionInput('fn', { Environment: { Variables: { A1: 'one', B1: 'two' } } }));
    clock.advance(1_500);
    const updated = registry.updateFunctionConfiguration('fn', { Environment: { Variables: { C1: 'three' } }, Timeout: 10, Description: 'changed' });
    expect(updated).toMatchObject({ Environment: { Variables: { C1: 'three' } }, Timeout: 10, Description: 'changed', Handler: 'index.handler' });
    expect(updated.RevisionId).not.toBe(created.RevisionId);
    expect(updated.LastModified).toBe('2018-12-06T07:03:11.853+0000');
    expect(registry.getFunctionConfiguration('fn')).toEqual(updated);
    // An Environment without Variables clears them.
    expect(registry.updateFunctionConfiguration('fn', { Environment: {} })).not.toHaveProperty('Environment');
  });

  it('updates code with a new CodeSha256, CodeSize and RevisionId', () => {
    const { registry } = openRegistry();
    const created = registry.createFunction(functionInput('fn'));
    const zip = zipOf({ 'index.js': 'exports.handler = async () => "v2";\n' });
    const updated = registry.updateFunctionCode('fn', { ZipFile: zip, Architectures: ['arm64'] });
    expect(updated.CodeSha256).not.toBe(created.CodeSha256);
    expect(updated).toMatchObject({ CodeSize: zip.length, Architectures: ['arm64'] });
    expect(updated.RevisionId).not.toBe(created.RevisionId);
  });

  it('dry-runs a code update without changing anything', () => {
    const { registry } = openRegistry();
    const created = registry.createFunction(functionInput('fn'));
    const zip = zipOf({ 'index.js': 'exports.handler = async () => "v2";\n' });
    const dry = registry.updateFunctionCode('fn', { ZipFile: zip, DryRun: true });
    expect(dry.CodeSize).toBe(zip.length);
    expect(registry.getFunctionConfiguration('fn')).toMatchObject({ CodeSha256: created.CodeSha256, RevisionId: created.RevisionId });
  });

  it('lists $LATEST only by default, every version with ALL, in pages of at most 50', () => {
    const { registry } = openRegistry();
    for (let i = 0; i < 53; i++) registry.createFunction(functionInput(`fn-${String(i).padStart(2, '0')}`));
    registry.publishVersion('fn-00');
    const first = registry.listFunctions({});
    expect(first.Functions).toHaveLength(50);
    expect(first.Functions[0]).toMatchObject({ FunctionName: 'fn-00', FunctionArn: `${ARN_PREFIX}fn-00`, Version: '$LATEST' });
    const second = registry.listFunctions({ Marker: first.NextMarker });
    expect(second.Functions.map((f) => f.FunctionName)).toEqual(['fn-50', 'fn-51', 'fn-52']);
    expect(second.NextMarker).toBeUndefined();

    const all = registry.listFunctions({ FunctionVersion: 'ALL', MaxItems: 2 });
    expect(all.Functions.map((f) => f.FunctionArn)).toEqual([`${ARN_PREFIX}fn-00:$LATEST`, `${ARN_PREFIX}fn-00:1`]);
    expect(registry.listFunctions({ FunctionVersion: 'ALL', MaxItems: 2, Marker: all.NextMarker }).Functions.map((f) => f.FunctionName)).toEqual([
      'fn-01',
      'fn-02',
    ]);
  });

  it('deletes a function with its versions and aliases', () => {
    const { registry } = openRegistry();
    registry.createFunction(functionInput('fn', { Publish: true }));
    registry.createAlias('fn', { Name: 'live', FunctionVersion: '1' });
    registry.deleteFunction('fn');
    expect(failure(() => registry.getFunctionConfiguration('fn', '1'))).toMatchObject({
      code: 'ResourceNotFoundException',
      message: `Function not found: ${ARN_PREFIX}fn:1`,
    });
    expect(registry.accountUsage()).toEqual({ TotalCodeSize: 0, FunctionCount: 0 });
    // The name is free again, and starts from version 1.
    expect(registry.createFunction(functionInput('fn', { Publish: true })).Version).toBe('1');
    expect(failure(() => registry.getAlias('fn', 'live'))).toMatchObject({ code: 'ResourceNotFoundException' });
  });

  it('counts functions and the code of every version', () => {
    const { registry } = openRegistry();
    const a = registry.createFunction(functionInput('a', { Publish: true }));
    const b = registry.createFunction(functionInput('b', { Code: { ZipFile: zipOf({ 'index.js': '// other\n' }) } }));
    expect(registry.accountUsage()).toEqual({ TotalCodeSize: 2 * a.CodeSize + b.CodeSize, FunctionCount: 2 });
  });
});

describe('versions', () => {
  it('publishes 1, then 2 after a change, each a snapshot of $LATEST then', () => {
    const { registry, clock } = openRegistry();
    registry.createFunction(functionInput('fn', { Description: 'first' }));
    const one = registry.publishVersion('fn');
    registry.updateFunctionConfiguration('fn', { MemorySize: 256 });
    clock.advance(60_000);
    const two = registry.publishVersion('fn', { Description: 'second release' });
    expect(one).toMatchObject({ Version: '1', FunctionArn: `${ARN_PREFIX}fn:1`, MemorySize: 128, Description: 'first' });
    expect(two).toMatchObject({ Version: '2', MemorySize: 256, Description: 'second release', LastModified: '2018-12-06T07:04:10.353+0000' });
    expect(registry.getFunctionConfiguration('fn', '1')).toEqual({ ...one });
    expect(registry.getFunctionConfiguration('fn').Description).toBe('first');
  });

  it('returns the newest version when $LATEST has not changed since it was published', () => {
    const { registry } = openRegistry();
    registry.createFunction(functionInput('fn'));
    const one = registry.publishVersion('fn');
    expect(registry.publishVersion('fn')).toEqual(one);
    // Setting what is already there is no change either.
    registry.updateFunctionConfiguration('fn', { Timeout: 3 });
    registry.updateFunctionCode('fn', { ZipFile: zipOf() });
    expect(registry.publishVersion('fn').Version).toBe('1');
    expect(registry.listVersionsByFunction('fn').Versions).toHaveLength(2);
  });

  it('keeps a published version’s RevisionId while $LATEST’s changes', () => {
    const { registry } = openRegistry();
    registry.createFunction(functionInput('fn'));
    const one = registry.publishVersion('fn');
    registry.updateFunctionConfiguration('fn', { Timeout: 7 });
    expect(registry.getFunctionConfiguration('fn', '1').RevisionId).toBe(one.RevisionId);
  });

  it('never reuses a version number after deletion', () => {
    const { registry } = openRegistry();
    registry.createFunction(functionInput('fn'));
    registry.publishVersion('fn');
    registry.updateFunctionConfiguration('fn', { Timeout: 4 });
    registry.publishVersion('fn');
    registry.deleteFunction('fn', '2');
    registry.deleteFunction('fn', '1');
    registry.updateFunctionConfiguration('fn', { Timeout: 5 });
    expect(registry.publishVersion('fn').Version).toBe('3');
    expect(registry.listVersionsByFunction('fn').Versions.map((v) => v.Version)).toEqual(['$LATEST', '3']);
    expect(failure(() => registry.deleteFunction('fn', '2'))).toMatchObject({
      code: 'ResourceNotFoundException',
      message: `Function not found: ${ARN_PREFIX}fn:2`,
    });
  });

  it('lists versions $LATEST first, with qualified ARNs, in pages', () => {
    const { registry } = openRegistry();
    registry.createFunction(functionInput('fn'));
    for (let timeout = 4; timeout < 7; timeout++) {
      registry.updateFunctionConfiguration('fn', { Timeout: timeout });
      registry.publishVersion('fn');
    }
    const first = registry.listVersionsByFunction('fn', { MaxItems: 3 });
    expect(first.Versions.map((v) => v.FunctionArn)).toEqual([`${ARN_PREFIX}fn:$LATEST`, `${ARN_PREFIX}fn:1`, `${ARN_PREFIX}fn:2`]);
    const rest = registry.listVersionsByFunction('fn', { MaxItems: 3, Marker: first.NextMarker });
    expect(rest).toEqual({ Versions: [expect.objectContaining({ Version: '3', Timeout: 6 })] });
  });

  it('publishes with Publish on a code update', () => {
    const { registry } = openRegistry();
    registry.createFunction(functionInput('fn'));
    const published = registry.updateFunctionCode('fn', { ZipFile: zipOf({ 'index.js': '// v2\n' }), Publish: true });
    expect(published.Version).toBe('1');
    expect(registry.getFunctionConfiguration('fn', '1').CodeSha256).toBe(published.CodeSha256);
  });

  it('accepts PublishVersion with the right CodeSha256 and RevisionId', () => {
    const { registry } = openRegistry();
    const created = registry.createFunction(functionInput('fn'));
    expect(registry.publishVersion('fn', { CodeSha256: created.CodeSha256, RevisionId: created.RevisionId }).Version).toBe('1');
  });
});

describe('RevisionId locking', () => {
  it.each([
    ['UpdateFunctionConfiguration', (r: any) => r.updateFunctionConfiguration('fn', { Timeout: 9, RevisionId: 'stale' })],
    ['UpdateFunctionCode', (r: any) => r.updateFunctionCode('fn', { ZipFile: zipOf({ 'index.js': '// new\n' }), RevisionId: 'stale' })],
    ['PublishVersion', (r: any) => r.publishVersion('fn', { RevisionId: 'stale' })],
    ['UpdateAlias', (r: any) => r.updateAlias('fn', 'live', { Description: 'x', RevisionId: 'stale' })],
  ])('refuses %s with a stale RevisionId and changes nothing', (_operation, work) => {
    const { registry } = openRegistry();
    const before = registry.createFunction(functionInput('fn'));
    const alias = registry.createAlias('fn', { Name: 'live', FunctionVersion: '$LATEST' });
    expect(failure(() => work(registry))).toMatchObject(PRECONDITION);
    expect(registry.getFunctionConfiguration('fn').RevisionId).toBe(before.RevisionId);
    expect(registry.getAlias('fn', 'live')).toEqual(alias);
    expect(registry.listVersionsByFunction('fn').Versions).toHaveLength(1);
  });

  it('accepts the current RevisionId', () => {
    const { registry } = openRegistry();
    const created = registry.createFunction(functionInput('fn'));
    const updated = registry.updateFunctionConfiguration('fn', { Timeout: 9, RevisionId: created.RevisionId });
    expect(failure(() => registry.updateFunctionConfiguration('fn', { Timeout: 10, RevisionId: created.RevisionId }))).toMatchObject(PRECONDITION);
    expect(registry.updateFunctionConfiguration('fn', { Timeout: 10, RevisionId: updated.RevisionId }).Timeout).toBe(10);
  });
});
