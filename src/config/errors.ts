import type { z } from 'zod';

/** How many problems one error shows before summarising, so stderr stays short. */
const MAX_PROBLEMS = 5;

/** An invalid or unreadable configuration (exit 78). `problems` are `key.path: message` lines. */
export class ConfigError extends Error {
  readonly kind = 'config';
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${problems[0] ?? 'invalid'}`, options);
    this.name = 'ConfigError';
  }

  /** At most MAX_PROBLEMS + 1 lines, each naming the key. */
  lines(): string[] {
    const shown = this.problems.slice(0, MAX_PROBLEMS).map((p) => `${this.source}: ${p}`);
    const hidden = this.problems.length - shown.length;
    return hidden > 0 ? [...shown, `${this.source}: … and ${hidden} more problem(s)`] : shown;
  }
}

/** `cgnat.exempt[1]`-style key paths for zod issues. */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(top level)';
}

/** One line per zod issue: `key.path: message`; unknown keys are named individually. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${keyPath([...issue.path, key])}: unknown key`);
    } else {
      lines.push(`${keyPath(issue.path)}: ${oneLine(issue.message)}`);
    }
  }
  return lines;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
