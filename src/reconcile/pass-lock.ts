import { UnsafePathError } from '../fsx/safe-dir.js';
import type { Logger } from '../log/logger.js';
import { createFailureLog } from '../log/failure-log.js';
import { acquireLock } from './lock.js';
import type { LockOptions } from './lock.js';

/**
 * The lock around a daemon pass. The lock lives in the run directory; when that directory cannot
 * hold it (read-only, out of space or quota, no longer trusted) the pass runs without it and says
 * so (rate-limited): a firewall that stops repairing because a directory is full is worse than a
 * pass that may meet a concurrent `tsfw apply`. The CLI's commands still insist on the lock.
 */
export function createPassLock(options: LockOptions, log: Logger): <T>(fn: () => Promise<T>) => Promise<T> {
  const failures = createFailureLog(log, 'cannot take the lock in the run directory: passing without it', 'the lock works again');
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    let release: () => Promise<void>;
    try {
      release = await acquireLock(options);
    } catch (error) {
      if (!runDirUnusable(error)) throw error;
      failures.failed({ runDir: options.runDir, problem: describe(error) });
      return fn();
    }
    failures.succeeded({ runDir: options.runDir });
    try {
      return await fn();
    } finally {
      await release();
    }
  };
}

const UNUSABLE = new Set(['EROFS', 'ENOSPC', 'EDQUOT', 'EACCES', 'EPERM']);

function runDirUnusable(error: unknown): boolean {
  return error instanceof UnsafePathError || UNUSABLE.has((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.split('\n', 1)[0]! : String(error);
}
