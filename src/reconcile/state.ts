import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../fsx/atomic-write.js';
import { readBoundedFile } from '../fsx/read-bounded.js';
import { ensureTrustedDir } from '../fsx/safe-dir.js';
import type { DaemonState } from './state-format.js';
import { isPidAlive } from './pid-alive.js';

/**
 * Reading and writing the daemon's state file. Written atomically (fsx/atomic-write.ts: a random
 * O_EXCL | O_NOFOLLOW temp file, rename) so `tsfw status` never reads half a file, into the run
 * directory only when that directory is trusted (fsx/safe-dir.ts). Not fsynced: it is runtime
 * status, rewritten after every pass, and the run directory does not survive a boot.
 */

/** state.json inside the run directory. */
export function statePath(runDir: string): string {
  return join(runDir, 'state.json');
}

/** Replaces the state file (0644). Throws the fs error or UnsafePathError. */
export function writeState(path: string, state: DaemonState): void {
  ensureTrustedDir(dirname(path), 0o755, 'run directory');
  writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644, durable: false });
}

/** The state file, with whether its daemon still runs; undefined when there is none. */
export function readState(path: string): { state: DaemonState; alive: boolean } | undefined {
  let text: string;
  try {
    text = readBoundedFile(path, 1024 * 1024).toString('utf8');
  } catch {
    return undefined;
  }
  let state: DaemonState;
  try {
    state = JSON.parse(text) as DaemonState;
  } catch {
    return undefined;
  }
  return { state, alive: state.running && isPidAlive(state.pid) };
}

