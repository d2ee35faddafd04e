import { dirname } from 'node:path';
import { writeFileAtomic } from '../fsx/atomic-write.js';
import { ensureDir } from '../fsx/safe-dir.js';

/**
 * Writes Prometheus text for node_exporter's textfile collector atomically, so the collector never
 * reads half a file. Its directory often belongs to node_exporter's user, so it is used only
 * through writeFileAtomic's random O_EXCL | O_NOFOLLOW temp file (hidden: the collector reads
 * only names ending in .prom) and rename; a new file is 0644, a replaced one keeps its mode.
 */
export function writeTextfile(path: string, text: string): void {
  ensureDir(dirname(path), 0o755, 'metrics textfile directory');
  writeFileAtomic(path, text, { mode: 0o644 });
}
