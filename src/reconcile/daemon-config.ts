import { statSync } from 'node:fs';
import { ConfigError } from '../config/errors.js';
import type { LoadedConfig } from '../config/load.js';
import type { Ruleset } from '../model/types.js';
import { ProfileError } from '../profiles/expand.js';
import { rulesetFor } from '../profiles/load.js';

/**
 * The daemon's config: the last good one, and how to notice and vet a new one. A reload that
 * fails validation (the file or a profile), meets something that is not a regular file of sane
 * size, or finds the file emptied (caught half-written: an empty file must not flip the mode to
 * the default) leaves the last good config in force.
 */

/** A validated config and the ruleset it asks for. */
export interface GoodConfig {
  readonly loaded: LoadedConfig;
  readonly desired: Ruleset;
}

export type ReloadResult =
  | { readonly ok: true; readonly previous: GoodConfig; readonly current: GoodConfig }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Identity of the config file's content on disk (inode, size, mtime); `missing` when absent. */
export function fileStamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/** Holds the last good config. `load` re-reads and validates (loadConfig with the daemon's flags). */
export class ConfigKeeper {
  private good: GoodConfig;
  private stamp: string;

  constructor(private readonly load: () => LoadedConfig) {
    this.stamp = '';
    this.good = this.read();
  }

  current(): GoodConfig {
    return this.good;
  }

  /** Whether the file changed since it was last read (good or not). */
  changedOnDisk(): boolean {
    return fileStamp(this.good.loaded.source.path) !== this.stamp;
  }

  /** Reads the file again; on any problem keeps the last good config and returns the problems. */
  reload(): ReloadResult {
    const previous = this.good;
    try {
      const next = this.read();
      if (next.loaded.empty && !previous.loaded.empty && previous.loaded.source.exists) {
        return { ok: false, problems: [`${next.loaded.source.path}: the file is empty: keeping the last good config until it has content (write {} for the defaults)`] };
      }
      this.good = next;
      return { ok: true, previous, current: this.good };
    } catch (error) {
      this.stamp = fileStamp(previous.loaded.source.path);
      return { ok: false, problems: problemsOf(error) };
    }
  }

  /** Puts back a config that read well but must not be adopted (it would lock SSH out). */
  revert(previous: GoodConfig): void {
    this.good = previous;
  }

  private read(): GoodConfig {
    const path = this.good?.loaded.source.path;
    const before = path ? fileStamp(path) : '';
    const loaded = this.load();
    const desired = rulesetFor(loaded.config);
    this.stamp = path === loaded.source.path && before ? before : fileStamp(loaded.source.path);
    return { loaded, desired };
  }
}

/** One line per problem, each naming the key. */
export function problemsOf(error: unknown): string[] {
  if (error instanceof ConfigError) return error.lines();
  if (error instanceof ProfileError) return [...error.problems];
  return [error instanceof Error ? error.message : String(error)];
}
