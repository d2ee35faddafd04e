import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DaemonState } from './state-format.js';

/**
 * Reading and writing the daemon's state file. Written atomically (temp file + rename) so
 * `tsfw status` never reads half a file.
 */

/** state.json inside the run directory. */
export function statePath(runDir: string): string {
  return join(runDir, 'state.json');
}

/** Replaces the state file. */
export function writeState(path: string, state: DaemonState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  renameSync(temp, path);
}

/** The state file, with whether its daemon still runs; undefined when there is none. */
export function readState(path: string): { state: DaemonState; alive: boolean } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let state: DaemonState;
  try {
    state = JSON.parse(text) as DaemonState;
  } catch {
    return undefined;
  }
  return { state, alive: state.running && pidAlive(state.pid) };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
