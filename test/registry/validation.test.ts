/**
 * Every input rule of the registry's operations, one test each, with AWS's exception name and message
 * (spec lambda-api.md §1, §4, §5 and limits.md).
 */
import { describe, expect, it } from 'vitest';
import { ARN_PREFIX, failure, functionInput, openRegistry, ROLE, zipOf } from './helpers.js';

const NAME_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?';
const ROLE_PATTERN = 'arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+';
const ENV_PREFIX = 'Lambda was unable to configure your environment variables because the environment variables you have provided';
const validation = (value: string, field: string, constraint: string) =>
  `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${constraint}`;

describe('CreateFunction rules', () => {
  const bigEnvironment = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`KEY_${i}`, 'x'.repeat(100)]));

  it.each([
    ['name pattern', { FunctionName: 'bad name!' }, 'ValidationException',
      validation('bad name!', 'functionName', `Member must satisfy regular expression pattern: ${NAME_PATTERN}`)],
    ['name longer than 64', { FunctionName: 'a'.repeat(65) }, 'ValidationException',
      validation('a'.repeat(65), 'functionName', 'Member must have length less than or equal to 64')],
    ['label longer than 140', { FunctionName: `${ARN_PREFIX}${'a'.repeat(64)}:${'b'.repeat(40)}` }, 'ValidationException',
      validation(`${ARN_PREFIX}${'a'.repeat(64)}:${'b'.repeat(40)}`, 'functionName', 'Member must have length less than or equal to 140')],
    ['name required', { FunctionName: undefined }, 'ValidationException',
      "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null"],
    ['no qualifier on create', { FunctionName: 'fn:live' }, 'InvalidParameterValueException', 'Unsupported function name: fn:live'],
    ['role required', { Role: undefined }, 'ValidationException',
      "1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not be null"],
    ['role pattern', { Role: 'arn:aws:iam::12345:role/short-account' }, 'ValidationException',
      validation('arn:aws:iam::12345:role/short-account', 'role', `Member must satisfy regular expression pattern: ${ROLE_PATTERN}`)],
    ['runtime and handler required', { Handler: undefined }, 'InvalidParameterValueException',
      'Runtime and Handler are mandatory parameters for functions created with deployment packages.'],
    ['handler without whitespace', { Handler: 'index handler' }, 'ValidationException',
      validation('index handler', 'handler', 'Member must satisfy regular expression pattern: [^\\s]+')],
    ['handler up to 128', { Handler: `${'h'.repeat(121)}.handler` }, 'ValidationException',
      validation(`${'h'.repeat(121)}.handler`, 'handler', 'Member must have length less than or equal to 128')],
    ['description up to 256', { Description: 'd'.repeat(257) }, 'ValidationException',
      validation('d'.repeat(257), 'description', 'Member must have length less than or equal to 256')],
    ['timeout at most 900', { Timeout: 901 }, 'ValidationException',
      validation('901', 'timeout', 'Member must have value less than or equal to 900')],
    ['timeout at least 1', { Timeout: 0 }, 'ValidationException',
      validation('0', 'timeout', 'Member must have value greater than or equal to 1')],
    ['timeout an integer', { Timeout: 2.5 }, 'ValidationException', validation('2.5', 'timeout', 'Member must be an integer')],
    ['memory at most 10240', { MemorySize: 10_241 }, 'ValidationException',
      validation('10241', 'memorySize', 'Member must have value less than or equal to 10240')],
    ['memory at least 128', { MemorySize: 127 }, 'ValidationException',
      validation('127', 'memorySize', 'Member must have value greater than or equal to 128')],
    ['supported runtime', { Runtime: 'python3.12' }, 'InvalidParameterValueException',
      'The runtime parameter of python3.12 is not supported by lambdad. Supported runtimes: nodejs18.x, nodejs20.x, nodejs22.x'],
    ['environment key pattern', { Environment: { Variables: { 'bad-key': 'v' } } }, 'ValidationException',
      "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]"],
    ['environment values are strings', { Environment: { Variables: { COUNT: 3 } } }, 'ValidationException',
      "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map values must satisfy constraint: [Member must be a string]"],
    ['environment without reserved keys', { Environment: { Variables: { STAGE: 'x', AWS_REGION: 'eu-west-1', TZ: 'UTC' } } },
      'InvalidParameterValueException',
      `${ENV_PREFIX} contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION, TZ`],
    ['environment up to 4 KB', { Environment: { Variables: bigEnvironment } }, 'InvalidParameterValueException',
      `${ENV_PREFIX} exceeded the 4KB limit. String measured: ${JSON.stringify(bigEnvironment)}`],
    ['one architecture only', { Architectures: ['x86_64', 'arm64'] }, 'ValidationException',
      validation('[x86_64, arm64]', 'architectures', 'Member must have length less than or equal to 1')],
    ['an architecture at least', { Architectures: [] }, 'ValidationException',
      validation('[]', 'architectures', 'Member must have length greater than or equal to 1')],
    ['known architecture', { Architectures: ['x86'] }, 'ValidationException',
      validation('[x86]', 'architectures', 'Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]')],
    ['ephemeral storage at least 512', { EphemeralStorage: { Size: 511 } }, 'ValidationException',
      validation('511', 'ephemeralStorage.size', 'Member must have value greater than or equal to 512')],
    ['ephemeral storage at most 10240', { EphemeralStorage: { Size: 10_241 } }, 'ValidationException',
      validation('10241', 'ephemeralStorage.size', 'Member must have value less than or equal to 10240')],
    ['tracing mode', { TracingConfig: { Mode: 'Sometimes' } }, 'ValidationException',
      validation('Sometimes', 'tracingConfig.mode', 'Member must satisfy enum value set: [Active, PassThrough]')],
    ['package type Zip only', { PackageType: 'Image' }, 'InvalidParameterValueException',
      'PackageType Image is not supported by lambdad: deploy a .zip file archive.'],
    ['package type enum', { PackageType: 'Jar' }, 'ValidationException',
      validation('Jar', 'packageType', 'Member must satisfy enum value set: [Zip, Image]')],
    ['code required', { Code: undefined }, 'ValidationException',
      "1 validation error detected: Value null at 'code' failed to satisfy constraint: Member must not be null"],
    ['code has a source', { Code: {} }, 'InvalidParameterValueException', 'Please provide a source for function code.'],
    ['code has one source', { Code: { ZipFile: zipOf(), Directory: '/tmp' } }, 'InvalidParameterValueException',
      'Please provide either ZipFile or Directory as the source for function code, not both.'],
    ['code directory exists', { Code: { Directory: '/nonexistent/lambdad-code' } }, 'InvalidParameterValueException',
      'Code directory not found: /nonexistent/lambdad-code'],
  ])('%s', (_rule, overrides, code, message) => {
    const { registry } = openRegistry();
    expect(failure(() => registry.createFunction(functionInput('fn', overrides)))).toMatchObject({ code, message });
    expect(registry.listFunctions({}).Functions).toEqual([]);
  });

  it('refuses a name that exists', () => {
    const { registry } = openRegistry();
    registry.createFunction(functionInput('fn'));
    expect(failure(() => registry.createFunction(functionInput('fn')))).toMatchObject({
      code: 'ResourceConflictException',
      message: 'Function already exist: fn',
    });
  });

  it('accepts the limits themselves and fills in the defaults', () => {
    const { registry } = openRegistry();
    const created = registry.createFunction(functionInput('edge', { Timeout: 900, MemorySize: 10_240, Description: 'd'.repeat(256), EphemeralStorage: { Size: 10_240 } }));
    expect(created).toMatchObject({ Timeout: 900, MemorySize: 10_240, EphemeralStorage: { Size: 10_240 } });
    expect(registry.createFunction(functionInput('defaults'))).toMatchObject({
      Timeout: 3,
      MemorySize: 128,
      Description: '',
      TracingConfig: { Mode: 'PassThrough' },
      Architectures: ['x86_64'],
      EphemeralStorage: { Size: 512 },
      LoggingConfig: { LogFormat: 'Text', LogGroup: '/aws/lambda/defaults' },
      PackageType: 'Zip',
    });
  });
});

describe('UpdateFunctionConfiguration rules', () => {
  it('applies the same checks and leaves the function as it was', () => {
    const { registry } = openRegistry();
    const before = registry.createFunction(functionInput('fn'));
    expect(failure(() => registry.updateFunctionConfiguration('fn', { Timeout: 901 }))).toMatchObject({
      code: 'ValidationException',
      message: validation('901', 'timeout', 'Member must have value less than or equal to 900'),
    });
    expect(failure(() => registry.updateFunctionConfiguration('fn', { Environment: { Variables: { AWS_LAMBDA_FUNCTION_NAME: 'x' } } }))).toMatchObject({
      code: 'InvalidParameterValueException',
      message: `${ENV_PREFIX} contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_LAMBDA_FUNCTION_NAME`,
    });
    expect(registry.getFunctionConfiguration('fn').RevisionId).toBe(before.RevisionId);
  });
});

describe('qualifier rules', () => {
  it.each([
    ['pattern', 'bad qualifier', validation('bad qualifier', 'qualifier', 'Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)')],
    ['length up to 128', 'q'.repeat(129), validation('q'.repeat(129), 'qualifier', 'Member must have length less than or equal to 128')],
  ])('%s', (_rule, qualifier, message) => {
    const { registry } = openRegistry();
    registry.createFunction(functionInput('fn'));
    expect(failure(() => registry.getFunctionConfiguration('fn', qualifier))).toMatchObject({ code: 'ValidationException', message });
  });
});

describe('alias rules', () => {
  function withVersions(roles: string[] = [ROLE, ROLE]) {
    const { registry } = openRegistry();
    registry.createFunction(functionInput('fn', { Role: roles[0] }));
    registry.publishVersion('fn');
    registry.updateFunctionConfiguration('fn', { Role: roles[1], Description: 'second' });
    registry.publishVersion('fn');
    return registry;
  }

  it.each([
    ['name not all digits', { Name: '123', FunctionVersion: '1' }, 'ValidationException',
      validation('123', 'name', 'Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)')],
    ['name characters', { Name: 'live!', FunctionVersion: '1' }, 'ValidationException',
      validation('live!', 'name', 'Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)')],
    ['name up to 128', { Name: 'a'.repeat(129), FunctionVersion: '1' }, 'ValidationException',
      validation('a'.repeat(129), 'name', 'Member must have length less than or equal to 128')],
    ['function version pattern', { Name: 'live', FunctionVersion: 'latest' }, 'ValidationException',
      validation('latest', 'functionVersion', 'Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)')],
    ['description up to 256', { Name: 'live', FunctionVersion: '1', Description: 'd'.repeat(257) }, 'ValidationException',
      validation('d'.repeat(257), 'description', 'Member must have length less than or equal to 256')],
    ['function version exists', { Name: 'live', FunctionVersion: '7' }, 'ResourceNotFoundException', `Function not found: ${ARN_PREFIX}fn:7`],
    ['at most one additional version', { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1, '3': 0.1 } } },
      'InvalidParameterValueException', 'Number of items in AdditionalVersionWeights cannot be greater than 1'],
    ['additional version is a number', { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { $LATEST: 0.5 } } },
      'ValidationException',
      validation('{$LATEST=0.5}', 'routingConfig.additionalVersionWeights',
        'Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+, Member must not be null]')],
    ['weight at most 1.0', { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 1.5 } } },
      'ValidationException',
      validation('{2=1.5}', 'routingConfig.additionalVersionWeights',
        'Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]')],
    ['weight at least 0.0', { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': -0.1 } } },
      'ValidationException',
      validation('{2=-0.1}', 'routingConfig.additionalVersionWeights',
        'Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]')],
    ['additional version is not the primary', { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } } },
      'InvalidParameterValueException', 'Invalid function version 1. Function version 1 is already included in routing configuration.'],
    ['no routing for $LATEST', { Name: 'live', FunctionVersion: '$LATEST', RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } } },
      'InvalidParameterValueException', '$LATEST is not supported for an alias pointing to more than 1 version'],
    ['additional version exists', { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '9': 0.5 } } },
      'ResourceNotFoundException', `Function not found: ${ARN_PREFIX}fn:9`],
  ])('%s', (_rule, input, code, message) => {
    const registry = withVersions();
    expect(failure(() => registry.createAlias('fn', input as any))).toMatchObject({ code, message });
    expect(registry.listAliases('fn').Aliases).toEqual([]);
  });

  it('routes only between versions with the same role', () => {
    const registry = withVersions([ROLE, `${ROLE}-other`]);
    expect(failure(() => registry.createAlias('fn', { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } }))).toMatchObject({
      code: 'InvalidParameterValueException',
      message: 'Versions 1 and 2 have different execution roles: an alias can only route between versions with the same role.',
    });
  });

  it('checks routing kept from before against a new primary version', () => {
    const registry = withVersions();
    registry.createAlias('fn', { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } });
    expect(failure(() => registry.updateAlias('fn', 'live', { FunctionVersion: '2' }))).toMatchObject({
      code: 'InvalidParameterValueException',
      message: 'Invalid function version 2. Function version 2 is already included in routing configuration.',
    });
    expect(failure(() => registry.updateAlias('fn', 'live', { FunctionVersion: '$LATEST' }))).toMatchObject({
      code: 'InvalidParameterValueException',
      message: '$LATEST is not supported for an alias pointing to more than 1 version',
    });
  });

  it('refuses an alias name that exists', () => {
    const registry = withVersions();
    registry.createAlias('fn', { Name: 'live', FunctionVersion: '1' });
    expect(failure(() => registry.createAlias('fn', { Name: 'live', FunctionVersion: '2' }))).toMatchObject({
      code: 'ResourceConflictException',
      message: `Alias already exists: ${ARN_PREFIX}fn:live`,
    });
  });

  it('names the alias arn it cannot find', () => {
    const registry = withVersions();
    for (const work of [() => registry.getAlias('fn', 'nope'), () => registry.updateAlias('fn', 'nope', { Description: 'x' })]) {
      expect(failure(work)).toMatchObject({ code: 'ResourceNotFoundException', message: `Cannot find alias arn: ${ARN_PREFIX}fn:nope` });
    }
  });
});

describe('list rules', () => {
  it.each([
    ['MaxItems at least 1', 0, validation('0', 'maxItems', 'Member must have value greater than or equal to 1')],
    ['MaxItems at most 10000', 10_001, validation('10001', 'maxItems', 'Member must have value less than or equal to 10000')],
  ])('%s', (_rule, maxItems, message) => {
    const { registry } = openRegistry();
    registry.createFunction(functionInput('fn'));
    for (const work of [
      () => registry.listFunctions({ MaxItems: maxItems }),
      () => registry.listVersionsByFunction('fn', { MaxItems: maxItems }),
      () => registry.listAliases('fn', { MaxItems: maxItems }),
    ]) {
      expect(failure(work)).toMatchObject({ code: 'ValidationException', message });
    }
  });

  it('FunctionVersion is ALL or absent', () => {
    const { registry } = openRegistry();
    expect(failure(() => registry.listFunctions({ FunctionVersion: 'SOME' }))).toMatchObject({
      code: 'ValidationException',
      message: validation('SOME', 'functionVersion', 'Member must satisfy enum value set: [ALL]'),
    });
  });

  it('a marker is one the registry handed out', () => {
    const { registry } = openRegistry();
    expect(failure(() => registry.listFunctions({ Marker: 'not-a-marker' }))).toMatchObject({
      code: 'InvalidParameterValueException',
      message: 'Invalid marker: not-a-marker',
    });
  });
});

describe('version and deletion rules', () => {
  it('PublishVersion CodeSha256 must be $LATEST’s', () => {
    const { registry } = openRegistry();
    const { CodeSha256 } = registry.createFunction(functionInput('fn'));
    const wrong = 'FpFMvUhayLkOoVBpNuNiIVML/tuGv2iJQ7t0yWVTU8c=';
    expect(failure(() => registry.publishVersion('fn', { CodeSha256: wrong }))).toMatchObject({
      code: 'InvalidParameterValueException',
      message: `CodeSHA256 (${wrong}) is different from current CodeSHA256 in $LATEST (${CodeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
    });
  });

  it('$LATEST cannot be deleted on its own', () => {
    const { registry } = openRegistry();
    registry.createFunction(functionInput('fn'));
    expect(failure(() => registry.deleteFunction('fn', '$LATEST'))).toMatchObject({
      code: 'InvalidParameterValueException',
      message: '$LATEST version cannot be deleted without deleting the function.',
    });
  });

  it('an alias is deleted with DeleteAlias, not DeleteFunction', () => {
    const { registry } = openRegistry();
    registry.createFunction(functionInput('fn'));
    registry.createAlias('fn', { Name: 'live', FunctionVersion: '$LATEST' });
    expect(failure(() => registry.deleteFunction('fn', 'live'))).toMatchObject({
      code: 'InvalidParameterValueException',
      message: 'Deletion of aliases is not supported.',
    });
  });

  it('a version an alias uses, as primary or additional version, cannot be deleted', () => {
    const { registry } = openRegistry();
    registry.createFunction(functionInput('fn'));
    registry.publishVersion('fn');
    registry.updateFunctionConfiguration('fn', { Timeout: 10 });
    registry.publishVersion('fn');
    registry.createAlias('fn', { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } });
    registry.createAlias('fn', { Name: 'beta', FunctionVersion: '2' });
    expect(failure(() => registry.deleteFunction('fn', '1'))).toMatchObject({
      code: 'ResourceConflictException',
      message: 'Unable to delete version because the following aliases reference it: [live]',
    });
    expect(failure(() => registry.deleteFunction('fn', '2'))).toMatchObject({
      code: 'ResourceConflictException',
      message: 'Unable to delete version because the following aliases reference it: [beta, live]',
    });
    expect(registry.listVersionsByFunction('fn').Versions.map((v) => v.Version)).toEqual(['$LATEST', '1', '2']);
  });

  it('update operations act on the function, not a qualified name', () => {
    const { registry } = openRegistry();
    registry.createFunction(functionInput('fn'));
    expect(failure(() => registry.updateFunctionConfiguration('fn:1', { Timeout: 5 }))).toMatchObject({
      code: 'InvalidParameterValueException',
      message: 'Unsupported function name: fn:1',
    });
  });
});
