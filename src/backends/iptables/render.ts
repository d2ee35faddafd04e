import { formatPrefix } from '../../model/net.js';
import type { Action, Chain, CtState, Family, Hook, Match, Rule, Ruleset } from '../../model/types.js';
import { JUMP_TAG, ruleComment } from '../../ownership.js';

/**
 * Model → iptables rule lines, spelled exactly the way `iptables-save` prints them back (checked
 * by round-trip through iptables-restore/iptables-save of both flavours), so that comparing
 * desired and observed state is a plain string comparison.
 */

/** The tables tsfw writes: `filter` (ts-input, ts-forward), `nat` (ts-postrouting), `mangle` (connmark, MSS). */
export type IptTable = 'filter' | 'nat' | 'mangle';
export const IPT_TABLES = ['filter', 'nat', 'mangle'] as const satisfies readonly IptTable[];

/** The built-in chain each hook diverts from, per table (a filter chain has no POSTROUTING). */
const BUILTIN: Record<IptTable, Partial<Record<Hook, string>>> = {
  filter: { input: 'INPUT', forward: 'FORWARD', output: 'OUTPUT' },
  nat: { input: 'INPUT', output: 'OUTPUT', postrouting: 'POSTROUTING' },
  mangle: { prerouting: 'PREROUTING', input: 'INPUT', forward: 'FORWARD', output: 'OUTPUT', postrouting: 'POSTROUTING' },
};

/** Built-in chains of the tables tsfw touches: the only chains with a policy. */
export const BUILTIN_CHAINS: Readonly<Record<IptTable, readonly string[]>> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
};

/** One rule as a `-A chain ...` line, with the model id it came from. */
export interface IptRuleLine {
  readonly id: string;
  readonly line: string;
}

/** A ts-* chain for one family and table, and the built-in chain mode `on` jumps from. */
export interface IptDesiredChain {
  readonly name: string;
  readonly builtin: string;
  readonly rules: readonly IptRuleLine[];
}

/** Everything tsfw wants in one (family, table). */
export interface IptDesiredTable {
  readonly family: Family;
  readonly table: IptTable;
  readonly chains: readonly IptDesiredChain[];
}

/** iptables-save prints conntrack states in this fixed order, whatever order they were given in. */
const CT_ORDER: readonly CtState[] = ['invalid', 'new', 'related', 'established', 'untracked'];
const U32 = 0xffff_ffff;

/** Double-quoted the way iptables-save quotes comments (backslash before `"` and `\`). */
export function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

function iface(flag: '-i' | '-o', m: { name: string; negate: boolean }): string {
  return `${m.negate ? '! ' : ''}${flag} ${m.name}`;
}

/** The match part of a rule in iptables-save's order: addresses, interfaces, protocol, modules. */
function renderMatch(m: Match): string[] {
  const out: string[] = [];
  if (m.saddr) out.push(`-s ${formatPrefix(m.saddr)}`);
  if (m.daddr) out.push(`-d ${formatPrefix(m.daddr)}`);
  if (m.iif) out.push(iface('-i', m.iif));
  if (m.oif) out.push(iface('-o', m.oif));
  if (m.l4proto) out.push(`-p ${m.l4proto}`);
  if (m.l4proto && (m.sport !== undefined || m.dport !== undefined)) {
    out.push(`-m ${m.l4proto}`);
    if (m.sport !== undefined) out.push(`--sport ${m.sport}`);
    if (m.dport !== undefined) out.push(`--dport ${m.dport}`);
  }
  // TCPMSS only accepts rules that match SYN packets this way.
  if (m.tcpFlags === 'syn') out.push('-m tcp --tcp-flags SYN,RST SYN');
  if (m.mark) out.push(`-m mark --mark ${hex(m.mark.value)}${m.mark.mask === U32 ? '' : `/${hex(m.mark.mask)}`}`);
  if (m.ctState) {
    const states = CT_ORDER.filter((s) => m.ctState!.states.includes(s)).map((s) => s.toUpperCase());
    out.push(`-m conntrack ${m.ctState.negate ? '! ' : ''}--ctstate ${states.join(',')}`);
  }
  return out;
}

function renderTarget(a: Action): string {
  switch (a.kind) {
    case 'accept':
      return '-j ACCEPT';
    case 'drop':
      return '-j DROP';
    case 'return':
      return '-j RETURN';
    case 'masquerade':
      return '-j MASQUERADE';
    case 'clamp-mss':
      return '-j TCPMSS --clamp-mss-to-pmtu';
    case 'set-mark':
      // MARK --set-xmark v/m clears the mask bits and XORs v; with v inside m that is (mark & ~m) | v.
      return `-j MARK --set-xmark ${hex(a.value)}/${hex(a.mask)}`;
    // CONNMARK with --nfmask/--ctmask copies only the bits under the mask, as Tailscale writes it.
    case 'restore-mark':
      return `-j CONNMARK --restore-mark --nfmask ${hex(a.mask)} --ctmask ${hex(a.mask)}`;
    case 'save-mark':
      return `-j CONNMARK --save-mark --nfmask ${hex(a.mask)} --ctmask ${hex(a.mask)}`;
  }
}

/** A connmark copy only acts when its source carries bits under the mask (never copies zeros). */
function copyGuard(a: Action): string[] {
  if (a.kind === 'restore-mark') return [`-m connmark ! --mark 0x0/${hex(a.mask)}`];
  if (a.kind === 'save-mark') return [`-m mark ! --mark 0x0/${hex(a.mask)}`];
  return [];
}

/** One model rule in one chain → its canonical `-A` line; the comment (rule id) comes last. */
export function renderRuleLine(rule: Rule, chain: string): string {
  return ['-A', chain, ...renderMatch(rule.match), ...copyGuard(rule.action), '-m comment --comment', quote(ruleComment(rule.id)), renderTarget(rule.action)].join(' ');
}

/** The spec (everything after `-A CHAIN `) of tsfw's tagged jump into `target`. */
export function jumpSpec(target: string): string {
  return `-m comment --comment ${quote(JUMP_TAG)} -j ${target}`;
}

/** The built-in chain a model chain is diverted from; throws for combinations iptables lacks. */
export function builtinFor(chain: Chain): string {
  const builtin = BUILTIN[chain.kind][chain.hook];
  if (!builtin) throw new Error(`chain ${chain.name}: iptables has no ${chain.hook} hook in the ${chain.kind} table`);
  return builtin;
}

/**
 * Desired chains per (family, table), in the order iptables-restore must create them. Mode off
 * wants nothing; on and nodivert want the same chains (only the jumps differ, see plan.ts).
 */
export function desiredIptTables(desired: Ruleset): IptDesiredTable[] {
  if (desired.mode === 'off') return [];
  const out: IptDesiredTable[] = [];
  for (const family of desired.families) {
    for (const table of IPT_TABLES) {
      const chains = desired.chains
        .filter((chain) => chain.kind === table)
        .map((chain) => ({
          name: chain.name,
          builtin: builtinFor(chain),
          rules: chain.rules
            .filter((rule) => rule.families.includes(family))
            .map((rule) => ({ id: rule.id, line: renderRuleLine(rule, chain.name) })),
        }));
      if (chains.length > 0) out.push({ family, table, chains });
    }
  }
  return out;
}
