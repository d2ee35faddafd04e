import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { checkTrustedDir } from './safe-dir.js';

/**
 * Results tsfw already computed, remembered in its root-only run directory so that a repeated
 * `tsfw reconcile` with unchanged input skips the work (the config's YAML parse and validation,
 * the profile expansion). An entry is used only when everything holds, otherwise it is a miss and
 * the work is done as if there were no memo (same errors, same output):
 * - the bundle carries a build id (the per-module build and tests have none: never a hit) and the
 *   entry names the same one, so another tsfw version never reads a result of this one;
 * - the entry's key is byte for byte the key of this call (the whole input text, not a digest);
 * - the run directory passes the trusted-directory check (owned by root or tsfw's user, writable
 *   by nobody else, along its whole path) and the file, opened O_NOFOLLOW, is a regular file of
 *   the same owner, writable by nobody else, at most MAX_MEMO_BYTES, and parses.
 * Writes go through writeFileAtomic (mode 0600), only into a run directory that already exists
 * and is trusted, never from a read-only place (commands that change nothing); any failure is
 * ignored (a memo is a shortcut, never needed).
 */

/** A memo file larger than this is never read. */
export const MAX_MEMO_BYTES = 1024 * 1024;

// Replaced by scripts/bundle.mjs (esbuild `define`) with the bundle's build id.
declare const TSFW_BUILD_ID: string | undefined;

/** The build id of the running bundle, or undefined (per-module build, tests): memos are then off. */
export const BUILD_ID: string | undefined = typeof TSFW_BUILD_ID === 'undefined' ? undefined : TSFW_BUILD_ID;

interface MemoEntry {
  readonly build: string;
  readonly key: string;
  readonly value: unknown;
}

/** Where a memo lives and which build may use it. */
export interface MemoPlace {
  readonly runDir: string;
  readonly build: string | undefined;
  /** Use what is remembered, never write (commands that promise to change nothing: render, validate, status…). */
  readonly readOnly?: boolean;
}

/** The remembered value for `key` in `runDir/name`, or undefined (a miss, for any reason). */
export function readMemo(place: MemoPlace, name: string, key: string): unknown {
  if (place.build === undefined) return undefined;
  try {
    checkTrustedDir(place.runDir);
    const entry = JSON.parse(readOwnFile(join(place.runDir, name))) as Partial<MemoEntry> | null;
    if (entry === null || typeof entry !== 'object' || entry.build !== place.build || entry.key !== key) return undefined;
    return entry.value;
  } catch {
    return undefined;
  }
}

/** Remembers `value` for `key`; silently does nothing where the memo may not be written. */
export function writeMemo(place: MemoPlace, name: string, key: string, value: unknown): void {
  if (place.build === undefined || place.readOnly) return;
  try {
    statSync(place.runDir);
    checkTrustedDir(place.runDir);
    const entry: MemoEntry = { build: place.build, key, value };
    writeFileAtomic(join(place.runDir, name), JSON.stringify(entry), { mode: 0o600, keepExisting: false });
  } catch {
    // no run directory (yet), not ours, not writable: the next run computes again
  }
}

/** A regular file owned by this user and writable by nobody else, read without following a symlink. */
function readOwnFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const s = fstatSync(fd);
    const uid = process.geteuid?.() ?? 0;
    if (!s.isFile() || s.uid !== uid || (s.mode & 0o022) !== 0 || s.size > MAX_MEMO_BYTES) throw new Error('not a memo');
    const buffer = Buffer.alloc(s.size);
    let length = 0;
    while (length < s.size) {
      const n = readSync(fd, buffer, length, s.size - length, null);
      if (n === 0) break;
      length += n;
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}
