/** The one errors table: every row is raised somewhere, and errors carry their row. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERRORS, LambdaError, validationError } from '../dist/daemon/errors.js';

const SOURCES = ['../daemon', '../protocol'].map((path) => fileURLToPath(new URL(path, import.meta.url)));

function sources(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : sources(path);
    return path.endsWith('.ts') && !path.endsWith('errors.ts') ? [readFileSync(path, 'utf8')] : [];
  });
}

describe('errors table', () => {
  it('has no row that nothing raises', () => {
    const code = SOURCES.flatMap(sources).join('\n');
    const helpers: Record<string, string[]> = {
      ValidationException: ['validationError('],
      InvalidParameterValueException: ['invalidParameter('],
      ResourceNotFoundException: ['notFound('],
      ResourceConflictException: ['conflict('],
      PreconditionFailedException: ['revisionMismatch('],
    };
    for (const name of Object.keys(ERRORS)) {
      const spellings = [`'${name}'`, ...(helpers[name] ?? [])];
      expect(spellings.some((spelling) => code.includes(spelling)), name).toBe(true);
    }
  });

  it('gives each error its status, Type and message member', () => {
    const error = new LambdaError('ResourceNotFoundException', 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope');
    expect(error.row).toEqual({ status: 404, type: 'User', messageField: 'Message' });
    expect(error.name).toBe('ResourceNotFoundException');
    expect(validationError('x y', 'handler', 'Member must satisfy regular expression pattern: [^\\s]+').message).toBe(
      "1 validation error detected: Value 'x y' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+",
    );
  });
});
