/**
 * Structured parameter values as the AWS CLI reads them: JSON when the value starts with `{`, else
 * shorthand (`Variables={A=1,B=x}`, `AdditionalVersionWeights={"2"=0.02}`), then checked and typed against the
 * parameter's shape (shorthand values are all strings until the shape says what they are).
 */

/** What a structured parameter holds. */
export type Shape =
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  | { readonly map: Shape }
  | { readonly list: Shape }
  | { readonly struct: Readonly<Record<string, Shape>> };

/** A value that does not parse or does not fit its shape; the message is the AWS CLI's wording. */
export class ShapeError extends Error {}

type Tree = string | string[] | { [key: string]: Tree };

/** Recursive descent over the shorthand grammar: `key=value,…` with `{…}` maps and quoted strings. */
class ShorthandParser {
  readonly #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
  }

  parse(): Tree {
    const result = this.#keyValues('');
    this.#space();
    if (this.#at < this.#text.length) this.#fail(`','`);
    return result;
  }

  #keyValues(closing: string): Record<string, Tree> {
    const result: Record<string, Tree> = {};
    this.#space();
    if (closing !== '' && this.#peek() === closing) return result;
    for (;;) {
      const key = this.#key();
      this.#space();
      this.#expect('=');
      result[key] = this.#value(closing);
      this.#space();
      // `Ids=a,b,Other=c`: words after a comma that are not `key=` continue the value as a list, as the AWS CLI reads them.
      while (this.#peek() === ',' && !this.#keyFollows(closing)) {
        this.#at += 1;
        const previous = result[key]!;
        result[key] = [...(Array.isArray(previous) ? previous : [previous as string]), this.#bare(closing)];
        this.#space();
      }
      if (this.#peek() !== ',') return result;
      this.#at += 1;
      this.#space();
    }
  }

  #key(): string {
    const quote = this.#peek();
    if (quote === '"' || quote === "'") return this.#quoted(quote);
    const start = this.#at;
    while (this.#at < this.#text.length && /[\w\-.#/:$]/.test(this.#text[this.#at]!)) this.#at += 1;
    if (this.#at === start) this.#fail('a key');
    return this.#text.slice(start, this.#at);
  }

  #value(closing: string): Tree {
    this.#space();
    const next = this.#peek();
    if (next === '{') {
      this.#at += 1;
      const map = this.#keyValues('}');
      this.#space();
      this.#expect('}');
      return map;
    }
    if (next === '"' || next === "'") return this.#quoted(next);
    return this.#bare(closing);
  }

  /** Whether the text after the comma at the cursor starts a `key=`. */
  #keyFollows(closing: string): boolean {
    const rest = this.#text.slice(this.#at + 1);
    const end = rest.search(closing === '' ? /,/ : new RegExp(`[,${closing === '}' ? '\\}' : closing}]`));
    const token = end < 0 ? rest : rest.slice(0, end);
    return token.includes('=');
  }

  /** A value up to the next `,` (unless escaped as `\,`) or the closing bracket. */
  #bare(closing: string): string {
    let value = '';
    while (this.#at < this.#text.length) {
      const char = this.#text[this.#at]!;
      if (char === ',' || (closing !== '' && char === closing)) break;
      if (char === '\\' && this.#text[this.#at + 1] === ',') {
        value += ',';
        this.#at += 2;
        continue;
      }
      value += char;
      this.#at += 1;
    }
    return value.trim();
  }

  #quoted(quote: string): string {
    this.#at += 1;
    let value = '';
    while (this.#at < this.#text.length && this.#text[this.#at] !== quote) {
      if (this.#text[this.#at] === '\\' && this.#at + 1 < this.#text.length) this.#at += 1;
      value += this.#text[this.#at];
      this.#at += 1;
    }
    this.#expect(quote);
    return value;
  }

  #peek(): string | undefined {
    return this.#text[this.#at];
  }

  #space(): void {
    while (this.#at < this.#text.length && /\s/.test(this.#text[this.#at]!)) this.#at += 1;
  }

  #expect(char: string): void {
    if (this.#peek() !== char) this.#fail(`'${char}'`);
    this.#at += 1;
  }

  #fail(expected: string): never {
    const received = this.#at < this.#text.length ? `'${this.#text[this.#at]}'` : `'EOF'`;
    throw new ShapeError(`Expected: ${expected}, received: ${received} for input:\n${this.#text}\n${' '.repeat(this.#at)}^`);
  }
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'map' : typeof value;
}

function invalidType(path: string, value: unknown, expected: string): ShapeError {
  return new ShapeError(`Invalid type for parameter ${path}, value: ${JSON.stringify(value)}, type: ${typeName(value)}, valid types: ${expected}`);
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Checks `value` (from JSON or shorthand) against `shape`, turning shorthand strings into numbers and booleans. */
function conform(value: unknown, shape: Shape, path: string): unknown {
  if (shape === 'string') {
    if (typeof value !== 'string') throw invalidType(path, value, 'string');
    return value;
  }
  if (shape === 'integer' || shape === 'number') {
    const number = typeof value === 'string' && NUMBER.test(value.trim()) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isFinite(number) || (shape === 'integer' && !Number.isSafeInteger(number))) {
      throw invalidType(path, value, shape);
    }
    return number;
  }
  if (shape === 'boolean') {
    // As the AWS CLI reads a shorthand boolean: `true` or `false`, in any case.
    const flag = typeof value === 'string' && /^(true|false)$/i.test(value.trim()) ? value.trim().toLowerCase() === 'true' : value;
    if (typeof flag !== 'boolean') throw invalidType(path, value, 'boolean');
    return flag;
  }
  if ('list' in shape) {
    const items = Array.isArray(value) ? value : typeof value === 'string' ? [value] : null;
    if (items === null) throw invalidType(path, value, 'list');
    return items.map((item, index) => conform(item, shape.list, `${path}[${index}]`));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidType(path, value, 'map');
  const entries = Object.entries(value);
  if ('map' in shape) return Object.fromEntries(entries.map(([key, item]) => [key, conform(item, shape.map, `${path}.${key}`)]));
  const members = Object.keys(shape.struct);
  return Object.fromEntries(
    entries.map(([key, item]) => {
      const member = shape.struct[key];
      if (member === undefined) throw new ShapeError(`Unknown parameter in ${path}: "${key}", must be one of: ${members.join(', ')}`);
      return [key, conform(item, member, `${path}.${key}`)];
    }),
  );
}

/**
 * Reads a structured parameter: JSON if it starts with `{`, shorthand otherwise, conformed to `shape`
 * (`path` names the parameter in messages, e.g. `Environment`).
 */
export function readStructured(text: string, shape: Shape, path: string): unknown {
  const trimmed = text.trim();
  let tree: unknown;
  if (trimmed.startsWith('{')) {
    try {
      tree = JSON.parse(trimmed);
    } catch (error) {
      throw new ShapeError(`Invalid JSON: ${(error as Error).message}\nJSON received: ${trimmed}`);
    }
  } else {
    tree = new ShorthandParser(trimmed).parse();
  }
  return conform(tree, shape, path);
}
