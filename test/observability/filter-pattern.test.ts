/** CloudWatch text filter patterns: all terms, phrases, any-of, excluded terms; JSON patterns refused. */
import { describe, expect, it } from 'vitest';
import { compileFilterPattern } from '../../dist/daemon/observability/filter-pattern.js';

const matches = (pattern: string, message: string): boolean => compileFilterPattern(pattern)!(message);

describe('filter patterns', () => {
  it('needs every plain term, case-sensitively', () => {
    expect(matches('ERROR timeout', 'ERROR: request timeout')).toBe(true);
    expect(matches('ERROR timeout', 'ERROR: request failed')).toBe(false);
    expect(matches('error', 'ERROR')).toBe(false);
  });

  it('takes "quoted phrases" whole, ?terms as any-of and -terms as excluded', () => {
    expect(matches('"Task timed out"', 'Task timed out after 3.00 seconds')).toBe(true);
    expect(matches('"Task timed out"', 'Task out timed')).toBe(false);
    expect(matches('?WARN ?ERROR', 'an ERROR here')).toBe(true);
    expect(matches('?WARN ?ERROR', 'INFO only')).toBe(false);
    expect(matches('REPORT -"Init Duration"', 'REPORT RequestId: 1\tDuration: 1 ms')).toBe(true);
    expect(matches('REPORT -"Init Duration"', 'REPORT RequestId: 1\tInit Duration: 1 ms')).toBe(false);
  });

  it('matches everything when empty, and refuses JSON and space-delimited patterns by name', () => {
    expect(compileFilterPattern('')).toBeNull();
    expect(compileFilterPattern(undefined)).toBeNull();
    expect(() => compileFilterPattern('{ $.level = "ERROR" }')).toThrow(expect.objectContaining({ code: 'InvalidParameterValueException' }));
    expect(() => compileFilterPattern('[ip, user, ...]')).toThrow(expect.objectContaining({ code: 'InvalidParameterValueException' }));
  });
});
