/**
 * Fills a runner's /var/task or /opt from the stored code: hard links where the filesystem allows (no bytes
 * copied, and the mount is read-only inside the sandbox), copies where it does not. Layers are laid one after
 * another, a later one replacing an earlier one's files, as Lambda unzips them into /opt. Nothing is ever
 * followed: a symbolic link is copied as a link, and one that stands where a later layer has a directory is
 * replaced by that directory, so no write can leave the target through a link the code shipped.
 */
import { copyFile, link, lstat, mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';

export async function linkTree(source: string, target: string): Promise<void> {
  await makeDirectory(target);
  const entries = await readdir(source, { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const from = join(source, entry.name);
      const to = join(target, entry.name);
      if (entry.isDirectory()) return linkTree(from, to);
      const existing = await lstat(to).catch(() => null);
      if (existing !== null) await rm(to, { recursive: true, force: true });
      if (entry.isSymbolicLink()) return symlink(await readlink(from), to);
      if (!entry.isFile()) return undefined;
      await link(from, to).catch(() => copyFile(from, to));
      return undefined;
    }),
  );
}

/** `directory` as a real directory: whatever else stands there (a link, a file) is removed first. */
async function makeDirectory(directory: string): Promise<void> {
  const existing = await lstat(directory).catch(() => null);
  if (existing?.isDirectory()) return;
  if (existing !== null) await rm(directory, { force: true });
  await mkdir(directory, { recursive: true });
}
