import type { ListedTable } from '../nftables/listing.js';

/**
 * Whether an nft table called `ip filter` (or nat, mangle, …) was written by iptables-nft, or is
 * a native nft table that merely has that name. iptables-nft-save prints a native table whose
 * chains carry built-in names (`INPUT`) as if it were its own, so rule counts from the save alone
 * would make `backend: auto` pick iptables-nft and insert tsfw's jump above the admin's own
 * native rules. Pure: reads the table as `nft -j list table` shows it.
 */

/** The base chain name iptables-nft gives each hook. */
const BUILTIN_FOR_HOOK: Readonly<Record<string, string>> = {
  prerouting: 'PREROUTING', input: 'INPUT', forward: 'FORWARD', output: 'OUTPUT', postrouting: 'POSTROUTING',
};

/** What the table shows: written by iptables-nft or not, and the marker (or its absence) in words. */
export interface XtablesVerdict {
  readonly iptablesNft: boolean;
  readonly why: string;
}

/**
 * iptables-nft's markers, strongest first: an `xt` expression (an xtables match or target such
 * as `comment`, `conntrack`, `MARK`: nft itself then warns "table … is managed by iptables-nft");
 * else its rule shape: every base chain named as iptables' built-in for its hook and a `counter`
 * in every rule (iptables-nft adds one to each rule it writes). A table with no rule at all says
 * nothing either way and is not counted.
 */
export function classifyXtablesTable(table: ListedTable): XtablesVerdict {
  const name = `${table.family} ${table.name}`;
  const rules = table.chains.flatMap((c) => c.rules.map((r) => ({ chain: c.name, rule: r })));
  const xt = rules.find(({ rule }) => rule.expr.some((e) => 'xt' in e));
  if (xt) {
    const ext = xt.rule.expr.find((e) => 'xt' in e)?.xt as { name?: string } | undefined;
    return { iptablesNft: true, why: `${name}: xtables expression ${ext?.name ?? '?'} in chain ${xt.chain} (written by iptables-nft)` };
  }
  if (rules.length === 0) return { iptablesNft: false, why: `${name}: no rules` };
  const foreignBase = table.chains.find((c) => c.base && BUILTIN_FOR_HOOK[c.base.hook] !== c.name);
  const uncounted = rules.find(({ rule }) => !rule.expr.some((e) => 'counter' in e));
  if (!foreignBase && !uncounted) {
    return { iptablesNft: true, why: `${name}: iptables-nft's rule shape (built-in chain names, a counter in every rule)` };
  }
  const detail = foreignBase
    ? `base chain ${foreignBase.name} is not iptables' built-in for hook ${foreignBase.base!.hook}`
    : `rule without a counter in chain ${uncounted!.chain}`;
  return { iptablesNft: false, why: `${name}: native nft table (no xtables expression, ${detail}): not evidence for iptables-nft` };
}
