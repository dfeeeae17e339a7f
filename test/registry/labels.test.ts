/** Function-name labels (spec §1): name, name:qualifier, partial ARN, full ARN, qualifiers in and beside them. */
import { describe, expect, it } from 'vitest';
import { functionArn, parseFunctionLabel } from '../../dist/daemon/registry/index.js';
import { ACCOUNT, ARN_PREFIX, failure, functionInput, openRegistry, REGION } from './helpers.js';

const scope = { region: REGION, accountId: ACCOUNT };

function withAliasAndVersion() {
  const { registry } = openRegistry();
  registry.createFunction(functionInput('my-fn'));
  registry.publishVersion('my-fn');
  registry.updateFunctionConfiguration('my-fn', { Timeout: 30 });
  registry.createAlias('my-fn', { Name: 'live', FunctionVersion: '1' });
  return registry;
}

describe('function-name labels', () => {
  it.each([
    ['a name', 'my-fn', { name: 'my-fn', qualifier: undefined }],
    ['a name and qualifier', 'my-fn:live', { name: 'my-fn', qualifier: 'live' }],
    ['a name and $LATEST', 'my-fn:$LATEST', { name: 'my-fn', qualifier: '$LATEST' }],
    ['a partial ARN', `${ACCOUNT}:function:my-fn`, { name: 'my-fn', qualifier: undefined }],
    ['a qualified partial ARN', `${ACCOUNT}:function:my-fn:3`, { name: 'my-fn', qualifier: '3' }],
    ['a full ARN', `${ARN_PREFIX}my-fn`, { name: 'my-fn', qualifier: undefined }],
    ['a qualified full ARN', `${ARN_PREFIX}my-fn:live`, { name: 'my-fn', qualifier: 'live' }],
  ])('reads %s', (_form, label, expected) => {
    expect(parseFunctionLabel(scope, label)).toEqual(expected);
  });

  it('reads every form to the same function', () => {
    const registry = withAliasAndVersion();
    for (const label of ['my-fn', `${ACCOUNT}:function:my-fn`, `${ARN_PREFIX}my-fn`]) {
      expect(registry.getFunctionConfiguration(label)).toMatchObject({ FunctionName: 'my-fn', Version: '$LATEST', Timeout: 30 });
    }
    for (const label of ['my-fn:1', `${ACCOUNT}:function:my-fn:1`, `${ARN_PREFIX}my-fn:1`]) {
      expect(registry.getFunctionConfiguration(label)).toMatchObject({ Version: '1', Timeout: 3, FunctionArn: `${ARN_PREFIX}my-fn:1` });
    }
  });

  it('takes the qualifier from the label or from beside it, and accepts both when they agree', () => {
    const registry = withAliasAndVersion();
    expect(registry.getFunctionConfiguration('my-fn:live').Version).toBe('1');
    expect(registry.getFunctionConfiguration('my-fn', 'live').Version).toBe('1');
    expect(registry.getFunctionConfiguration('my-fn:live', 'live').Version).toBe('1');
  });

  it('refuses a qualifier in the label that differs from the one beside it', () => {
    const registry = withAliasAndVersion();
    expect(failure(() => registry.getFunctionConfiguration('my-fn:live', '1'))).toMatchObject({
      code: 'InvalidParameterValueException',
      message: 'The derived qualifier from the function name does not match the specified qualifier.',
    });
  });

  it.each([
    ['another region', `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:my-fn`, `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:my-fn`],
    ['another account', 'arn:aws:lambda:us-east-1:999999999999:function:my-fn:live', 'arn:aws:lambda:us-east-1:999999999999:function:my-fn:live'],
    ['another account, partially', '999999999999:function:my-fn', 'arn:aws:lambda:us-east-1:999999999999:function:my-fn'],
  ])('does not find a function of %s', (_case, label, arn) => {
    const registry = withAliasAndVersion();
    expect(failure(() => registry.getFunctionConfiguration(label))).toMatchObject({
      code: 'ResourceNotFoundException',
      message: `Function not found: ${arn}`,
    });
  });

  it('names the ARN it did not find, qualified when a version or alias was asked for', () => {
    const registry = withAliasAndVersion();
    expect(failure(() => registry.getFunctionConfiguration('other'))).toMatchObject({
      code: 'ResourceNotFoundException',
      message: `Function not found: ${ARN_PREFIX}other`,
    });
    expect(failure(() => registry.getFunctionConfiguration('my-fn', '9'))).toMatchObject({
      code: 'ResourceNotFoundException',
      message: `Function not found: ${ARN_PREFIX}my-fn:9`,
    });
    expect(failure(() => registry.getFunctionConfiguration('my-fn:nope'))).toMatchObject({
      code: 'ResourceNotFoundException',
      message: `Function not found: ${ARN_PREFIX}my-fn:nope`,
    });
  });

  it('builds ARNs from the registry’s region and account', () => {
    expect(functionArn(scope, 'my-fn')).toBe(`${ARN_PREFIX}my-fn`);
    expect(functionArn(scope, 'my-fn', '$LATEST')).toBe(`${ARN_PREFIX}my-fn:$LATEST`);
  });
});

describe('resolveForInvoke', () => {
  it('resolves an alias to its primary version, keeping the ARN the caller used', () => {
    const registry = withAliasAndVersion();
    const target = registry.resolveForInvoke(`${ARN_PREFIX}my-fn:live`);
    expect(target).toMatchObject({
      invokedFunctionArn: `${ARN_PREFIX}my-fn:live`,
      executedVersion: '1',
      alias: { Name: 'live', FunctionVersion: '1' },
      configuration: { Version: '1', Timeout: 3 },
    });
  });

  it('resolves no qualifier, $LATEST and a version number', () => {
    const registry = withAliasAndVersion();
    expect(registry.resolveForInvoke('my-fn')).toMatchObject({ invokedFunctionArn: `${ARN_PREFIX}my-fn`, executedVersion: '$LATEST' });
    expect(registry.resolveForInvoke('my-fn', '$LATEST')).toMatchObject({ invokedFunctionArn: `${ARN_PREFIX}my-fn:$LATEST`, executedVersion: '$LATEST' });
    const version = registry.resolveForInvoke('my-fn', '1');
    expect(version).toMatchObject({ invokedFunctionArn: `${ARN_PREFIX}my-fn:1`, executedVersion: '1' });
    expect(version.alias).toBeUndefined();
  });

  it('sees every change made after an earlier resolution', () => {
    const registry = withAliasAndVersion();
    expect(registry.resolveForInvoke('my-fn', 'live').executedVersion).toBe('1');
    registry.publishVersion('my-fn');
    registry.updateAlias('my-fn', 'live', { FunctionVersion: '2' });
    expect(registry.resolveForInvoke('my-fn', 'live').executedVersion).toBe('2');
    registry.updateFunctionConfiguration('my-fn', { MemorySize: 512 });
    expect(registry.resolveForInvoke('my-fn').configuration.MemorySize).toBe(512);
    registry.deleteFunction('my-fn');
    expect(failure(() => registry.resolveForInvoke('my-fn'))).toMatchObject({ code: 'ResourceNotFoundException' });
  });

  it('hands out targets that cannot be changed by the caller', () => {
    const registry = withAliasAndVersion();
    const target = registry.resolveForInvoke('my-fn');
    expect(Object.isFrozen(target) && Object.isFrozen(target.configuration)).toBe(true);
    expect(() => {
      (target.configuration as { Timeout: number }).Timeout = 900;
    }).toThrow(TypeError);
  });
});
