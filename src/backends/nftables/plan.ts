import { isOwnedChain, ruleIdFromComment } from '../../ownership.js';
import type { Ruleset } from '../../model/types.js';
import { firstRuleDifference } from '../rule-diff.js';
import type { DriftItem, Plan, PlannedAction } from '../types.js';
import { stableStringify } from './json.js';
import type { NftBaseSpec, NftCommand, NftRuleSpec } from './json.js';
import { jumpTargets } from './parse.js';
import type { NftState, ObservedNftChain } from './parse.js';
import { desiredNftChains, NFT_FAMILY } from './render.js';
import type { DesiredNftChain, NftOptions } from './render.js';

/**
 * desired chains + observed table → the smallest nft transaction. A chain whose rules differ in
 * any way (missing, extra, reordered, edited) is flushed and refilled inside the same
 * transaction, so there is never a moment with a half-written chain. Objects in the table that
 * tsfw did not create are never touched.
 */
export function planNft(desired: Ruleset, state: NftState, opts: NftOptions): Plan<NftCommand[]> {
  const want = desiredNftChains(desired, opts);
  const b = new PlanBuilder(opts.table);
  const observed = new Map(state.chains.map((c) => [c.name, c]));
  const foreign = state.chains.filter((c) => !isOwnedChain(c.name));
  const referencedByAdmin = jumpTargets(foreign.flatMap((c) => c.rules));

  if (state.unavailable && want.length > 0) b.warn('nft is not installed (Debian package nftables): tsfw cannot create its table');
  if (want.length === 0) {
    planRemoval(state, foreign, referencedByAdmin, b);
    return b.build();
  }

  if (!state.exists) {
    b.command({ add: { table: { family: NFT_FAMILY, name: opts.table } } });
    b.action({ op: 'create-table', reason: 'table missing' });
    b.drift({ kind: 'missing', detail: `table ${NFT_FAMILY} ${opts.table} is missing` });
  }
  // Chains first (jumps need their targets), regular before base chains, then fills.
  const fills: DesiredNftChain[] = [];
  for (const chain of want) {
    const seen = observed.get(chain.name);
    if (!seen) {
      b.command({ add: { chain: { ...b.ref(chain.name), ...chain.base } } });
      b.action({ op: 'create-chain', chain: chain.name, reason: 'chain missing' });
      if (state.exists) b.drift({ kind: 'missing', chain: chain.name, detail: `chain ${chain.name} is missing` });
      fills.push(chain);
      continue;
    }
    if (!sameBase(chain.base, seen.base)) {
      // Hook, priority or type cannot change in place: delete and re-create in this transaction.
      b.command({ flush: { chain: b.ref(chain.name) } });
      b.command({ delete: { chain: b.ref(chain.name) } });
      b.command({ add: { chain: { ...b.ref(chain.name), ...chain.base } } });
      b.action({ op: 'replace-chain', chain: chain.name, reason: `registration ${describeBase(seen.base)} should be ${describeBase(chain.base)}` });
      b.drift({ kind: 'changed', chain: chain.name, detail: `chain ${chain.name} is ${describeBase(seen.base)}, expected ${describeBase(chain.base)}` });
      fills.push(chain);
      continue;
    }
    const difference = compareRules(chain.rules, seen);
    if (difference) {
      b.command({ flush: { chain: b.ref(chain.name) } });
      b.drift({ ...difference, chain: chain.name });
      fills.push(chain);
    }
  }
  for (const chain of fills) {
    for (const rule of chain.rules) b.command({ add: { rule } });
    b.action({ op: 'fill-chain', chain: chain.name, rules: chain.ruleIds, reason: `write ${chain.rules.length} rule(s)` });
  }
  // Owned chains that are no longer wanted (divert chains in nodivert, a dropped profile).
  const wanted = new Set(want.map((c) => c.name));
  const stale = state.chains.filter((c) => isOwnedChain(c.name) && !wanted.has(c.name));
  removeChains(stale, referencedByAdmin, b, 'not wanted in this mode');
  return b.build();
}

/** Mode off: the whole table goes, unless the admin keeps objects of their own in it. */
function planRemoval(state: NftState, foreign: readonly ObservedNftChain[], referenced: Set<string>, b: PlanBuilder): void {
  if (!state.exists) return;
  if (foreign.length === 0 && state.otherObjects.length === 0) {
    b.command({ delete: { table: { family: NFT_FAMILY, name: b.table } } });
    b.action({ op: 'delete-table', reason: 'mode off' });
    b.drift({ kind: 'unexpected', detail: `table ${NFT_FAMILY} ${b.table} exists in mode off` });
    return;
  }
  const names = [...foreign.map((c) => `chain ${c.name}`), ...state.otherObjects].join(', ');
  b.warn(`table ${NFT_FAMILY} ${b.table} also holds the admin's ${names}: kept the table, removed only tsfw's chains`);
  removeChains(state.chains.filter((c) => isOwnedChain(c.name)), referenced, b, 'mode off');
}

/** Flush + delete owned chains; chains an admin's rule still jumps to are only flushed. */
function removeChains(chains: readonly ObservedNftChain[], referenced: Set<string>, b: PlanBuilder, reason: string): void {
  // Base chains first: they jump to the regular ones being deleted in the same transaction.
  const ordered = [...chains].sort((x, y) => Number(y.base !== undefined) - Number(x.base !== undefined));
  const deletes: string[] = [];
  for (const chain of ordered) {
    if (referenced.has(chain.name)) {
      if (chain.rules.length > 0) {
        b.command({ flush: { chain: b.ref(chain.name) } });
        b.action({ op: 'flush-chain', chain: chain.name, reason: `${reason}; kept because the admin's rules jump to it` });
        b.drift({ kind: 'unexpected', chain: chain.name, detail: `chain ${chain.name} has rules in ${reason}` });
      }
      b.warn(`chain ${chain.name} is still the target of the admin's jump; flushed it instead of deleting`);
      continue;
    }
    b.command({ flush: { chain: b.ref(chain.name) } });
    deletes.push(chain.name);
    b.action({ op: 'delete-chain', chain: chain.name, reason });
    b.drift({ kind: 'unexpected', chain: chain.name, detail: `chain ${chain.name} exists (${reason})` });
  }
  // Deletes after every flush: a (foreign-added) jump in one doomed chain may target another.
  for (const name of deletes) b.command({ delete: { chain: b.ref(name) } });
}

function sameBase(a: NftBaseSpec | undefined, b: NftBaseSpec | undefined): boolean {
  if (!a || !b) return a === b;
  return a.type === b.type && a.hook === b.hook && a.prio === b.prio && a.policy === b.policy;
}

function describeBase(base: NftBaseSpec | undefined): string {
  return base ? `type ${base.type} hook ${base.hook} priority ${base.prio} policy ${base.policy}` : 'a regular chain';
}

/** The first difference between desired and observed rules, or undefined when identical. */
function compareRules(want: readonly NftRuleSpec[], seen: ObservedNftChain): Omit<DriftItem, 'family' | 'table'> | undefined {
  const key = (r: { expr: readonly unknown[]; comment?: string }) => stableStringify({ expr: r.expr, comment: r.comment ?? null });
  return firstRuleDifference(
    seen.name,
    want.map((r) => ({ key: key(r), id: ruleIdFromComment(r.comment) ?? '?' })),
    seen.rules.map((r) => {
      const id = ruleIdFromComment(r.comment);
      return { key: key(r), where: `handle ${r.handle}`, ...(id ? { id } : {}) };
    }),
  );
}

/** Accumulates commands, actions and drift with the table filled in. */
class PlanBuilder {
  private readonly commands: NftCommand[] = [];
  private readonly actions: PlannedAction[] = [];
  private readonly drifts: DriftItem[] = [];
  private readonly warnings: string[] = [];
  constructor(readonly table: string) {}
  ref(name: string) {
    return { family: NFT_FAMILY, table: this.table, name };
  }
  command(c: NftCommand): void {
    this.commands.push(c);
  }
  action(a: Omit<PlannedAction, 'family' | 'table'>): void {
    this.actions.push({ family: NFT_FAMILY, table: this.table, ...a });
  }
  drift(d: Omit<DriftItem, 'family' | 'table'>): void {
    this.drifts.push({ family: NFT_FAMILY, table: this.table, ...d });
  }
  warn(message: string): void {
    this.warnings.push(message);
  }
  build(): Plan<NftCommand[]> {
    return { actions: this.actions, drift: this.drifts, warnings: this.warnings, payload: this.commands };
  }
}
