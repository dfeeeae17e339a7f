/**
 * Execution-role sessions: the temporary credentials lambdad gives each execution context for its function's
 * role, as Lambda gets them from STS — an `ASIA…` access key, a secret and a session token, valid for a while.
 * The daemon's own keys never reach a function. A session may use the data plane only (authorization.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';

/** How long a session is valid: STS's default for an assumed role. */
export const SESSION_DURATION_MS = 60 * 60 * 1000;
/** A warm context whose session has less than this left is replaced, so no invocation starts with a session about to expire. */
export const SESSION_RENEW_MARGIN_MS = 5 * 60 * 1000;
/** Expired sessions are still recognised (and refused as expired) this long, then forgotten. */
const EXPIRED_KEPT_MS = 60 * 60 * 1000;

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export interface RoleSession {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** `arn:aws:sts::<account>:assumed-role/<role name>/<function name>`: who the session acts as. */
  readonly principalArn: string;
}

export class RoleSessions {
  readonly #clock: Clock;
  readonly #sessions = new Map<string, RoleSession>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** A new session of `roleArn` named after the function, as Lambda names its role sessions. */
  issue(roleArn: string, functionName: string): RoleSession {
    this.#forgetExpired();
    const [, , , , account = '', resource = ''] = roleArn.split(':');
    const roleName = resource.slice(resource.lastIndexOf('/') + 1);
    const session: RoleSession = {
      // "ASIA" + 16 base32 characters: the look of an AWS temporary access key id.
      accessKeyId: `ASIA${[...randomBytes(16)].map((byte) => KEY_ALPHABET[byte % 32]).join('')}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(96).toString('base64'),
      expiresAt: this.#clock.now() + SESSION_DURATION_MS,
      principalArn: `arn:aws:sts::${account}:assumed-role/${roleName}/${functionName}`,
    };
    this.#sessions.set(session.accessKeyId, session);
    return session;
  }

  find(accessKeyId: string): RoleSession | undefined {
    return this.#sessions.get(accessKeyId);
  }

  isExpired(session: RoleSession): boolean {
    return this.#clock.now() >= session.expiresAt;
  }

  #forgetExpired(): void {
    const cutoff = this.#clock.now() - EXPIRED_KEPT_MS;
    for (const [key, session] of this.#sessions) if (session.expiresAt < cutoff) this.#sessions.delete(key);
  }
}
