/**
 * How deep JSON text nests its arrays and objects, found by a scan of the bytes without parsing or recursion,
 * so that a body nested 100,000 deep is refused before JSON.parse and the schema checks (which recurse) see it.
 * Strings are skipped whole (a quote preceded by an even number of backslashes ends one): brackets inside them
 * do not count, and a 70 MB base64 member costs a few `indexOf` calls. UTF-8 never uses bytes below 0x80
 * inside a multi-byte character, so the scan is exact on the raw bytes.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** True when some array or object in `text` sits more than `limit` levels deep. Malformed text is left to the parser. */
export function nestsDeeperThan(text: Uint8Array, limit: number): boolean {
  let depth = 0;
  for (let index = 0; index < text.length; index += 1) {
    const byte = text[index];
    if (byte === QUOTE) {
      index = closingQuote(text, index);
      if (index < 0) return false;
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      depth += 1;
      if (depth > limit) return true;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth -= 1;
    }
  }
  return false;
}

/** The index of the quote that ends the string opening at `start`; -1 when it never ends. */
function closingQuote(text: Uint8Array, start: number): number {
  for (let quote = text.indexOf(QUOTE, start + 1); quote >= 0; quote = text.indexOf(QUOTE, quote + 1)) {
    let backslashes = 0;
    while (text[quote - 1 - backslashes] === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote;
  }
  return -1;
}
