import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Writes Prometheus text for node_exporter's textfile collector atomically: a temp file in the
 * same directory, then rename, so the collector never reads half a file. (The collector ignores
 * names not ending in .prom, so the temp file is never scraped.)
 */
export function writeTextfile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, text, { mode: 0o644 });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
