/**
 * CloudWatch Logs filter patterns, the text form (FilterLogEvents, `aws logs tail --filter-pattern`): terms
 * that must all appear (`ERROR timeout`), phrases in double quotes (`"Task timed out"`), terms of which at
 * least one must appear (`?ERROR ?WARN`), and terms that must not (`-DEBUG`). Matching is case-sensitive, as on
 * CloudWatch. JSON (`{ $.level = … }`) and space-delimited (`[ip, …]`) patterns are refused with a clear error.
 */
import { invalidParameter } from '../errors.js';

export type LogFilter = (message: string) => boolean;

const TOKEN = /\s*(?:([?-]?)"((?:[^"\\]|\\.)*)"|([?-]?)(\S+))/y;

export function compileFilterPattern(pattern: string | undefined): LogFilter | null {
  if (pattern === undefined || pattern.trim() === '') return null;
  const text = pattern.trim();
  if (text.startsWith('{') || text.startsWith('[')) {
    throw invalidParameter('lambdad supports text filter patterns (terms, "phrases", ?any-of, -excluded), not JSON or space-delimited ones.');
  }
  const all: string[] = [];
  const any: string[] = [];
  const none: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const match = TOKEN.exec(text);
    if (match === null) throw invalidParameter(`Invalid filter pattern: ${pattern}`);
    const prefix = match[1] ?? match[3] ?? '';
    const term = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[4]!;
    (prefix === '?' ? any : prefix === '-' ? none : all).push(term);
  }
  return (message) =>
    all.every((term) => message.includes(term)) && (any.length === 0 || any.some((term) => message.includes(term))) && !none.some((term) => message.includes(term));
}
