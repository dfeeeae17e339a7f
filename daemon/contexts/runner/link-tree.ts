/**
 * Fills a runner's /var/task or /opt from the stored code: hard links where the filesystem allows (no bytes
 * copied, and the mount is read-only inside the sandbox), copies where it does not. Layers are laid one after
 * another, a later one replacing an earlier one's files, as Lambda unzips them into /opt.
 */
import { copyFile, link, lstat, mkdir, readdir, readlink, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export async function linkTree(source: string, target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  const entries = await readdir(source, { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const from = join(source, entry.name);
      const to = join(target, entry.name);
      if (entry.isDirectory()) return linkTree(from, to);
      const existing = await lstat(to).catch(() => null);
      if (existing !== null && !existing.isDirectory()) await unlink(to);
      if (entry.isSymbolicLink()) return symlink(await readlink(from), to);
      if (!entry.isFile()) return undefined;
      await link(from, to).catch(() => copyFile(from, to));
      return undefined;
    }),
  );
}
