import { isOwnedChain, isOwnedJumpComment, ruleIdFromComment } from '../../ownership.js';
import type { IptChain, IptTableDump } from '../../backends/iptables/parse.js';
import { isXtablesTable } from '../parse-ruleset.js';
import type { ForeignRule } from '../parse-ruleset.js';
import type { CheckInput } from './context.js';

/**
 * Which objects in the host's ruleset are tsfw's own, so that no check reports them: tsfw's nft
 * table, and on the iptables backends its `ts-*` chains and `tsfw:jump` rules inside the
 * iptables tables. `nft -j list ruleset` does not show the text of an xtables comment, so the
 * iptables-nft-save dumps (and iptables-legacy-save) decide: a `ts-*` chain is tsfw's when every
 * rule in it carries a `tsfw:` tag (tailscaled writes the same chain names without tags).
 */

export interface Ownership {
  /** A chain (of an nft-listed table) that tsfw created. */
  chain(family: string, table: string, chain: string): boolean;
  /** Rule `index` of a chain: in one of tsfw's chains, one of its tagged jumps, or tagged itself. */
  rule(family: string, table: string, chain: string, index: number, rule: ForeignRule): boolean;
  /** A chain of an iptables-legacy dump that tsfw created. */
  legacyChain(table: string, chain: IptChain): boolean;
}

/** A `ts-*` chain whose every rule carries tsfw's tag (an empty one too: tailscaled never leaves one empty). */
function taggedOwnedChain(chain: IptChain | undefined): boolean {
  return chain !== undefined && isOwnedChain(chain.name) && chain.rules.every((r) => ruleIdFromComment(r.comment) !== undefined);
}

function dumpChain(dumps: readonly IptTableDump[] | undefined, table: string, chain: string): IptChain | undefined {
  return dumps?.find((t) => t.table === table)?.chains.find((c) => c.name === chain);
}

/** The ownership view of the gathered facts. Pure. */
export function ownership(input: CheckInput): Ownership {
  const ownTable = (family: string, table: string) => family === 'inet' && table === input.config.nftables.table;
  const saves = input.facts.xtablesSaves;
  const dumpsFor = (family: string) => saves?.find((d) => d.family === family)?.tables;
  const chain = (family: string, table: string, name: string): boolean => {
    if (ownTable(family, table)) return true;
    if (!isXtablesTable({ family, name: table })) return false;
    return taggedOwnedChain(dumpChain(dumpsFor(family), table, name));
  };
  return {
    chain,
    rule(family, table, chainName, index, rule) {
      if (chain(family, table, chainName) || ruleIdFromComment(rule.comment) !== undefined || isOwnedJumpComment(rule.comment)) return true;
      if (!isXtablesTable({ family, name: table })) return false;
      return isOwnedJumpComment(dumpChain(dumpsFor(family), table, chainName)?.rules[index]?.comment);
    },
    legacyChain: (_table, c) => taggedOwnedChain(c),
  };
}
