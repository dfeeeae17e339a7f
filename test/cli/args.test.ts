/** The CLI's parameter reading: the AWS CLI's shorthand and JSON, typed by shape; flags as the AWS CLI takes them. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memberName, parseFlags, toInput, UsageError, type Flags } from '../../dist/clients/cli/args.js';
import { readStructured, ShapeError, type Shape } from '../../dist/clients/cli/shorthand.js';

const ENVIRONMENT: Shape = { struct: { Variables: { map: 'string' } } };
const ROUTING: Shape = { struct: { AdditionalVersionWeights: { map: 'number' } } };

describe('readStructured', () => {
  it('reads shorthand maps, with bare, quoted and escaped values', () => {
    expect(readStructured('Variables={A=1,B=x}', ENVIRONMENT, 'Environment')).toEqual({ Variables: { A: '1', B: 'x' } });
    expect(readStructured(`Variables={URL=http://h/?a=b,Q="a,b",S='c d',E=x\\,y,EMPTY=}`, ENVIRONMENT, 'Environment')).toEqual({
      Variables: { URL: 'http://h/?a=b', Q: 'a,b', S: 'c d', E: 'x,y', EMPTY: '' },
    });
    expect(readStructured(' Variables = { A = 1 } ', ENVIRONMENT, 'Environment')).toEqual({ Variables: { A: '1' } });
  });

  it('reads the routing config as the shell leaves it, quoted, as JSON, and empty', () => {
    for (const text of ['AdditionalVersionWeights={2=0.02}', 'AdditionalVersionWeights={"2"=0.02}', `AdditionalVersionWeights={'2'=2e-2}`, '{"AdditionalVersionWeights":{"2":0.02}}']) {
      expect(readStructured(text, ROUTING, 'RoutingConfig'), text).toEqual({ AdditionalVersionWeights: { '2': 0.02 } });
    }
    expect(readStructured('AdditionalVersionWeights={}', ROUTING, 'RoutingConfig')).toEqual({ AdditionalVersionWeights: {} });
  });

  it('reads booleans as the AWS CLI does: true or false in any case, or JSON booleans', () => {
    const VPC: Shape = { struct: { SubnetIds: { list: 'string' }, Ipv6AllowedForDualStack: 'boolean' } };
    expect(readStructured('SubnetIds=subnet-a,subnet-b,Ipv6AllowedForDualStack=True', VPC, 'VpcConfig')).toEqual({ SubnetIds: ['subnet-a', 'subnet-b'], Ipv6AllowedForDualStack: true });
    expect(readStructured('{"Ipv6AllowedForDualStack":false}', VPC, 'VpcConfig')).toEqual({ Ipv6AllowedForDualStack: false });
    expect(() => readStructured('Ipv6AllowedForDualStack=yes', VPC, 'VpcConfig')).toThrow('Invalid type for parameter VpcConfig.Ipv6AllowedForDualStack, value: "yes", type: string, valid types: boolean');
  });

  it('refuses what does not parse or does not fit the shape, in the AWS CLI words', () => {
    const error = (text: string, shape: Shape = ENVIRONMENT): string => {
      try {
        readStructured(text, shape, 'Environment');
      } catch (caught) {
        expect(caught).toBeInstanceOf(ShapeError);
        return (caught as Error).message;
      }
      throw new Error(`${text} was accepted`);
    };
    expect(error('Variables={A=1')).toBe("Expected: '}', received: 'EOF' for input:\nVariables={A=1\n              ^");
    expect(error('Variables')).toMatch(/^Expected: '=', received: 'EOF'/);
    expect(error('Variables={A=1}}')).toMatch(/^Expected: ',', received: '}'/);
    expect(error('{"Variables":{"A":1}}')).toBe('Invalid type for parameter Environment.Variables.A, value: 1, type: number, valid types: string');
    expect(error('Variables=x')).toBe('Invalid type for parameter Environment.Variables, value: "x", type: string, valid types: map');
    expect(error('Vars={}')).toBe('Unknown parameter in Environment: "Vars", must be one of: Variables');
    expect(error('{"Variables":')).toMatch(/^Invalid JSON: /);
    expect(error('AdditionalVersionWeights={2=half}', ROUTING)).toMatch(/^Invalid type for parameter Environment.AdditionalVersionWeights.2, value: "half"/);
  });
});

describe('parseFlags', () => {
  const flags: Flags = {
    'function-name': { type: 'string', required: true, help: '' },
    'memory-size': { type: 'integer', help: '' },
    publish: { type: 'boolean', help: '' },
    architectures: { type: 'list', help: '' },
    payload: { type: 'blob', help: '' },
    code: { type: 'directory', member: 'Directory', help: '' },
    environment: { type: { shape: ENVIRONMENT }, help: '' },
  };

  it('names members as the API does and reads every kind of value', () => {
    expect(memberName('code-sha256')).toBe('CodeSha256');
    const dir = mkdtempSync(join(tmpdir(), 'lambdad-args-'));
    try {
      writeFileSync(join(dir, 'env.json'), '{"Variables":{"FROM":"file"}}');
      const { values, positionals } = parseFlags(
        ['--function-name', 'f', '--memory-size=256', '--no-publish', '--architectures', 'arm64', 'x86_64', '--payload', `fileb://${join(dir, 'env.json')}`, '--code', 'src', '--environment', `file://${join(dir, 'env.json')}`, '--', 'out.json'],
        flags,
      );
      expect(positionals).toEqual(['out.json']);
      const input = toInput(values, flags);
      expect(input).toEqual({
        FunctionName: 'f',
        MemorySize: 256,
        Publish: false,
        Architectures: ['arm64', 'x86_64'],
        Payload: Buffer.from('{"Variables":{"FROM":"file"}}'),
        Directory: resolve('src'),
        Environment: { Variables: { FROM: 'file' } },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses with a message naming the flag', () => {
    const message = (args: string[]): string => {
      try {
        parseFlags(args, flags);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error(`${args.join(' ')} was accepted`);
    };
    expect(message([])).toBe('the following arguments are required: --function-name');
    expect(message(['--function-name', 'f', '--memory-size', '1.5'])).toBe("Error parsing parameter '--memory-size': expected an integer, got '1.5'");
    expect(message(['--function-name', 'f', '--publish=yes'])).toBe("argument --publish: ignored explicit argument 'yes'");
    expect(message(['--function-name', 'f', '--memory'])).toBe('Unknown options: --memory');
    expect(message(['--function-name'])).toBe('argument --function-name: expected one argument');
    expect(message(['--function-name', 'f', '--environment', 'Variables={'])).toMatch(/^Error parsing parameter '--environment': Expected: /);
  });
});
