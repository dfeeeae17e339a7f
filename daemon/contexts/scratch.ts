/**
 * Removal of the contexts' temporary directories. Their contents are the functions' own: a function may leave
 * files its owner cannot delete (a directory without write permission), so removal must never throw.
 */
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { chmod, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Gives the owner full rights on everything below `directory`, so it can be removed. */
async function grantOwner(directory: string): Promise<void> {
  await chmod(directory, 0o700).catch(() => undefined);
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  await Promise.all(entries.filter((entry) => entry.isDirectory()).map((entry) => grantOwner(join(directory, entry.name))));
}

/** Removes a context's directory in the background of the main thread; never rejects. */
export async function removeTree(directory: string): Promise<void> {
  try {
    await rm(directory, { recursive: true, force: true });
  } catch {
    await grantOwner(directory);
    await rm(directory, { recursive: true, force: true }).catch(() => undefined);
  }
}

function grantOwnerSync(directory: string): void {
  try {
    chmodSync(directory, 0o700);
    for (const entry of readdirSync(directory, { withFileTypes: true })) if (entry.isDirectory()) grantOwnerSync(join(directory, entry.name));
  } catch {
    // What cannot be opened up is left for the rename below.
  }
}

/** At start: an empty `directory`, whatever an earlier daemon process left in it. */
export function resetDirectory(directory: string): void {
  try {
    rmSync(directory, { recursive: true, force: true });
  } catch {
    grantOwnerSync(directory);
    try {
      rmSync(directory, { recursive: true, force: true });
    } catch {
      // Out of the way, then: a stale directory must not keep the daemon from starting.
      renameSync(directory, `${directory}.stale-${Date.now()}`);
    }
  }
  mkdirSync(directory, { recursive: true });
}
