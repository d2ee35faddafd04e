import type { Hook } from '../../model/types.js';
import { chainPolicy, tokenize } from '../../backends/iptables/parse.js';
import { foreignBaseChains, isXtablesTable } from '../parse-ruleset.js';
import type { ForeignChain, ForeignTable } from '../parse-ruleset.js';
import type { Check } from '../types.js';
import { isUnreadable } from '../types.js';
import type { CheckInput } from './context.js';
import { tracePacket } from '../../model/trace.js';
import { evalForeignChain, familySees } from './foreign-eval.js';
import type { OwnedChains, ProbePacket } from './foreign-eval.js';
import { ownership } from './owned.js';
import { checkUfw } from './ufw.js';
import type { Probe } from './probes.js';

/** One other program's base chain that drops (or may drop) one of the probes. */
export interface Blocked {
  readonly where: string;
  readonly probe: Probe;
  readonly verdict: 'drop' | 'unknown';
  readonly how: string;
  readonly fix: string;
}

/** The command that adds the probe's accept to the admin's own chain (iptables for xtables tables). */
function fixFor(table: ForeignTable, chain: ForeignChain, probe: Probe): string {
  if (isXtablesTable(table)) {
    const bin = table.family === 'ip6' ? 'ip6tables' : 'iptables';
    return `${bin} -t ${table.name} -I ${chain.name} ${probe.ipt}`;
  }
  return `nft insert rule ${table.family} ${table.name} ${chain.name} ${probe.nft}`;
}

/** tsfw's chains inside one table, decided by tsfw's own tracer (what its rules do with the packet). */
function ownedChains(input: CheckInput, table: ForeignTable, hook: Hook): OwnedChains {
  const own = ownership(input);
  const dump = isXtablesTable(table) ? input.facts.xtablesSaves?.find((d) => d.family === table.family)?.tables.find((t) => t.table === table.name) : undefined;
  return {
    owned: (chain) => own.chain(table.family, table.name, chain),
    saved(chain, index) {
      const rule = dump?.chains.find((c) => c.name === chain)?.rules[index];
      return rule ? tokenize(rule.spec) : undefined;
    },
    verdict(chain: string, packet: ProbePacket) {
      const chains = input.ruleset.chains.filter((c) => c.name === chain);
      const result = tracePacket({ ...input.ruleset, mode: 'on', chains }, hook, packet).verdict;
      return result === 'accept' || result === 'masquerade' ? 'accept' : result === 'drop' ? 'drop' : undefined;
    },
  };
}

/** Every foreign base chain on the probes' hooks that drops them, best effort, nft and legacy. */
export function findBlocked(input: CheckInput, probes: readonly Probe[]): Blocked[] | string {
  const { ruleset, legacy } = input.facts;
  if (isUnreadable(ruleset)) return ruleset.error;
  const own = { family: 'inet', name: input.config.nftables.table };
  const blocked: Blocked[] = [];
  const ufwJudged = checkUfw(input.facts.ufw, input.facts.backend, input.config, input.ruleset.wants) !== undefined;
  for (const chain of foreignBaseChains(ruleset, own)) {
    // firewalld's table is rebuilt from its zones at every reload: the firewalld check judges it
    // from those zones, and an `nft insert` into it would not survive (checks/firewalld.ts).
    if (chain.table === 'firewalld') continue;
    const table = ruleset.tables.find((t) => t.family === chain.family && t.name === chain.table)!;
    for (const probe of probes) {
      if (chain.base?.hook !== probe.hook || chain.base.type === 'nat' || !familySees(chain.family, probe.packet.family)) continue;
      const outcome = evalForeignChain(table, chain, probe.packet, ownedChains(input, table, chain.base.hook as Hook));
      if (outcome.verdict === 'accept') continue;
      // ufw's chains are judged from ufw's own rules by manager-ufw (ufw.ts), with a persistent fix.
      if (ufwJudged && /in chain ufw6?-/.test(outcome.how)) continue;
      blocked.push({
        where: `table ${chain.family} ${chain.table} chain ${chain.name} (hook ${chain.base.hook}, priority ${chain.base.prio})`,
        probe, verdict: outcome.verdict, how: outcome.how, fix: fixFor(table, chain, probe),
      });
    }
  }
  for (const table of legacy?.tables.filter((t) => t.table === 'filter') ?? []) {
    for (const probe of probes) {
      const builtin = probe.hook.toUpperCase();
      if (chainPolicy(table, builtin) !== 'DROP' || probe.packet.family !== legacy?.family) continue;
      blocked.push({
        where: `iptables-legacy table filter chain ${builtin}`, probe, verdict: 'unknown',
        how: 'policy DROP (legacy rules are not evaluated)', fix: `iptables-legacy -I ${builtin} ${probe.ipt}`,
      });
    }
  }
  return blocked;
}

/** Findings grouped per chain: `table inet admin chain input (...) drops X (policy drop), Y (...)`. */
export function describeBlocked(blocked: readonly Blocked[]): { message: string; fix: string } {
  const byWhere = new Map<string, Blocked[]>();
  for (const b of blocked) byWhere.set(b.where, [...(byWhere.get(b.where) ?? []), b]);
  const parts = [...byWhere].map(([where, list]) =>
    `${where} ${list.some((b) => b.verdict === 'drop') ? 'drops' : 'may drop'} ${list.map((b) => `${b.probe.what} (${b.how})`).join(', ')}`);
  const fixes = [...new Set(blocked.map((b) => b.fix))];
  return { message: parts.join('; '), fix: fixes.join('\n') };
}

/** An accept in tsfw's table is not final: another table's base chain on the hook still drops. */
export function checkForeignDrops(input: CheckInput, hook: Extract<Hook, 'input' | 'forward'>, probes: readonly Probe[]): Check {
  const id = `other-tables-${hook}`;
  const found = findBlocked(input, probes.filter((p) => p.hook === hook));
  if (typeof found === 'string') return { id, status: 'warn', message: `could not read the ruleset to look for other tables' drops: ${found}`, fix: 'run tsfw doctor as root' };
  if (found.length === 0) {
    return { id, status: 'ok', message: `no base chain in another table drops what tsfw accepts on ${hook} (best effort: simple matches and policies)`, fix: null };
  }
  const { message, fix } = describeBlocked(found);
  return { id, status: 'warn', message: `an nftables accept is not final across tables: ${message}`, fix };
}
