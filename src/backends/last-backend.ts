import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ConcreteBackend } from '../config/schema.js';
import { writeFileAtomic } from '../fsx/atomic-write.js';
import { readBoundedFile } from '../fsx/read-bounded.js';
import { ensureTrustedDir } from '../fsx/safe-dir.js';

/**
 * Which backend last converged this network namespace, so apply/reconcile scan the other
 * backends for tsfw's leftovers only when it may have changed (first run since boot, a backend
 * switch, another namespace), instead of running six extra *-save processes on every pass.
 * Kept in the run directory (tmpfs: gone after a reboot, like the kernel state it describes) and
 * keyed by the namespace's inode, because one run directory can serve several namespaces.
 */

interface Marker {
  readonly netns: string;
  readonly backend: ConcreteBackend;
}

function markerPath(runDir: string): string {
  return join(runDir, 'backend.json');
}

/** This process's network namespace identity, e.g. `net:[4026531840]`. */
function currentNetns(): string {
  try {
    return readlinkSync('/proc/self/ns/net');
  } catch {
    return 'unknown';
  }
}

/** The backend recorded for this namespace, or undefined when unknown. */
export function readLastBackend(runDir: string): ConcreteBackend | undefined {
  try {
    const marker = JSON.parse(readBoundedFile(markerPath(runDir), 64 * 1024).toString('utf8')) as Partial<Marker>;
    return marker.netns === currentNetns() ? marker.backend : undefined;
  } catch {
    return undefined;
  }
}

/** Records the backend that just converged. Best effort: without it the next run scans again. */
export function recordLastBackend(runDir: string, backend: ConcreteBackend): void {
  try {
    ensureTrustedDir(runDir, 0o755, 'run directory');
    writeFileAtomic(markerPath(runDir), JSON.stringify({ netns: currentNetns(), backend } satisfies Marker), { mode: 0o644 });
  } catch {
    // Read-only, full or refused run directory: the leftover scan simply runs next time too.
  }
}
