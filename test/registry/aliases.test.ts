/** Aliases: create, get, update, delete, list, with their routing configuration. */
import { describe, expect, it } from 'vitest';
import { ARN_PREFIX, failure, functionInput, openRegistry } from './helpers.js';

function withThreeVersions() {
  const test = openRegistry();
  test.registry.createFunction(functionInput('fn'));
  for (const timeout of [4, 5, 6]) {
    test.registry.updateFunctionConfiguration('fn', { Timeout: timeout });
    test.registry.publishVersion('fn');
  }
  return test.registry;
}

describe('aliases', () => {
  it('creates an alias with routing and returns it as stored', () => {
    const registry = withThreeVersions();
    const created = registry.createAlias('fn', {
      Name: 'live',
      FunctionVersion: '1',
      Description: 'production',
      RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } },
    });
    expect(created).toEqual({
      AliasArn: `${ARN_PREFIX}fn:live`,
      Name: 'live',
      FunctionVersion: '1',
      Description: 'production',
      RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } },
      RevisionId: expect.any(String),
    });
    expect(registry.getAlias('fn', 'live')).toEqual(created);
    expect(registry.resolveForInvoke('fn', 'live').alias).toEqual(created);
  });

  it('points an alias at $LATEST, without routing', () => {
    const registry = withThreeVersions();
    const alias = registry.createAlias('fn', { Name: 'dev', FunctionVersion: '$LATEST' });
    expect(alias).toMatchObject({ FunctionVersion: '$LATEST', Description: '' });
    expect(alias).not.toHaveProperty('RoutingConfig');
    expect(registry.getFunctionConfiguration('fn', 'dev')).toMatchObject({ Version: '$LATEST', Timeout: 6 });
  });

  it('shows a version through its alias, under the alias ARN', () => {
    const registry = withThreeVersions();
    registry.createAlias('fn', { Name: 'live', FunctionVersion: '2' });
    expect(registry.getFunctionConfiguration('fn', 'live')).toMatchObject({ Version: '2', Timeout: 5, FunctionArn: `${ARN_PREFIX}fn:live` });
  });

  it('updates version, description and routing with a new RevisionId; omitted fields stay', () => {
    const registry = withThreeVersions();
    const created = registry.createAlias('fn', { Name: 'live', FunctionVersion: '1', Description: 'one', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } });
    const moved = registry.updateAlias('fn', 'live', { FunctionVersion: '3' });
    expect(moved).toMatchObject({ FunctionVersion: '3', Description: 'one', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } });
    expect(moved.RevisionId).not.toBe(created.RevisionId);
    const reweighted = registry.updateAlias('fn', 'live', { RoutingConfig: { AdditionalVersionWeights: { '1': 1 } }, RevisionId: moved.RevisionId });
    expect(reweighted.RoutingConfig).toEqual({ AdditionalVersionWeights: { '1': 1 } });
    const cleared = registry.updateAlias('fn', 'live', { RoutingConfig: { AdditionalVersionWeights: {} }, Description: 'three' });
    expect(cleared).not.toHaveProperty('RoutingConfig');
    expect(registry.getAlias('fn', 'live')).toEqual(cleared);
  });

  it('deletes an alias, and deleting one that is not there is no error', () => {
    const registry = withThreeVersions();
    registry.createAlias('fn', { Name: 'live', FunctionVersion: '1' });
    registry.deleteAlias('fn', 'live');
    registry.deleteAlias('fn', 'live');
    expect(failure(() => registry.getAlias('fn', 'live'))).toMatchObject({
      code: 'ResourceNotFoundException',
      message: `Cannot find alias arn: ${ARN_PREFIX}fn:live`,
    });
    // With the alias gone, its version can go.
    registry.deleteFunction('fn', '1');
  });

  it('lists aliases by name, filtered by version, in pages', () => {
    const registry = withThreeVersions();
    registry.createAlias('fn', { Name: 'gamma', FunctionVersion: '2' });
    registry.createAlias('fn', { Name: 'alpha', FunctionVersion: '1' });
    registry.createAlias('fn', { Name: 'beta', FunctionVersion: '2' });
    const first = registry.listAliases('fn', { MaxItems: 2 });
    expect(first.Aliases.map((a) => a.Name)).toEqual(['alpha', 'beta']);
    expect(registry.listAliases('fn', { MaxItems: 2, Marker: first.NextMarker })).toEqual({ Aliases: [expect.objectContaining({ Name: 'gamma' })] });
    expect(registry.listAliases('fn', { FunctionVersion: '2' }).Aliases.map((a) => a.Name)).toEqual(['beta', 'gamma']);
  });

  it('needs the function to exist', () => {
    const { registry } = openRegistry();
    for (const work of [() => registry.createAlias('nope', { Name: 'live', FunctionVersion: '1' }), () => registry.listAliases('nope'), () => registry.deleteAlias('nope', 'live')]) {
      expect(failure(work)).toMatchObject({ code: 'ResourceNotFoundException', message: `Function not found: ${ARN_PREFIX}nope` });
    }
  });
});
