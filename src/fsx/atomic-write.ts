import { closeSync, constants, fchmodSync, fchownSync, fsyncSync, lstatSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomHex } from './random.js';

/**
 * The one way tsfw replaces a file (state, backend marker, metrics textfile, the config). tsfw
 * runs as root and some of these directories belong to other users (node_exporter's textfile
 * directory), so nothing here ever follows a symlink it did not create: the temp file has an
 * unpredictable name in the target's directory and is created with O_CREAT | O_EXCL | O_NOFOLLOW
 * (a planted name makes the open fail instead of writing elsewhere); its mode is set on the
 * descriptor (the umask does not apply); it is fsynced (unless `durable: false`), renamed over
 * the target (rename replaces a symlink at the target name, never writes through it), the
 * directory is fsynced, and the temp file is removed on any error.
 */

export interface AtomicWriteOptions {
  /** Mode of a new file, exactly (the umask does not apply). */
  readonly mode: number;
  /**
   * When the target is an existing regular file, give the new one its mode and owner instead
   * (the admin's config keeps 0640 root:adm). Default true.
   */
  readonly keepExisting?: boolean;
  /**
   * fsync the file and its directory (default true). False for runtime status under the run
   * directory (state.json, rewritten every pass): readers need the rename's atomicity, not
   * durability, and the run directory is emptied at boot anyway.
   */
  readonly durable?: boolean;
}

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** The temp name for `path`: hidden (textfile collectors skip it), random, in the same directory. */
export function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomHex(8)}.tmp`);
}

/** Replaces `path` with `data` atomically, as described above. Throws the fs error (code kept). */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions): void {
  const existing = options.keepExisting === false ? undefined : regularFileStat(path);
  const temp = tempNameFor(path);
  const fd = openSync(temp, CREATE_FLAGS, 0o600);
  try {
    try {
      if (existing && (existing.uid !== process.geteuid?.() || existing.gid !== process.getegid?.())) {
        fchownSync(fd, existing.uid, existing.gid);
      }
      fchmodSync(fd, existing ? existing.mode & 0o7777 : options.mode);
      writeAll(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      if (options.durable !== false) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // already renamed or removed
    }
    throw error;
  }
  if (options.durable !== false) fsyncDir(dirname(path));
}

/** Creates a new file that must not exist yet (O_EXCL | O_NOFOLLOW), with an exact mode. */
export function createExclusive(path: string, data: string | Uint8Array, mode: number): void {
  const fd = openSync(path, CREATE_FLAGS, 0o600);
  try {
    fchmodSync(fd, mode);
    if (data.length > 0) writeAll(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  } finally {
    closeSync(fd);
  }
}

function regularFileStat(path: string): { mode: number; uid: number; gid: number } | undefined {
  try {
    const s = lstatSync(path);
    return s.isFile() ? { mode: s.mode, uid: s.uid, gid: s.gid } : undefined;
  } catch {
    return undefined;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** Makes the rename durable. Best effort: some file systems refuse fsync on a directory. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    fsyncSync(fd);
  } catch {
    // EINVAL on some file systems: the data itself was fsynced
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
