import { closeSync, constants, fchmodSync, fstatSync, mkdirSync, openSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Directories tsfw writes into. Node has no openat(), so a directory is either trusted (tsfw's run
 * directory: it must belong to root or tsfw's own user and be writable by nobody else, along its
 * whole path, or it is refused with one line naming it) or used only through writeFileAtomic's
 * O_EXCL | O_NOFOLLOW temp files and rename (a textfile directory owned by node_exporter's
 * user). Directories tsfw creates get an exact mode, set on a descriptor (the umask does not
 * apply). See docs/RELIABILITY.md, "Files tsfw writes".
 */

/** A directory tsfw will not use, or a path that is not a directory: one line naming it. */
export class UnsafePathError extends Error {
  readonly kind = 'unsafe-path';
  constructor(readonly path: string, message: string) {
    super(message);
    this.name = 'UnsafePathError';
  }
}

/**
 * Creates `dir` and any missing parents, each with exactly `mode`, without following a symlink
 * planted at a name it creates (the new directory is opened O_NOFOLLOW and must be its own).
 */
export function ensureDir(dir: string, mode: number, label = 'directory'): void {
  const path = resolve(dir);
  const existing = statOrUndefined(path);
  if (existing) {
    if (!existing.isDirectory()) throw new UnsafePathError(path, `${label} ${path}: not a directory`);
    return;
  }
  const parent = dirname(path);
  if (parent !== path) ensureDir(parent, mode, label);
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Someone else made it meanwhile: use it if it is a directory, as if it had been there.
    if (!statOrUndefined(path)?.isDirectory()) throw new UnsafePathError(path, `${label} ${path}: not a directory`);
    return;
  }
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    if (fstatSync(fd).uid !== euid()) throw new UnsafePathError(path, `${label} ${path}: replaced while being created`);
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates (mode `mode`) or checks a directory only tsfw may write: it and every directory above it
 * must belong to root or tsfw's user, and none may be writable by others (a sticky /tmp above is
 * fine: others cannot rename what is inside). Throws UnsafePathError naming the directory.
 */
export function ensureTrustedDir(dir: string, mode: number, label: string): string {
  ensureDir(dir, mode, label);
  return checkTrustedDir(dir, label);
}

/** The check of ensureTrustedDir on an existing directory, creating nothing (memo reads). Returns its real path. */
export function checkTrustedDir(dir: string, label = 'directory'): string {
  const real = realpathSync(dir);
  for (let path = real; ; path = dirname(path)) {
    const problem = untrusted(path, path === real);
    if (problem) throw new UnsafePathError(path, `${label} ${dir}: ${path === resolve(dir) ? '' : `${path} `}${problem}: refusing to use it`);
    if (dirname(path) === path) return real;
  }
}

function untrusted(path: string, own: boolean): string | undefined {
  const s = statSync(path);
  if (s.uid !== 0 && s.uid !== euid()) return `is owned by uid ${s.uid}, not root`;
  const sticky = (s.mode & 0o1000) !== 0;
  const mode = (s.mode & 0o7777).toString(8).padStart(4, '0');
  if ((s.mode & 0o002) !== 0 && (own || !sticky)) return `is writable by others (mode ${mode})`;
  if ((s.mode & 0o020) !== 0 && s.gid !== 0 && (own || !sticky)) return `is writable by group ${s.gid} (mode ${mode})`;
  return undefined;
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch (error) {
    // ENOTDIR: a parent is a file; the walk up names it.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

function euid(): number {
  return process.geteuid?.() ?? 0;
}
