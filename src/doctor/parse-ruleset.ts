import { parseNftListing } from '../backends/nftables/listing.js';
import type { ListedChain, ListedRule, ListedTable } from '../backends/nftables/listing.js';

/**
 * The whole host ruleset as `nft -j list ruleset` prints it: every table, including ones written
 * by iptables-nft, firewalld, Docker or fw4. Only read, never written.
 */

/** Another program's objects, read with the backend's own listing parser. */
export type ForeignRule = ListedRule;
export type ForeignChain = ListedChain;
export type ForeignTable = ListedTable;

export interface NftRuleset {
  readonly tables: readonly ForeignTable[];
}

/** Parses `nft -j list ruleset`; throws NftListingError on anything else. */
export function parseNftRuleset(text: string): NftRuleset {
  return { tables: parseNftListing(text) };
}

/** Every base chain of every table except `exclude` (tsfw's own table), with its table. */
export function foreignBaseChains(ruleset: NftRuleset, exclude: { family: string; name: string }): ForeignChain[] {
  return ruleset.tables
    .filter((t) => !(t.family === exclude.family && t.name === exclude.name))
    .flatMap((t) => t.chains.filter((c) => c.base !== undefined));
}

/** Tables written by iptables-nft carry its built-in table names and upper-case chain names. */
export function isXtablesTable(table: { family: string; name: string }): boolean {
  return (table.family === 'ip' || table.family === 'ip6')
    && ['filter', 'nat', 'mangle', 'raw', 'security'].includes(table.name);
}

/** Statements that decide nothing and match nothing: a rule of only these and a verdict is unconditional. */
const NEUTRAL = new Set(['counter', 'log']);

/**
 * How a base chain ends for a packet that no rule decided: an unconditional last rule that drops
 * or rejects (firewalld's `reject with icmpx admin-prohibited`, under policy accept), else its
 * policy. Saying "policy accept" for such a chain would hide that it rejects everything it does
 * not allow.
 */
export function chainEnd(chain: ForeignChain): 'ends in reject' | 'ends in drop' | `policy ${string}` {
  const last = chain.rules.at(-1);
  if (last) {
    const keys = last.expr.map((e) => Object.keys(e)[0] ?? '');
    const verdicts = keys.filter((k) => !NEUTRAL.has(k));
    if (verdicts.length === 1 && verdicts[0] === 'reject') return 'ends in reject';
    if (verdicts.length === 1 && verdicts[0] === 'drop') return 'ends in drop';
  }
  return `policy ${chain.base?.policy ?? 'accept'}`;
}
