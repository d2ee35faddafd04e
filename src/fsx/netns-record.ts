import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { currentNetns } from '../reconcile/singleton.js';
import { writeFileAtomic } from './atomic-write.js';

/**
 * A JSON record in the run dir with one entry per network namespace (`net:[4026531840]`). What
 * tsfw changed outside its own objects (a sysctl, another manager's zone) is per namespace, and
 * several namespaces may share a run dir. Read and written under tsfw's lock.
 */

type RecordFile = Record<string, unknown>;

function readRecordFile(path: string): RecordFile {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as RecordFile) : {};
  } catch {
    return {};
  }
}

/** This network namespace's entry name in a record file. */
function namespaceKey(): string {
  return currentNetns() ?? 'unknown';
}

/** This namespace's raw entry of `runDir/file`, or undefined; the caller validates its shape. */
export function readNetnsRecord(runDir: string, file: string): unknown {
  return readRecordFile(join(runDir, file))[namespaceKey()];
}

/**
 * Replaces this namespace's entry (`undefined` removes it); the file is removed with its last
 * entry, so a host tsfw changed nothing on has no record at all.
 */
export function writeNetnsRecord(runDir: string, file: string, entry: unknown): void {
  const path = join(runDir, file);
  const all = readRecordFile(path);
  if (entry === undefined) delete all[namespaceKey()];
  else all[namespaceKey()] = entry;
  if (Object.keys(all).length > 0) {
    writeFileAtomic(path, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o644 });
    return;
  }
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
