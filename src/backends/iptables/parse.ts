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

/** The token after the last ` -j ` / ` -g ` of an unquoted spec (the rule's target), if any. */
function plainTarget(spec: string): string | undefined {
  const inside = Math.max(spec.lastIndexOf(' -j '), spec.lastIndexOf(' -g '));
  const from = inside !== -1 ? inside + 4 : spec.startsWith('-j ') || spec.startsWith('-g ') ? 3 : -1;
  if (from === -1) return undefined;
  const end = spec.indexOf(' ', from);
  const token = spec.slice(from, end === -1 ? undefined : end);
  return token === '' ? undefined : token;
}

/** One rule from its spec (the text after `-A CHAIN `), picking out comment and target. */
export function ruleFrom(chain: string, spec: string, packets: number, bytes: number): IptRule {
  const rule: { -readonly [K in keyof IptRule]: IptRule[K] } = { chain, spec, packets, bytes };
  // Most rules have no quoted text: then plain string search finds the same comment and target as
  // tokenizing, and 20,000 foreign rules parse in a few milliseconds.
  if (!spec.includes('"')) {
    const c = spec.indexOf('--comment ');
    if (c !== -1 && (c === 0 || spec[c - 1] === ' ')) {
      const end = spec.indexOf(' ', c + 10);
      rule.comment = spec.slice(c + 10, end === -1 ? undefined : end);
    }
    const target = plainTarget(spec);
    if (target !== undefined) rule.target = target;
    return rule;
  }
  const tokens = tokenize(spec);
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i];
    if (t === '--comment' && rule.comment === undefined) rule.comment = tokens[i + 1];
    if (t === '-j' || t === '-g') rule.target = tokens[i + 1];
  }
  return rule;
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
    if (line === '') continue;
    if (line.startsWith('#')) {
      const incompatible = INCOMPATIBLE.exec(line);
      if (incompatible) throw new IncompatibleTableError(incompatible[1]!, line);
      continue;
    }
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
    // `[packets:bytes] -A CHAIN spec` (-c) or `-A CHAIN spec`, split by hand: this runs per rule.
    let packets = 0;
    let bytes = 0;
    let body = line;
    if (line.startsWith('[')) {
      const close = line.indexOf('] ');
      const colon = line.indexOf(':');
      if (close === -1 || colon === -1 || colon > close) continue;
      packets = Number(line.slice(1, colon));
      bytes = Number(line.slice(colon + 1, close));
      body = line.slice(close + 2);
    }
    if (!body.startsWith('-A ')) continue;
    const space = body.indexOf(' ', 3);
    if (space === -1) continue;
    const chainName = body.slice(3, space);
    let chain = table.chains.get(chainName);
    if (!chain) {
      chain = { name: chainName, rules: [] };
      table.chains.set(chainName, chain);
    }
    chain.rules.push(ruleFrom(chainName, body.slice(space + 1), packets, bytes));
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
