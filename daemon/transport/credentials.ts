/**
 * The daemon's one set of credentials, for every interface: from LAMBDAD_ACCESS_KEY_ID /
 * LAMBDAD_SECRET_ACCESS_KEY when given, otherwise generated at first start and kept, readable by the owner
 * only, in `<data dir>/credentials.json` — where local clients find them.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const CREDENTIALS_FILE = 'credentials.json';
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function generate(): Credentials {
  const bytes = randomBytes(18);
  // "LK" + 18 base32 characters: the length and look of an AWS access key id.
  const id = [...bytes].map((byte) => KEY_ALPHABET[byte % 32]).join('');
  return { accessKeyId: `LK${id}`, secretAccessKey: randomBytes(30).toString('base64') };
}

export function daemonCredentials(config: Pick<Config, 'credentials' | 'dataDir'>): Credentials {
  if (config.credentials !== null) return config.credentials;
  const file = join(config.dataDir, CREDENTIALS_FILE);
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Credentials>;
    if (typeof stored.accessKeyId === 'string' && typeof stored.secretAccessKey === 'string') {
      chmodSync(file, 0o600);
      return { accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey };
    }
  }
  const credentials = generate();
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return credentials;
}
