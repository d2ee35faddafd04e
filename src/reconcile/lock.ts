import fs, { mkdirSync, readFileSync, readlinkSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';

/**
 * The one lock shared by the CLI's writing commands (apply, reconcile, cleanup) and every daemon
 * pass, so `tsfw reconcile` from Ansible and a daemon pass never interleave. proper-lockfile
 * makes the lock (an atomic mkdir kept fresh by mtime updates; a lock not refreshed for `stale`
 * ms is taken over). A lock left by a SIGKILLed process is also recovered at once: its directory
 * names the owner's pid, and a dead owner in our pid namespace cannot be holding it.
 */

/** Where the lock and state.json live unless TSFW_RUN_DIR says otherwise. */
export const DEFAULT_RUN_DIR = '/run/tsfw';

/** The run directory: $TSFW_RUN_DIR (tests) or /run/tsfw. */
export function runDirFrom(env: NodeJS.ProcessEnv = process.env): string {
  return env.TSFW_RUN_DIR || DEFAULT_RUN_DIR;
}

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
  mkdirSync(options.runDir, { recursive: true, mode: 0o755 });
  const target = join(options.runDir, 'tsfw');
  const lockPath = join(options.runDir, 'lock');
  const waitMs = options.waitMs ?? 30_000;
  const started = performance.now();
  let delay = 2;
  for (;;) {
    try {
      const release = await lockfile.lock(target, {
        realpath: false,
        fs: ownerRecordingFs(),
        lockfilePath: lockPath,
        stale: STALE_MS,
        update: UPDATE_MS,
        retries: 0,
        onCompromised: options.onCompromised ?? (() => undefined),
      });
      return async () => {
        await release().catch(() => undefined);
      };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // proper-lockfile found it stale but cannot rmdir it: our owner record is inside.
      if (code === 'ENOTEMPTY') {
        moveAside(lockPath, (moved) => isStale(moved));
        continue;
      }
      if (code !== 'ELOCKED') throw error;
    }
    const owner = readOwner(lockPath);
    if (owner && isDead(owner)) {
      moveAside(lockPath, (moved) => readOwner(moved)?.pid === owner.pid);
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
 * proper-lockfile's file system, with the lock directory created already holding its owner record
 * (built under a temporary name, then renamed into place: atomic, and fails if a lock exists), so
 * there is no moment at which a killed holder leaves a lock that does not name it.
 */
function ownerRecordingFs() {
  const owner = JSON.stringify({ pid: process.pid, pidns: pidNamespace() } satisfies Owner);
  return {
    ...fs,
    mkdir(path: string, callback: (error: NodeJS.ErrnoException | null) => void) {
      const temp = `${path}.new-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
      try {
        mkdirSync(temp);
        writeFileSync(join(temp, 'owner'), owner);
        renameSync(temp, path);
        callback(null);
      } catch (error) {
        rmSync(temp, { recursive: true, force: true });
        const code = (error as NodeJS.ErrnoException).code;
        callback(code === 'ENOTEMPTY' || code === 'EEXIST' ? Object.assign(new Error(`${path} exists`), { code: 'EEXIST' }) : (error as NodeJS.ErrnoException));
      }
    },
    rmdir(path: string, callback: (error: NodeJS.ErrnoException | null) => void) {
      rmSync(join(path, 'owner'), { force: true });
      fs.rmdir(path, callback);
    },
    rmdirSync(path: string) {
      rmSync(join(path, 'owner'), { force: true });
      fs.rmdirSync(path);
    },
  };
}

function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return 'unknown';
  }
}

function readOwner(lockPath: string): Owner | undefined {
  try {
    const owner = JSON.parse(readFileSync(join(lockPath, 'owner'), 'utf8')) as Partial<Owner>;
    return typeof owner.pid === 'number' && typeof owner.pidns === 'string' ? { pid: owner.pid, pidns: owner.pidns } : undefined;
  } catch {
    // Not written yet (the holder is between mkdir and write) or already gone.
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function isDead(owner: Owner): boolean {
  return owner.pidns === pidNamespace() && owner.pid !== process.pid && !isAlive(owner.pid);
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
  const aside = `${lockPath}.dead-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
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
    rmSync(join(lockPath, 'owner'), { force: true });
    try {
      rmdirSync(lockPath);
    } catch {
      // already gone
    }
  });
}
