import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseDocument } from 'yaml';
import type { Mode } from '../model/types.js';
import { ConfigError } from './errors.js';

const NEW_FILE_HEADER = '# tsfw configuration: see docs/config.md for every key and its default.\n';

/**
 * Records `mode` in the config file so a running daemon adopts it instead of undoing it. Only
 * that key changes: comments, order and every other key are preserved (yaml Document API). The
 * file is replaced atomically (write + rename). Returns whether the file changed.
 */
export function saveMode(path: string, mode: Mode): { created: boolean; changed: boolean } {
  const exists = existsSync(path);
  const before = exists ? readFileSync(path, 'utf8') : NEW_FILE_HEADER;
  const doc = parseDocument(before);
  if (doc.errors.length > 0) throw new ConfigError(path, [`invalid YAML: ${doc.errors[0]?.message.split('\n', 1)[0]}`]);
  if (doc.get('mode') === mode && exists) return { created: false, changed: false };
  let text: string;
  if (doc.contents === null) {
    // Empty or comments only: append the key after whatever is there.
    text = `${before.trim() ? before.replace(/\n*$/, '\n') : ''}mode: ${mode}\n`;
  } else {
    doc.set('mode', mode);
    text = doc.toString();
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const temp = `${path}.tsfw-${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o644 });
  renameSync(temp, path);
  return { created: !exists, changed: true };
}
