// Generates protocol/generated/types.ts from protocol/lambdad.proto, so the TypeScript types of the
// protocol are never written by hand. Run by `npm run build` before tsc.
import { mkdirSync, writeFileSync } from 'node:fs';
import protobuf from 'protobufjs';

const PROTO = new URL('./lambdad.proto', import.meta.url);
const OUTPUT = new URL('./generated/types.ts', import.meta.url);
const DESCRIPTOR = new URL('./generated/descriptor.ts', import.meta.url);

const root = protobuf.loadSync(PROTO.pathname).resolveAll();
const pkg = root.lookup('lambdad.v1');

const SCALARS = {
  string: 'string',
  bool: 'boolean',
  bytes: 'Uint8Array',
  double: 'number',
  float: 'number',
  int32: 'number',
  uint32: 'number',
  sint32: 'number',
  int64: 'number',
  uint64: 'number',
  sint64: 'number',
  fixed32: 'number',
  fixed64: 'number',
};

function typeOf(field) {
  const base = SCALARS[field.type] ?? field.resolvedType.name;
  if (field.map) return `Record<string, ${base}>`;
  if (field.repeated) return `${base}[]`;
  return base;
}

const lines = [
  '// Generated from protocol/lambdad.proto by protocol/generate-types.mjs. Do not edit.',
  '/* eslint-disable */',
  '',
];

const messages = pkg.nestedArray.filter((nested) => nested instanceof protobuf.Type);
for (const type of messages) {
  const comment = type.comment ? `/** ${type.comment.replace(/\n/g, ' ')} */\n` : '';
  lines.push(`${comment}export interface ${type.name} {`);
  for (const field of type.fieldsArray) {
    // proto3 `optional`, repeated and map fields, and members of a real oneof may be absent.
    const optional = field.options?.proto3_optional || field.repeated || field.map || (field.partOf !== null && !field.partOf.name.startsWith('_'));
    lines.push(`  ${field.name}${optional ? '?' : ''}: ${typeOf(field)};`);
  }
  lines.push('}', '');
}

const request = pkg.lookupType('Request');
const response = pkg.lookupType('Response');
const operations = request.oneofs.operation.fieldsArray.map((field) => field.name);
lines.push('/** Every operation of the protocol, with its input and output message. */');
lines.push('export interface Operations {');
for (const name of operations) {
  const output = response.fields[name];
  if (output === undefined) throw new Error(`operation ${name} has no result in Response`);
  lines.push(`  ${name}: { input: ${request.fields[name].resolvedType.name}; output: ${output.resolvedType.name} };`);
}
lines.push('}', '');
lines.push('export type Operation = keyof Operations;', '');
lines.push(`export const OPERATIONS: readonly Operation[] = Object.freeze(${JSON.stringify(operations)});`, '');
const pushes = pkg.lookupType('Push').oneofs.event.fieldsArray.map((field) => field.name);
lines.push(`export type PushEvent = ${pushes.map((name) => JSON.stringify(name)).join(' | ')};`, '');

mkdirSync(new URL('./generated/', import.meta.url), { recursive: true });
writeFileSync(OUTPUT, `${lines.join('\n')}`);
// The schema as protobufjs JSON, so the codecs need no file access (and run in a browser).
writeFileSync(
  DESCRIPTOR,
  `// Generated from protocol/lambdad.proto by protocol/generate-types.mjs. Do not edit.\nexport const DESCRIPTOR = ${JSON.stringify(root.toJSON(), null, 2)};\n`,
);
