/**
 * protocol/README.md stays true: its operations table is the schema's, and the bytes of its worked example
 * are what the daemon's own codecs read and write.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { msgpackCodec, protobufCodec } from '../../dist/protocol/codec.js';
import { DESCRIPTOR } from '../../dist/protocol/generated/descriptor.js';
import { LIMITS } from '../../dist/daemon/limits.js';

const readme = readFileSync(new URL('../../protocol/README.md', import.meta.url), 'utf8');

interface MessageDescriptor {
  readonly fields: Record<string, { readonly type: string; readonly id: number }>;
  readonly oneofs?: Record<string, { readonly oneof: readonly string[] }>;
}
const messages = (DESCRIPTOR as unknown as { nested: { lambdad: { nested: { v1: { nested: Record<string, MessageDescriptor> } } } } }).nested.lambdad.nested.v1.nested;

/** The bytes of each ```hexdump block: the hex pairs that start each line, before its annotation. */
function hexdumps(): Buffer[] {
  return [...readme.matchAll(/```hexdump\n([\s\S]*?)```/g)].map(([, body]) => {
    const hex = body!
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const bytes = /^((?:[0-9a-f]{2} )*[0-9a-f]{2})(?: {2,}.*)?$/.exec(line);
        expect(bytes, `hexdump line: ${line}`).not.toBeNull();
        return bytes![1]!.replace(/ /g, '');
      })
      .join('');
    return Buffer.from(hex, 'hex');
  });
}

const encoder = new TextEncoder();
const REQUEST = { id: 1, Invoke: { FunctionName: 'my-function', Payload: encoder.encode('{"key":"value"}') } };
const RESPONSE = {
  response: { id: 1, Invoke: { StatusCode: 200, RequestId: 'a908b319-936a-4c5a-a196-9a1b9c95f377', Payload: encoder.encode('{"count":1}'), ExecutedVersion: '$LATEST' } },
};
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('protocol/README.md', () => {
  it('lists every operation of the schema with its field number, input and output', () => {
    const request = messages.Request!;
    const response = messages.Response!;
    const operations = request.oneofs!.operation!.oneof;
    for (const operation of operations) {
      const input = request.fields[operation]!;
      const output = response.fields[operation]!;
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${operation}\` |`));
      expect(row, operation).toBeDefined();
      expect(row).toContain(`| ${input.id} | \`${input.type}\` | \`${output.type}\``);
    }
    const table = readme.slice(readme.indexOf('### Operations'), readme.indexOf('\n## ', readme.indexOf('### Operations')));
    const documented = [...table.matchAll(/^\| `(\w+)` \| \d+ \|/gm)].map(([, name]) => name);
    expect(documented).toEqual(operations);
  });

  it('states the frame size limit the server enforces', () => {
    expect(readme).toContain(`${(LIMITS.zippedCodeMaxBytes + 64 * 1024).toLocaleString('en-US')} bytes`);
  });

  it('shows the worked example as the codecs read and write it', () => {
    const [msgpackRequest, msgpackResponse, protobufRequest, protobufResponse, ...rest] = hexdumps();
    expect(rest).toEqual([]);

    // The request as a generic msgpack library writes it (fixmaps); the SDK writes map16 headers instead.
    expect(readme).toContain(`(${msgpackRequest!.length} bytes)`);
    expect(msgpackCodec.decodeRequest(msgpackRequest!)).toEqual({ request: { id: 1, Invoke: { FunctionName: 'my-function', Payload: Buffer.from(REQUEST.Invoke.Payload) } }, operation: 'Invoke' });
    expect(hex(msgpackCodec.encodeRequest(REQUEST))).toBe(hex(msgpackRequest!).replaceAll('82', 'de0002'));
    // The answer, byte for byte as the server encodes it.
    expect(hex(msgpackCodec.encodeServerMessage(RESPONSE))).toBe(hex(msgpackResponse!));

    expect(hex(protobufCodec.encodeRequest(REQUEST))).toBe(hex(protobufRequest!));
    expect(protobufCodec.decodeRequest(protobufRequest!).operation).toBe('Invoke');
    expect(hex(protobufCodec.encodeServerMessage(RESPONSE))).toBe(hex(protobufResponse!));
  });
});
