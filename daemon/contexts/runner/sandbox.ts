/**
 * The filesystem and namespaces a runner process sees, as bubblewrap arguments: Lambda's layout (/var/task the
 * code, read-only and the working directory; /opt the layers; /tmp private and bounded; /var/runtime lambdad's
 * runtime files), the system's /usr and a few /etc files read-only, its own user, PID, IPC and UTS namespaces.
 * Nothing of the daemon's — its data directory, credentials, environment — is mounted.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Lambda's function user and group (sbx_user1051). */
const SANDBOX_UID = 993;
const SANDBOX_GID = 990;
export const SANDBOX_HOME = '/home/sbx_user1051';
/** Where the sandbox has the host's Node.js binary. */
const SANDBOX_NODE = '/var/runtime/bin/node';
export const SANDBOX_PATHS = Object.freeze({ codeDirectory: '/var/task', layerDirectory: '/opt', tmpDirectory: '/tmp', runtimeDirectory: '/var/runtime' });

/** The top-level system directories, bound read-only (or re-created as the symlinks they are on a merged /usr). */
const SYSTEM_DIRECTORIES = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32'];
/** What a runtime needs of /etc: name resolution, users, TLS roots, the dynamic linker, time zones, alternatives. */
const ETC_ENTRIES = ['hosts', 'resolv.conf', 'nsswitch.conf', 'host.conf', 'gai.conf', 'ssl', 'ca-certificates', 'ca-certificates.conf', 'pki', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'localtime', 'os-release', 'alternatives', 'mime.types', 'java-17-openjdk', 'crypto-policies'];

/** lambdad's own package: its compiled code and the modules the runner needs. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const DIST = join(PACKAGE_ROOT, 'dist');
const NODE_MODULES = enclosingNodeModules(createRequire(import.meta.url).resolve('piscina'));
export const RUNNER_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

export interface SandboxMounts {
  /** Host directory shown as /var/task. */
  readonly taskDirectory: string;
  /** Host directory shown as /opt. */
  readonly optDirectory: string;
  readonly tmpBytes: number;
}


/** The sandbox's /etc/passwd and /etc/group, as Lambda's: root and the function's user. */
const SANDBOX_PASSWD = `root:x:0:0:root:/root:/sbin/nologin\nsbx_user1051:x:${SANDBOX_UID}:${SANDBOX_GID}::/home/sbx_user1051:/sbin/nologin\n`;
const SANDBOX_GROUP = `root:x:0:\nsbx_user1051:x:${SANDBOX_GID}:\n`;
/** What bubblewrap reads from the runner's file descriptors 4 and 5 at start (`--ro-bind-data`). */
export const SANDBOX_INPUTS: readonly string[] = [SANDBOX_PASSWD, SANDBOX_GROUP];

/** The node_modules directory a resolved module file lies in (where lambdad's dependencies are installed). */
function enclosingNodeModules(file: string): string {
  const marker = `${sep}node_modules${sep}`;
  return file.slice(0, file.lastIndexOf(marker) + marker.length - 1);
}

/** Whether bubblewrap runs here with user namespaces; why not, if not. */
export function probeBubblewrap(): { readonly ok: true; readonly path: string } | { readonly ok: false; readonly why: string } {
  const path = ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'].find((candidate) => existsSync(candidate));
  if (path === undefined) return { ok: false, why: 'bubblewrap (bwrap) is not installed' };
  // The options the sandbox uses that an older bubblewrap lacks (--disable-userns, --size) are probed too.
  const probe = spawnSync(path, ['--unshare-user', '--disable-userns', '--unshare-pid', '--ro-bind', '/', '/', '--size', '1048576', '--tmpfs', '/tmp', '--', '/bin/true'], { timeout: 10_000, encoding: 'utf8' });
  if (probe.status !== 0) return { ok: false, why: `bubblewrap cannot create user namespaces here: ${(probe.stderr || probe.error?.message || '').trim()}` };
  return { ok: true, path };
}

/** The command line that starts a runner in its sandbox. */
export function sandboxArguments(mounts: SandboxMounts, nodeArguments: readonly string[]): string[] {
  const args = ['--unshare-user', '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_GID), '--disable-userns'];
  args.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--hostname', 'localhost', '--die-with-parent', '--new-session');
  for (const directory of SYSTEM_DIRECTORIES) {
    if (!existsSync(directory)) continue;
    if (lstatSync(directory).isSymbolicLink()) args.push('--symlink', readlinkSync(directory), directory);
    else args.push('--ro-bind', directory, directory);
  }
  for (const entry of ETC_ENTRIES) {
    const path = join('/etc', entry);
    if (existsSync(path)) args.push('--ro-bind', path, path);
  }
  // Node itself, the binary alone, wherever it is installed (a version manager's directory in a home, /opt, …).
  args.push('--ro-bind', process.execPath, SANDBOX_NODE);
  // The sandbox's users, not the host's: fd 4 and 5 carry SANDBOX_INPUTS (after the channel, fd 3).
  args.push('--ro-bind-data', '4', '/etc/passwd', '--ro-bind-data', '5', '/etc/group');
  args.push('--proc', '/proc', '--dev', '/dev');
  args.push('--perms', '1777', '--size', String(mounts.tmpBytes), '--tmpfs', SANDBOX_PATHS.tmpDirectory);
  args.push('--ro-bind', mounts.taskDirectory, SANDBOX_PATHS.codeDirectory);
  args.push('--ro-bind', mounts.optDirectory, SANDBOX_PATHS.layerDirectory);
  args.push('--ro-bind', DIST, join(SANDBOX_PATHS.runtimeDirectory, 'dist'));
  args.push('--ro-bind', NODE_MODULES, join(SANDBOX_PATHS.runtimeDirectory, 'node_modules'));
  args.push('--ro-bind', join(PACKAGE_ROOT, 'package.json'), join(SANDBOX_PATHS.runtimeDirectory, 'package.json'));
  args.push('--dir', SANDBOX_HOME, '--remount-ro', '/', '--chdir', SANDBOX_PATHS.codeDirectory);
  const main = join(SANDBOX_PATHS.runtimeDirectory, 'dist', RUNNER_MAIN.slice(DIST.length));
  args.push('--', SANDBOX_NODE, ...nodeArguments, main);
  return args;
}
