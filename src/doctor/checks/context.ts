import type { Config } from '../../config/schema.js';
import { resolveFacts } from '../../discovery/facts.js';
import type { ResolvedFacts } from '../../discovery/facts.js';
import type { Ruleset } from '../../model/types.js';
import type { DoctorFacts } from '../types.js';

/** What every check reads: the gathered facts, the config and tsfw's desired ruleset. */
export interface CheckInput {
  readonly facts: DoctorFacts;
  readonly config: Config;
  readonly ruleset: Ruleset;
  /** `addresses` / `ports` as discovered for `auto` (absent: resolved without discovery). */
  readonly discovered?: ResolvedFacts;
}

/** The WireGuard ports the rules use: the configured list, or what `ports: auto` found. */
export function portsOf(input: CheckInput): readonly number[] {
  return (input.discovered ?? resolveFacts(input.config)).ports.values;
}

/** The YAML of a list under a key, exactly as the operator would paste it into the config. */
export function yamlList(path: readonly string[], items: readonly (string | number)[]): string {
  const lines = path.map((key, i) => `${'  '.repeat(i)}${key}:`);
  const indent = '  '.repeat(path.length);
  return [...lines, ...items.map((item) => `${indent}- ${item}`)].join('\n');
}
