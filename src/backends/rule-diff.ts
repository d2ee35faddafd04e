import type { DriftItem } from './types.js';

/**
 * Where a chain's listed rules first differ from the rules tsfw wants there, for both backends:
 * each side compares rules by its own canonical key (nft: expressions + comment; iptables: the
 * rule line), and this turns the two key lists into one drift item. Pure.
 */

/** A wanted rule: its comparison key and its rule id. */
export interface WantedRule {
  readonly key: string;
  readonly id: string;
}

/** A listed rule: its key, the rule id its comment names (if tsfw's), and how to point at it. */
export interface ListedRuleKey {
  readonly key: string;
  readonly id?: string;
  /** e.g. `handle 12` or `position 3`. */
  readonly where: string;
}

/** The first difference, or undefined when the chain holds exactly the wanted rules in order. */
export function firstRuleDifference(chain: string, want: readonly WantedRule[], seen: readonly ListedRuleKey[]): Omit<DriftItem, 'family' | 'table' | 'chain'> | undefined {
  if (want.length === seen.length && want.every((w, i) => w.key === seen[i]!.key)) return undefined;
  const seenKeys = new Set(seen.map((s) => s.key));
  const missing = want.find((w) => !seenKeys.has(w.key));
  if (missing) return { kind: 'missing', rule: missing.id, detail: `rule ${missing.id} is missing or edited` };
  const wantKeys = new Set(want.map((w) => w.key));
  const extra = seen.find((s) => !wantKeys.has(s.key));
  if (extra) {
    return { kind: 'unexpected', ...(extra.id ? { rule: extra.id } : {}), detail: `chain ${chain} has a rule tsfw did not write (${extra.where}${extra.id ? `, ${extra.id}` : ''})` };
  }
  if (want.length !== seen.length) return { kind: 'unexpected', detail: `chain ${chain} has duplicated rules` };
  const at = want.findIndex((w, i) => w.key !== seen[i]!.key);
  return { kind: 'misordered', rule: want[at]!.id, detail: `rules of ${chain} are out of order from position ${at + 1}` };
}
