import { isOwnedJumpComment } from '../../ownership.js';

/**
 * Parses `iptables-save -c` output (either flavour, either family) into chains and rules. Rules
 * are kept as the exact text iptables-save printed, because that text is the canonical form the
 * renderer produces; only the comment, target and counters are picked out.
 */

/** One rule as listed. `spec` is everything after `-A CHAIN ` (what `-D CHAIN spec` needs). */
export interface IptRule {
  readonly chain: string;
  readonly spec: string;
  readonly comment?: string;
  /** `-j X` or `-g X`. */
  readonly target?: string;
  readonly packets: number;
  readonly bytes: number;
}

export interface IptChain {
  readonly name: string;
  /** Built-in chains carry a policy (ACCEPT, DROP); user chains print `-`. */
  readonly policy?: string;
  readonly rules: readonly IptRule[];
}

export interface IptTableDump {
  readonly table: string;
  readonly chains: readonly IptChain[];
}

/** iptables-nft-save cannot show a table (native nft rules or base chains in it). */
export class IncompatibleTableError extends Error {
  constructor(readonly table: string, readonly line: string) {
    super(`table ${table}: ${line.replace(/^#\s*/, '')}`);
    this.name = 'IncompatibleTableError';
  }
}

const INCOMPATIBLE = /^# Table `(\w+)' (?:is incompatible|contains incompatible base-chains)/;

/** Splits a rule the way iptables-restore does: whitespace-separated, double quotes with `\` escapes. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let quoted = false;
  let started = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '\\' && i + 1 < text.length) current += text[++i];
      else if (c === '"') quoted = false;
      else current += c;
    } else if (c === '"') {
      quoted = true;
      started = true;
    } else if (c === ' ' || c === '\t') {
      if (started) tokens.push(current);
      current = '';
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (started) tokens.push(current);
  return tokens;
}

/** One rule from its spec (the text after `-A CHAIN `), picking out comment and target. */
export function ruleFrom(chain: string, spec: string, packets: number, bytes: number): IptRule {
  const tokens = tokenize(spec);
  let comment: string | undefined;
  let target: string | undefined;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i];
    if (t === '--comment' && comment === undefined) comment = tokens[i + 1];
    if (t === '-j' || t === '-g') target = tokens[i + 1];
  }
  return { chain, spec, packets, bytes, ...(comment === undefined ? {} : { comment }), ...(target === undefined ? {} : { target }) };
}

/**
 * Parses a whole dump (several `*table` … `COMMIT` sections). Throws IncompatibleTableError when
 * iptables-nft-save says it could not show a table: such a table is never written to.
 */
export function parseIptablesSave(text: string): IptTableDump[] {
  const tables: IptTableDump[] = [];
  let table: { table: string; chains: Map<string, { name: string; policy?: string; rules: IptRule[] }> } | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const incompatible = INCOMPATIBLE.exec(line);
    if (incompatible) throw new IncompatibleTableError(incompatible[1]!, line);
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      table = { table: line.slice(1), chains: new Map() };
      continue;
    }
    if (!table) continue;
    if (line === 'COMMIT') {
      tables.push({ table: table.table, chains: [...table.chains.values()] });
      table = undefined;
      continue;
    }
    if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(' ');
      table.chains.set(name!, { name: name!, ...(policy && policy !== '-' ? { policy } : {}), rules: [] });
      continue;
    }
    const counted = /^\[(\d+):(\d+)\] (.*)$/.exec(line);
    const body = counted ? counted[3]! : line;
    const rule = /^-A (\S+) (.*)$/.exec(body);
    if (!rule) continue;
    const chainName = rule[1]!;
    let chain = table.chains.get(chainName);
    if (!chain) {
      chain = { name: chainName, rules: [] };
      table.chains.set(chainName, chain);
    }
    chain.rules.push(ruleFrom(chainName, rule[2]!, Number(counted?.[1] ?? 0), Number(counted?.[2] ?? 0)));
  }
  return tables;
}

/** A rule's canonical line, as the renderer writes it. */
export function ruleLine(rule: IptRule): string {
  return `-A ${rule.chain} ${rule.spec}`;
}

/** tsfw's own jump rules (tagged with JUMP_TAG) in a chain. */
export function taggedJumps(chain: IptChain | undefined): IptRule[] {
  return (chain?.rules ?? []).filter((r) => isOwnedJumpComment(r.comment));
}

/** A built-in chain's policy in a parsed table (undefined for user chains or a missing chain). */
export function chainPolicy(table: IptTableDump, chain: string): string | undefined {
  return table.chains.find((c) => c.name === chain)?.policy;
}
