import ipaddr from 'ipaddr.js';
import type { NftExpr } from '../../backends/nftables/json.js';
import type { TracePacket } from '../../model/trace.js';
import type { Family } from '../../model/types.js';
import type { ForeignChain, ForeignRule, ForeignTable } from '../parse-ruleset.js';
import { evalXtMatch } from './xt-matches.js';
import type { Tri } from './xt-matches.js';

/**
 * Best-effort evaluation of a packet through another program's nft base chain: the simple
 * matches (interfaces, addresses, protocol, ports, ct state, mark) are understood; anything else
 * makes the answer "unknown" rather than a guess. Used by doctor to find chains that drop what
 * tsfw accepts.
 */

export interface ProbePacket extends TracePacket {
  readonly family: Family;
}

/**
 * tsfw's own chains met on the way (its `ts-*` chains in the iptables tables, jumped to from a
 * built-in chain): `owned` says which they are, `verdict` what tsfw's own rules decide for the
 * packet there (its tracer over the desired ruleset), undefined when tsfw lets it continue.
 */
export interface OwnedChains {
  owned(chain: string): boolean;
  verdict(chain: string, packet: ProbePacket): 'accept' | 'drop' | undefined;
  /**
   * The tokens of rule `index` of `chain` as iptables-nft-save printed it (xtables tables only):
   * the options of xt matches, which the nft listing does not show.
   */
  saved?(chain: string, index: number): readonly string[] | undefined;
}

export interface ForeignOutcome {
  readonly verdict: 'accept' | 'drop' | 'unknown';
  /** `policy drop`, or the rule that decided (`rule 3 "comment"`, `rule 2 in chain X`). */
  readonly how: string;
}


const PROTO_NUMBERS: Record<string, number> = { tcp: 6, udp: 17, 'ipv6-icmp': 58, icmpv6: 58 };

function sameValue(have: string | number | undefined, right: unknown): Tri {
  if (have === undefined) return false;
  if (typeof right === 'number' || typeof right === 'string') {
    if (typeof right === 'string' && right.endsWith('*') && typeof have === 'string') return have.startsWith(right.slice(0, -1));
    if (typeof have === 'string' && typeof right === 'number') return PROTO_NUMBERS[have] === right;
    return have === right;
  }
  const set = (right as { set?: unknown[] } | null)?.set;
  if (Array.isArray(set)) {
    let result: Tri = false;
    for (const item of set) {
      const one = sameValue(have, item);
      if (one === true) return true;
      if (one === 'unknown') result = 'unknown';
    }
    return result;
  }
  const range = (right as { range?: [unknown, unknown] } | null)?.range;
  if (range && typeof have === 'number' && typeof range[0] === 'number' && typeof range[1] === 'number') {
    return have >= range[0] && have <= range[1];
  }
  return 'unknown';
}

function addressIn(addr: string, right: unknown): Tri {
  const parsed = ipaddr.parse(addr);
  const test = (item: unknown): Tri => {
    if (typeof item === 'string') {
      if (!ipaddr.isValid(item)) return 'unknown';
      const other = ipaddr.parse(item);
      return other.kind() === parsed.kind() && other.toString() === parsed.toString();
    }
    const prefix = (item as { prefix?: { addr: string; len: number } } | null)?.prefix;
    if (prefix && ipaddr.isValid(prefix.addr)) {
      const net = ipaddr.parse(prefix.addr);
      return net.kind() === parsed.kind() && parsed.match(net, prefix.len);
    }
    return 'unknown';
  };
  const set = (right as { set?: unknown[] } | null)?.set;
  if (!Array.isArray(set)) return test(right);
  let result: Tri = false;
  for (const item of set) {
    const one = test(item);
    if (one === true) return true;
    if (one === 'unknown') result = 'unknown';
  }
  return result;
}

function ctStateIn(state: string, right: unknown): Tri {
  const states = Array.isArray(right) ? right : typeof right === 'string' ? [right] : (right as { set?: unknown[] } | null)?.set;
  return Array.isArray(states) ? states.includes(state) : 'unknown';
}

/** What the left-hand side of a match says about this packet, or undefined when not understood. */
function leftValue(left: NftExpr, p: ProbePacket): { kind: 'value'; value: string | number | undefined } | { kind: 'addr' | 'ct'; value: string } | { kind: 'proto-dep'; proto: string } | undefined {
  if ('meta' in left) {
    const key = (left.meta as { key: string }).key;
    // `iif`/`oif` compare the interface index; for named probe interfaces the name stands for it.
    if (key === 'iifname' || key === 'iif') return { kind: 'value', value: p.iif ?? '' };
    if (key === 'oifname' || key === 'oif') return { kind: 'value', value: p.oif ?? '' };
    if (key === 'l4proto') return { kind: 'value', value: p.proto };
    if (key === 'nfproto') return { kind: 'value', value: p.family === 'ip' ? 'ipv4' : 'ipv6' };
    if (key === 'mark') return { kind: 'value', value: p.mark ?? 0 };
    return undefined;
  }
  if ('payload' in left) {
    const { protocol, field } = left.payload as { protocol: string; field: string };
    if ((protocol === 'ip' || protocol === 'ip6') && (field === 'saddr' || field === 'daddr')) {
      if ((protocol === 'ip') !== (p.family === 'ip')) return { kind: 'value', value: undefined };
      return { kind: 'addr', value: field === 'saddr' ? p.src : p.dst };
    }
    if ((protocol === 'ip' && field === 'protocol') || (protocol === 'ip6' && field === 'nexthdr')) {
      return { kind: 'value', value: p.proto };
    }
    if ((protocol === 'tcp' || protocol === 'udp' || protocol === 'th') && (field === 'sport' || field === 'dport')) {
      if (protocol !== 'th' && p.proto !== protocol) return { kind: 'proto-dep', proto: protocol };
      return { kind: 'value', value: field === 'sport' ? p.sport : p.dport };
    }
    return undefined;
  }
  if ('ct' in left && (left.ct as { key: string }).key === 'state') return { kind: 'ct', value: p.ctState ?? 'new' };
  // The probes are not NATed: no ct status bit (dnat, snat, ...) is set.
  if ('ct' in left && (left.ct as { key: string }).key === 'status') return { kind: 'value', value: undefined };
  if ('&' in left) {
    const [inner, mask] = left['&'] as [NftExpr, unknown];
    if ('meta' in inner && (inner.meta as { key: string }).key === 'mark' && typeof mask === 'number') {
      return { kind: 'value', value: ((p.mark ?? 0) & mask) >>> 0 };
    }
  }
  return undefined;
}

function evalMatch(m: { op: string; left: NftExpr; right: unknown }, p: ProbePacket): Tri {
  const left = leftValue(m.left, p);
  if (!left) return 'unknown';
  // A port match on another protocol never matches, whatever the operator (nft's implicit dependency).
  if (left.kind === 'proto-dep') return false;
  let equal: Tri;
  if (left.kind === 'addr') equal = addressIn(left.value, m.right);
  else if (left.kind === 'ct') equal = ctStateIn(left.value, m.right);
  else equal = sameValue(left.value, m.right);
  if (equal === 'unknown') return 'unknown';
  switch (m.op) {
    case '==':
    case 'in':
      return equal;
    case '!=':
    case '!':
      return !equal;
    default:
      return 'unknown';
  }
}

type RuleVerdict = { kind: 'none' } | { kind: 'accept' | 'drop' | 'return' | 'unknown' } | { kind: 'jump' | 'goto'; target: string };

/** Conditions and the verdict of one rule. */
function inspectRule(rule: ForeignRule, p: ProbePacket, saved?: readonly string[]): { matches: Tri; verdict: RuleVerdict } {
  let matches: Tri = true;
  let verdict: RuleVerdict = { kind: 'none' };
  for (const e of rule.expr) {
    if ('match' in e) {
      const r = evalMatch(e.match as { op: string; left: NftExpr; right: unknown }, p);
      if (r === false) return { matches: false, verdict };
      if (r === 'unknown') matches = 'unknown';
    } else if ('accept' in e) verdict = { kind: 'accept' };
    else if ('drop' in e || 'reject' in e) verdict = { kind: 'drop' };
    else if ('return' in e) verdict = { kind: 'return' };
    else if ('jump' in e || 'goto' in e) {
      const kind = 'jump' in e ? 'jump' : 'goto';
      verdict = { kind, target: ((e[kind] as { target?: string }).target) ?? '' };
    } else if ('xt' in e) {
      const xt = e.xt as { type?: string; name?: string };
      if (xt.type === 'target') verdict = { kind: 'unknown' };
      else if (xt.name !== 'comment') {
        const r = saved && xt.name ? evalXtMatch(xt.name, saved, p) : 'unknown';
        if (r === false) return { matches: false, verdict };
        if (r === 'unknown') matches = 'unknown';
      }
    } else if ('masquerade' in e || 'snat' in e || 'dnat' in e || 'redirect' in e) verdict = { kind: 'accept' };
    else if ('queue' in e) verdict = { kind: 'unknown' };
    else if ('limit' in e || 'quota' in e) matches = 'unknown';
    // counter, log, mangle, set updates, notrack, ...: statements that do not decide.
  }
  return { matches, verdict };
}

function describeRule(chain: ForeignChain, index: number, rule: ForeignRule): string {
  return `rule ${index + 1}${rule.comment ? ` "${rule.comment}"` : ''} in chain ${chain.name}`;
}

/** Walks one chain; `undefined` means "fell off the end of a regular chain" (return to caller). */
function walk(table: ForeignTable, chain: ForeignChain, p: ProbePacket, depth: number, own?: OwnedChains): ForeignOutcome | undefined {
  if (depth > 16) return { verdict: 'unknown', how: `jumps nest deeper than 16 at chain ${chain.name}` };
  for (const [i, rule] of chain.rules.entries()) {
    const { matches, verdict } = inspectRule(rule, p, own?.saved?.(chain.name, i));
    if (matches === false || verdict.kind === 'none') continue;
    const how = describeRule(chain, i, rule);
    if (matches === 'unknown' || verdict.kind === 'unknown') return { verdict: 'unknown', how: `${how} (not understood)` };
    if (verdict.kind === 'accept' || verdict.kind === 'drop') return { verdict: verdict.kind, how };
    if (verdict.kind === 'return') return undefined;
    if (!('target' in verdict)) return undefined;
    const targetName = verdict.target;
    if (own?.owned(targetName)) {
      const decided = own.verdict(targetName, p);
      if (decided) return { verdict: decided, how: `${how} → tsfw's chain ${targetName} (${decided})` };
      if (verdict.kind === 'goto') return undefined;
      continue;
    }
    const target = table.chains.find((c) => c.name === targetName);
    if (!target) return { verdict: 'unknown', how: `${how} jumps to a missing chain` };
    const inner = walk(table, target, p, depth + 1, own);
    if (inner) return inner;
    if (verdict.kind === 'goto') return undefined;
  }
  return undefined;
}

/** The fate of `packet` in a base chain of another table: accept, drop or unknown (and why). */
export function evalForeignChain(table: ForeignTable, chain: ForeignChain, packet: ProbePacket, own?: OwnedChains): ForeignOutcome {
  const outcome = walk(table, chain, packet, 0, own);
  if (outcome) return outcome;
  const policy = chain.base?.policy ?? 'accept';
  return { verdict: policy, how: `policy ${policy}` };
}

/** Whether a base chain of this table family sees packets of `family`. */
export function familySees(tableFamily: string, family: Family): boolean {
  return tableFamily === 'inet' || tableFamily === family;
}
