import { isOwnedChain, ruleIdFromComment } from '../../ownership.js';
import type { Ruleset } from '../../model/types.js';
import { firstRuleDifference } from '../rule-diff.js';
import { piecesInOrder, TransactionBuilder } from '../transaction.js';
import type { Op, Piece } from '../transaction.js';
import type { DriftItem, Plan } from '../types.js';
import { stableStringify } from './json.js';
import type { NftBaseSpec, NftCommand, NftRuleSpec } from './json.js';
import { jumpTargets } from './parse.js';
import type { NftState, ObservedNftChain } from './parse.js';
import { desiredNftChains, NFT_FAMILY } from './render.js';
import type { NftOptions } from './render.js';

/** Where a command goes in the one `nft -j -f -` document: chains exist before rules fill them,
 * and every flush comes before the deletes (a doomed chain may still jump to another). */
export const NFT_SECTIONS = ['table', 'chain', 'rule', 'flush', 'delete'] as const;
export type NftPiece = Piece<(typeof NFT_SECTIONS)[number], NftCommand>;

/** The nft commands of a transaction, in the order the document lists them. Pure. */
export function nftCommands(ops: readonly Op<NftPiece>[]): NftCommand[] {
  return piecesInOrder(ops, NFT_SECTIONS).map(({ piece }) => piece.body);
}

const piece = (section: NftPiece['section'], body: NftCommand): NftPiece => ({ section, body });

/**
 * desired chains + observed table → the smallest nft transaction. A chain whose rules differ in
 * any way (missing, extra, reordered, edited) is flushed and refilled inside the same
 * transaction, so there is never a moment with a half-written chain. Objects in the table that
 * tsfw did not create are never touched.
 */
export function planNft(desired: Ruleset, state: NftState, opts: NftOptions): Plan<NftPiece> {
  const want = desiredNftChains(desired, opts);
  const b = new TransactionBuilder<NftPiece>(NFT_FAMILY, opts.table);
  const ref = (name: string) => ({ family: NFT_FAMILY, table: opts.table, name });
  const observed = new Map(state.chains.map((c) => [c.name, c]));
  const foreign = state.chains.filter((c) => !isOwnedChain(c.name));
  const referencedByAdmin = jumpTargets(foreign.flatMap((c) => c.rules));

  if (state.unavailable && want.length > 0) b.warn('nft is not installed (Debian package nftables): tsfw cannot create its table');
  if (want.length === 0) {
    planRemoval(state, foreign, referencedByAdmin, b);
    return b.build();
  }

  if (!state.exists) {
    b.op({ op: 'create-table', reason: 'table missing' }, piece('table', { add: { table: { family: NFT_FAMILY, name: opts.table } } }));
    b.noteDrift({ kind: 'missing', detail: `table ${NFT_FAMILY} ${opts.table} is missing` });
  }
  // Each chain's own ops in turn; the sections put every chain before the rules that fill them.
  for (const chain of want) {
    const seen = observed.get(chain.name);
    const add = piece('chain', { add: { chain: { ...ref(chain.name), ...chain.base } } });
    const refill: NftPiece[] = [];
    if (!seen) {
      b.op({ op: 'create-chain', chain: chain.name, reason: 'chain missing' }, add);
      if (state.exists) b.noteDrift({ kind: 'missing', chain: chain.name, detail: `chain ${chain.name} is missing` });
    } else if (!sameBase(chain.base, seen.base)) {
      // Hook, priority or type cannot change in place: delete and re-create in this transaction.
      const reason = `registration ${describeBase(seen.base)} should be ${describeBase(chain.base)}`;
      b.op({ op: 'replace-chain', chain: chain.name, reason }, piece('chain', { flush: { chain: ref(chain.name) } }), piece('chain', { delete: { chain: ref(chain.name) } }), add);
      b.noteDrift({ kind: 'changed', chain: chain.name, detail: `chain ${chain.name} is ${describeBase(seen.base)}, expected ${describeBase(chain.base)}` });
    } else {
      const difference = compareRules(chain.rules, seen);
      if (!difference) continue;
      refill.push(piece('chain', { flush: { chain: ref(chain.name) } }));
      b.noteDrift({ ...difference, chain: chain.name });
    }
    const rules = chain.rules.map((rule) => piece('rule', { add: { rule } }));
    b.op({ op: 'fill-chain', chain: chain.name, rules: chain.ruleIds, reason: `write ${chain.rules.length} rule(s)` }, ...refill, ...rules);
  }
  // Owned chains that are no longer wanted (divert chains in nodivert, a dropped profile).
  const wanted = new Set(want.map((c) => c.name));
  const stale = state.chains.filter((c) => isOwnedChain(c.name) && !wanted.has(c.name));
  removeChains(stale, referencedByAdmin, b, 'not wanted in this mode');
  return b.build();
}

/** Mode off: the whole table goes, unless the admin keeps objects of their own in it. */
function planRemoval(state: NftState, foreign: readonly ObservedNftChain[], referenced: Set<string>, b: TransactionBuilder<NftPiece>): void {
  if (!state.exists) return;
  if (foreign.length === 0 && state.otherObjects.length === 0) {
    b.op({ op: 'delete-table', reason: 'mode off' }, piece('delete', { delete: { table: { family: NFT_FAMILY, name: b.table } } }));
    b.noteDrift({ kind: 'unexpected', detail: `table ${NFT_FAMILY} ${b.table} exists in mode off` });
    return;
  }
  const names = [...foreign.map((c) => `chain ${c.name}`), ...state.otherObjects].join(', ');
  b.warn(`table ${NFT_FAMILY} ${b.table} also holds the admin's ${names}: kept the table, removed only tsfw's chains`);
  removeChains(state.chains.filter((c) => isOwnedChain(c.name)), referenced, b, 'mode off');
}

/** Flush + delete owned chains; chains an admin's rule still jumps to are only flushed. */
function removeChains(chains: readonly ObservedNftChain[], referenced: Set<string>, b: TransactionBuilder<NftPiece>, reason: string): void {
  // Base chains first: they jump to the regular ones being deleted in the same transaction.
  const ordered = [...chains].sort((x, y) => Number(y.base !== undefined) - Number(x.base !== undefined));
  for (const chain of ordered) {
    const ref = { family: NFT_FAMILY, table: b.table, name: chain.name };
    const flush = piece('flush', { flush: { chain: ref } });
    if (referenced.has(chain.name)) {
      if (chain.rules.length > 0) {
        b.op({ op: 'flush-chain', chain: chain.name, reason: `${reason}; kept because the admin's rules jump to it` }, flush);
        b.noteDrift({ kind: 'unexpected', chain: chain.name, detail: `chain ${chain.name} has rules in ${reason}` });
      }
      b.warn(`chain ${chain.name} is still the target of the admin's jump; flushed it instead of deleting`);
      continue;
    }
    // The delete sits after every flush: a (foreign-added) jump in one doomed chain may target another.
    b.op({ op: 'delete-chain', chain: chain.name, reason }, flush, piece('delete', { delete: { chain: ref } }));
    b.noteDrift({ kind: 'unexpected', chain: chain.name, detail: `chain ${chain.name} exists (${reason})` });
  }
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
  if (sameText(want, seen)) return undefined;
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

/**
 * The converged pass's fast path: rendered rules carry nft's own field order, so a chain whose
 * rules print as the same JSON text (native JSON.stringify; the desired side once per rule) is
 * identical; any other outcome is decided by the key-sorted comparison above.
 */
function sameText(want: readonly NftRuleSpec[], seen: ObservedNftChain): boolean {
  if (want.length !== seen.rules.length) return false;
  return want.every((r, i) => {
    let text = wantTexts.get(r);
    if (text === undefined) wantTexts.set(r, (text = JSON.stringify({ expr: r.expr, comment: r.comment ?? null })));
    const o = seen.rules[i]!;
    return text === JSON.stringify({ expr: o.expr, comment: o.comment ?? null });
  });
}

/** The JSON text of each rendered rule (weakly held: it goes with the rendering). */
const wantTexts = new WeakMap<NftRuleSpec, string>();
