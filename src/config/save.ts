import { lstatSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../fsx/atomic-write.js';
import { readBoundedFile, UnreadableFileError } from '../fsx/read-bounded.js';
import { ensureDir } from '../fsx/safe-dir.js';
import type { Mode } from '../model/types.js';
import { ConfigError } from './errors.js';
import { editModeBytes } from './mode-edit.js';
import { parseConfigText } from './parse.js';

const NEW_FILE_HEADER = '# tsfw configuration: see docs/config.md for every key and its default.\n';

/** A prepared `mode` edit: checked before anything is applied, written by `commit`. */
export interface ModeSave {
  /** The file that will be written (a symlinked config's target). */
  readonly target: string;
  readonly created: boolean;
  readonly changed: boolean;
  /** Writes the edit (nothing when unchanged). */
  commit(): void;
}

/**
 * Prepares recording `mode` in the config file so a running daemon adopts it instead of undoing
 * it. Only the bytes of the `mode` value change (config/mode-edit.ts); a symlinked config is
 * written through to its target, keeping the target's mode and owner; the result must validate
 * or nothing is written (ConfigError, exit 78). A missing file is created (0644, directory 0755).
 */
export function prepareModeSave(path: string, mode: Mode): ModeSave {
  const target = targetOf(path);
  const exists = target !== undefined;
  const file = target ?? path;
  let before: Buffer;
  try {
    before = exists ? readBoundedFile(file) : Buffer.from(NEW_FILE_HEADER);
  } catch (error) {
    if (error instanceof UnreadableFileError) throw new ConfigError(file, [error.reason], { cause: error });
    throw error;
  }
  const edit = editModeBytes(before, mode);
  if (!edit.ok) throw new ConfigError(file, [edit.problem]);
  const changed = edit.changed || !exists;
  if (changed) parseConfigText(edit.bytes.toString('utf8'), file); // throws ConfigError: never written
  return {
    target: file,
    created: !exists,
    changed,
    commit() {
      if (!changed) return;
      if (!exists) ensureDir(dirname(file), 0o755, 'config directory');
      writeFileAtomic(file, edit.bytes, { mode: 0o644 });
    },
  };
}

/** Records `mode` now (prepare + commit). Returns whether the file was created or changed. */
export function saveMode(path: string, mode: Mode): { created: boolean; changed: boolean } {
  const save = prepareModeSave(path, mode);
  save.commit();
  return { created: save.created, changed: save.changed };
}

/** The real file behind `path` (through symlinks), or undefined when there is none yet. */
function targetOf(path: string): string | undefined {
  try {
    lstatSync(path);
  } catch {
    return undefined;
  }
  try {
    return realpathSync(path);
  } catch (error) {
    throw new ConfigError(path, [`is a symlink to a missing file (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
}
