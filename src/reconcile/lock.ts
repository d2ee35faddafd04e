import { closeSync, constants, existsSync, fchmodSync, mkdirSync, openSync, readdirSync, readlinkSync, renameSync, rmdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { createExclusive } from '../fsx/atomic-write.js';
import { ensureTrustedDir } from '../fsx/safe-dir.js';
import { isPidAlive } from './pid-alive.js';
import { randomHex } from '../fsx/random.js';

/**
 * The one lock shared by the CLI's writing commands (apply, reconcile, cleanup) and every daemon
 * pass, so `tsfw reconcile` from Ansible and a daemon pass never interleave.
 *
 * The lock is a directory, `<run dir>/lock`, built under a random name with its owner record
 * inside and renamed into place: atomic, and it fails while a lock exists, so there is no moment
 * at which a killed holder leaves a lock that does not name it. The holder touches its mtime
 * every UPDATE_MS; a lock not touched for STALE_MS (a holder stopped or frozen, or one in another
 * pid namespace that died) is taken over. A lock left by a SIGKILLed process is recovered at
 * once: its record names the owner's pid, and a dead owner in our pid namespace cannot hold it.
 * The owner record is an empty file whose name carries the pid (`owner.<pid>.<pid namespace
 * inode>`), so the lock works in a full run directory too (an empty file needs no data blocks),
 * and the run directory must be trusted (fsx/safe-dir.ts): the lock directory is 0755, its
 * record 0644. (tsfw's own since proper-lockfile, graceful-fs and signal-exit cost every CLI
 * start about 3 ms of module evaluation for these few calls: docs/PERFORMANCE.md.)
 */

export { DEFAULT_RUN_DIR, runDirFrom } from '../fsx/run-dir.js';

/** The lock could not be taken in time: another tsfw is writing. */
export class LockBusyError extends Error {
  readonly kind = 'busy';
  constructor(readonly path: string, readonly owner: number | undefined, waitedMs: number) {
    super(`another tsfw holds ${path}${owner ? ` (pid ${owner})` : ''}; gave up after ${Math.round(waitedMs)} ms`);
    this.name = 'LockBusyError';
  }
}

export interface LockOptions {
  readonly runDir: string;
  /** How long to wait for another holder (default 30 s). */
  readonly waitMs?: number;
  /** Told when the lock was taken over while held (a stalled process); the pass still finishes. */
  readonly onCompromised?: (error: Error) => void;
}

/** Released by calling it. */
export type Release = () => Promise<void>;

const STALE_MS = 5_000;
const UPDATE_MS = 1_000;

interface Owner {
  readonly pid: number;
  readonly pidns: string;
}

/** Takes the lock, waiting up to `waitMs` for the current holder. */
export async function acquireLock(options: LockOptions): Promise<Release> {
  ensureTrustedDir(options.runDir, 0o755, 'run directory');
  const lockPath = join(options.runDir, 'lock');
  const waitMs = options.waitMs ?? 30_000;
  const started = performance.now();
  let delay = 2;
  for (;;) {
    if (createLock(lockPath)) return holdLock(lockPath, options.onCompromised ?? (() => undefined));
    const owner = readOwner(lockPath);
    if (owner && isDead(owner)) {
      moveAside(lockPath, (moved) => readOwner(moved)?.pid === owner.pid);
      continue;
    }
    if (isStale(lockPath)) {
      moveAside(lockPath, (moved) => isStale(moved));
      continue;
    }
    const waited = performance.now() - started;
    if (waited >= waitMs) throw new LockBusyError(lockPath, owner?.pid, waited);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
}

/** Runs `fn` holding the lock. */
export async function withLock<T>(options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const release = await acquireLock(options);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/**
 * Creates the lock directory already holding this process's owner record, under a temporary
 * name renamed into place. False when a lock exists (the rename fails on a directory that is
 * not empty, and a held lock always holds its record).
 */
function createLock(lockPath: string): boolean {
  const temp = `${lockPath}.new-${randomHex(8)}`;
  try {
    makeLockDir(temp);
    createExclusive(join(temp, ownRecordName()), '', 0o644);
    renameSync(temp, lockPath);
    return true;
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Keeps a taken lock fresh (its mtime every UPDATE_MS, on a timer that does not keep the process
 * alive) and tells `onCompromised` once when its record is gone from it (taken over after the
 * holder stalled for STALE_MS). Released by the returned function, or at exit if the process ends
 * holding it.
 */
function holdLock(lockPath: string, onCompromised: (error: Error) => void): Release {
  const record = join(lockPath, ownRecordName());
  let held = true;
  const stop = (): void => {
    held = false;
    clearInterval(timer);
    process.removeListener('exit', release);
  };
  const release = (): void => {
    if (!held) return;
    stop();
    if (!existsSync(record)) return; // taken over: the lock there is someone else's now
    removeOwnerRecords(lockPath);
    try {
      rmdirSync(lockPath);
    } catch {
      // gone already, or not empty: not ours to remove
    }
  };
  const timer = setInterval(() => {
    if (existsSync(record)) {
      try {
        const now = new Date();
        utimesSync(lockPath, now, now);
        return;
      } catch {
        // moved aside between the check and the touch: compromised, as below
      }
    }
    stop();
    onCompromised(new Error(`${lockPath} was taken over while held (not refreshed for ${STALE_MS} ms)`));
  }, UPDATE_MS);
  timer.unref();
  process.once('exit', release);
  return async () => release();
}

/** mkdir with an exact 0755 (set on a descriptor of the new directory: the umask does not apply). */
function makeLockDir(path: string): void {
  mkdirSync(path, { mode: 0o700 });
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    fchmodSync(fd, 0o755);
  } finally {
    closeSync(fd);
  }
}

/** This process's owner record: `owner.<pid>.<pid namespace inode>`. */
function ownRecordName(): string {
  return `owner.${process.pid}.${pidNamespace()}`;
}

/**
 * Removes this process's own record only: another process may already hold a new lock at the
 * same path (a rename onto an emptied directory), and removing its record would delete that lock
 * under it. A lock that still holds another record is not removed (rmdir fails: not empty).
 */
function removeOwnerRecords(lockPath: string): void {
  rmSync(join(lockPath, ownRecordName()), { force: true });
}

function ownerRecords(lockPath: string): string[] {
  try {
    return readdirSync(lockPath).filter((name) => name.startsWith('owner'));
  } catch {
    return [];
  }
}

/** The inode number of this process's pid namespace, e.g. `4026531836`. */
function pidNamespace(): string {
  try {
    return /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function readOwner(lockPath: string): Owner | undefined {
  // Absent only when the lock is gone: it is created holding its record (createLock).
  for (const name of ownerRecords(lockPath)) {
    const match = /^owner\.(\d+)\.(\w+)$/.exec(name);
    if (match) return { pid: Number(match[1]), pidns: match[2]! };
  }
  return undefined;
}

function isDead(owner: Owner): boolean {
  return owner.pidns === pidNamespace() && owner.pid !== process.pid && !isPidAlive(owner.pid);
}

function isStale(path: string): boolean {
  try {
    return statSync(path).mtimeMs < Date.now() - STALE_MS;
  } catch {
    return false;
  }
}

/**
 * Moves an abandoned lock aside (rename is atomic, so only one contender wins) and deletes it.
 * If what was moved is not the abandoned lock (a fresh one was taken in the meantime), it is
 * put back.
 */
function moveAside(lockPath: string, stillAbandoned: (moved: string) => boolean): void {
  const aside = `${lockPath}.dead-${randomHex(8)}`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return; // someone else moved it first: just try again
  }
  if (!stillAbandoned(aside)) {
    try {
      renameSync(aside, lockPath);
    } catch {
      // a third contender already holds a new lock; the moved one's holder sees it compromised
    }
    return;
  }
  rmSync(aside, { recursive: true, force: true });
}

let heldUntilExit = false;

/**
 * For one-shot CLI commands: takes the lock and keeps it until the process exits, so everything
 * the command writes (the transaction, then the mode it records in the config file) happens
 * before a daemon pass can look. Idempotent within a process.
 */
export async function holdLockUntilExit(options: LockOptions): Promise<void> {
  if (heldUntilExit) return;
  await acquireLock(options);
  heldUntilExit = true;
  const lockPath = join(options.runDir, 'lock');
  process.once('exit', () => {
    removeOwnerRecords(lockPath);
    try {
      rmdirSync(lockPath);
    } catch {
      // already gone
    }
  });
}
