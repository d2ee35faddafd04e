import type { Logger } from './logger.js';

/**
 * Logging for a write that is retried on every pass (state file, metrics textfile) and may keep
 * failing (a full or read-only run directory): one warning when it starts failing, then at most
 * one per `intervalMs` with how many were not logged, and one info line when it works again. The
 * journal stays readable and the pass itself goes on (netfilter repair never waits on a file).
 */
export interface FailureLog {
  failed(fields: Record<string, unknown>): void;
  succeeded(fields: Record<string, unknown>): void;
}

/** `message` is logged on failure, `recovered` once the write works again. */
export function createFailureLog(log: Logger, message: string, recovered: string, intervalMs = 60_000, now: () => number = Date.now): FailureLog {
  let failing = false;
  let lastLogged = 0;
  let suppressed = 0;
  return {
    failed(fields) {
      const t = now();
      if (!failing || t - lastLogged >= intervalMs) {
        log.warn({ ...fields, ...(suppressed > 0 ? { suppressed } : {}) }, message);
        lastLogged = t;
        suppressed = 0;
      } else {
        suppressed += 1;
      }
      failing = true;
    },
    succeeded(fields) {
      if (!failing) return;
      failing = false;
      suppressed = 0;
      log.info(fields, recovered);
    },
  };
}
