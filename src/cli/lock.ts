import { holdLockUntilExit, runDirFrom } from '../reconcile/lock.js';

/**
 * Writing commands (apply, reconcile, cleanup) take the lock the daemon's passes use, and hold it
 * until the command exits, so a pass never runs between a write and the mode it records.
 */
export async function lockForWrite(): Promise<void> {
  await holdLockUntilExit({ runDir: runDirFrom(process.env) });
}
