/**
 * Pages of the List operations. A NextMarker is opaque to callers: the sort key of the last item returned,
 * as base64url JSON. A page is read with one extra row, which tells whether another page follows.
 */
import { invalidParameter } from '../errors.js';
import { checkMaxItems } from './validation.js';

export interface PageOf<T> {
  readonly items: T[];
  readonly nextMarker?: string;
}

/** The page size: MaxItems (checked), capped by what the operation answers at most. */
export function pageSize(maxItems: unknown, cap: number): number {
  return Math.min(checkMaxItems(maxItems) ?? cap, cap);
}

/** Splits `rows` (read with `size + 1`) into a page and the marker of what follows. */
export function toPage<T>(rows: T[], size: number, keyOf: (row: T) => unknown): PageOf<T> {
  if (rows.length <= size) return { items: rows };
  const items = rows.slice(0, size);
  return { items, nextMarker: Buffer.from(JSON.stringify(keyOf(items[items.length - 1]!))).toString('base64url') };
}

/** The key a marker holds; `isKey` says whether it is one of this list's. */
export function readMarker<K>(marker: string | undefined, start: K, isKey: (key: unknown) => key is K): K {
  if (marker === undefined || marker === '') return start;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (!isKey(key)) throw invalidParameter(`Invalid marker: ${marker}`);
  return key;
}

export const isNumberKey = (key: unknown): key is number => Number.isSafeInteger(key);
export const isStringKey = (key: unknown): key is string => typeof key === 'string';
export const isNameAndNumberKey = (key: unknown): key is [string, number] =>
  Array.isArray(key) && key.length === 2 && typeof key[0] === 'string' && Number.isSafeInteger(key[1]);
