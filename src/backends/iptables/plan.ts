import type { Family, Ruleset } from '../../model/types.js';
import { isOwnedChain, isOwnedJumpComment, ruleIdFromComment } from '../../ownership.js';
import { firstRuleDifference } from '../rule-diff.js';
import { piecesInOrder, TransactionBuilder } from '../transaction.js';
import type { Op, Piece } from '../transaction.js';
import type { DriftItem, Plan } from '../types.js';
import { planJumps } from './jumps.js';
import type { JumpChange, JumpPosition } from './jumps.js';
import { ruleLine } from './parse.js';
import type { IptChain, IptTableDump } from './parse.js';
import { BUILTIN_CHAINS, desiredIptTables, IPT_TABLES, jumpSpec } from './render.js';
import type { IptDesiredChain, IptTable } from './render.js';

/**
 * desired + what iptables-save showed → one `iptables-restore --noflush` script per (family,
 * table) that differs. Scripts never declare a built-in chain (under --noflush that would reset
 * the admin's policy), delete only rules iptables-save listed (a `-D` for a missing rule aborts
 * the whole commit), and refill a changed ts-* chain by re-declaring it (`:ts-input - [0:0]`
 * flushes just that chain). A converged system yields no script at all.
 */

/** One family as observed; a family that could not be read is skipped and reported. */
export interface IptFamilyState {
  readonly family: Family;
  readonly tables: readonly IptTableDump[];
  readonly failure?: Error;
  /** The family's binaries are not installed: nothing of tsfw's can exist there. */
  readonly unavailable?: boolean;
}

export interface IptState {
  readonly families: readonly IptFamilyState[];
}

/** One atomic commit: the input of one iptables-restore run. */
export interface IptScript {
  readonly family: Family;
  readonly table: IptTable;
  readonly script: string;
}

/** Script sections in the order iptables-restore must see them. */
export const IPT_SECTIONS = ['decl', 'del', 'flush', 'remove', 'fill', 'insert'] as const;
/** One script line; an `-I` line also says at which position it inserts. */
export type IptPiece = Piece<(typeof IPT_SECTIONS)[number], string> & { readonly at?: number };
export type IptPlan = Plan<IptPiece>;

export interface IptPlanOptions {
  readonly jumpPosition: JumpPosition;
}

const line = (section: IptPiece['section'], body: string, at?: number): IptPiece => (at === undefined ? { section, body } : { section, body, at });

/**
 * The iptables-restore scripts of a transaction: one per (family, table) with ops, lines by
 * section, and a chain's `-D` and `-I` lines by position (`-D` in the order of the rules it
 * deletes; each `-I` position counts after the inserts before it, so those go ascending). Pure.
 */
export function iptScripts(ops: readonly Op<IptPiece>[]): IptScript[] {
  const groups = new Map<string, Op<IptPiece>[]>();
  for (const op of ops.filter((o) => o.pieces.length > 0)) {
    const key = `${op.family} ${op.table}`;
    groups.set(key, [...(groups.get(key) ?? []), op]);
  }
  return [...groups.values()].map((group) => {
    const chains = [...new Set(group.map((op) => op.chain))];
    const byChainThenPosition = (a: { op: Op<IptPiece>; piece: IptPiece }, b: typeof a) =>
      chains.indexOf(a.op.chain) - chains.indexOf(b.op.chain) || (a.piece.at ?? 0) - (b.piece.at ?? 0);
    const pieces = piecesInOrder(group, IPT_SECTIONS);
    const body = IPT_SECTIONS.flatMap((section) => {
      const lines = pieces.filter(({ piece }) => piece.section === section);
      return section === 'del' || section === 'insert' ? lines.sort(byChainThenPosition) : lines;
    }).map(({ piece }) => piece.body);
    // Every op of an iptables plan names an iptables family and table (TransactionBuilder's fields are wider).
    return { family: group[0]!.family as Family, table: group[0]!.table as IptTable, script: `*${group[0]!.table}\n${body.join('\n')}\nCOMMIT\n` };
  });
}

/** The plan for every family in desired or observed state. Pure. */
export function planIptables(desired: Ruleset, state: IptState, opts: IptPlanOptions): IptPlan {
  const want = desiredIptTables(desired);
  const ops: Op<IptPiece>[] = [];
  const drift: DriftItem[] = [];
  const warnings: string[] = [];
  const failures: { family: Family; error: Error }[] = [];
  const families = [...new Set([...desired.families, ...state.families.map((f) => f.family)])];
  for (const family of families) {
    const observed = state.families.find((f) => f.family === family);
    if (observed?.failure) {
      failures.push({ family, error: observed.failure });
      warnings.push(`${family}: not read, left unchanged: ${observed.failure.message}`);
      continue;
    }
    for (const table of IPT_TABLES) {
      const chains = want.find((t) => t.family === family && t.table === table)?.chains ?? [];
      const dump = observed?.tables.find((t) => t.table === table);
      const tx = new TransactionBuilder<IptPiece>(family, table, `${family} ${table}: `);
      planTable(table, chains, dump?.chains ?? [], desired.mode, opts, tx);
      ops.push(...tx.ops);
      drift.push(...tx.drift);
      warnings.push(...tx.warnings);
    }
  }
  return { ops, drift, warnings, failures };
}

type Tx = TransactionBuilder<IptPiece>;

function planTable(table: IptTable, want: readonly IptDesiredChain[], seen: readonly IptChain[], mode: Ruleset['mode'], opts: IptPlanOptions, tx: Tx): void {
  const byName = new Map(seen.map((c) => [c.name, c]));
  const builtins = new Set([...BUILTIN_CHAINS[table], ...seen.filter((c) => c.policy !== undefined).map((c) => c.name)]);

  for (const chain of want) fillChain(chain, byName.get(chain.name), tx);

  // Jumps: `on` places them; `nodivert` and `off` remove tsfw's tagged ones (never an untagged rule).
  for (const builtin of builtins) {
    const targets = mode === 'on' ? want.filter((c) => c.builtin === builtin).map((c) => c.name) : [];
    for (const change of planJumps(byName.get(builtin), targets, mode === 'on' ? opts.jumpPosition : 'first')) jumpOp(builtin, change, tx);
  }

  // ts-* chains that are no longer wanted: flushed, and deleted unless something still jumps to them.
  const wanted = new Set(want.map((c) => c.name));
  const stale = seen.filter((c) => c.policy === undefined && isOwnedChain(c.name) && !wanted.has(c.name));
  const adminRefs = seen
    .filter((c) => !isOwnedChain(c.name))
    .flatMap((c) => c.rules)
    .filter((r) => !isOwnedJumpComment(r.comment));
  for (const chain of stale) {
    const admin = adminRefs.find((r) => r.target === chain.name);
    const flush = chain.rules.length > 0 ? [line('flush', `-F ${chain.name}`)] : [];
    if (admin) {
      if (chain.rules.length > 0) {
        tx.op({ op: 'flush-chain', chain: chain.name, reason: `mode ${mode}; kept because ${admin.chain} still jumps to it` }, ...flush);
        tx.noteDrift({ kind: 'unexpected', chain: chain.name, detail: `chain ${chain.name} has rules in mode ${mode}` });
      }
      tx.warn(`chain ${chain.name} is still the target of the admin's rule in ${admin.chain}; flushed it and kept it`);
      continue;
    }
    tx.op({ op: 'delete-chain', chain: chain.name, reason: `not wanted in mode ${mode}` }, ...flush, line('remove', `-X ${chain.name}`));
    tx.noteDrift({ kind: 'unexpected', chain: chain.name, detail: `chain ${chain.name} exists in mode ${mode}` });
  }
}

/** One jump change as one op: its `-D` and `-I` lines, its words and (unless a reinsert) its drift. */
function jumpOp(builtin: string, change: JumpChange, tx: Tx): void {
  const pieces = [
    ...(change.remove ? [line('del', `-D ${builtin} ${change.remove.spec}`, change.removeAt)] : []),
    ...(change.insertAt !== undefined ? [line('insert', `-I ${builtin} ${change.insertAt} ${jumpSpec(change.target)}`, change.insertAt)] : []),
  ];
  const at = { chain: builtin, rules: [change.target] };
  const jump = `jump ${builtin} → ${change.target}`;
  if (change.kind === 'add') {
    tx.op({ op: 'add-jump', ...at, reason: `insert the jump to ${change.target}` }, ...pieces);
    tx.noteDrift({ kind: 'missing', chain: builtin, detail: `${jump} is missing` });
  } else if (change.kind === 'move') {
    tx.op({ op: 'move-jump', ...at, reason: `back to position ${change.to} from ${change.from}` }, ...pieces);
    tx.noteDrift({ kind: 'misordered', chain: builtin, detail: `${jump} is at position ${change.from}, expected ${change.to}` });
  } else if (change.kind === 'reinsert') {
    tx.op({ op: 'reinsert-jump', ...at, reason: `deleted and inserted again at position ${change.to}: -D by spec cannot pick among equal copies` }, ...pieces);
  } else {
    tx.op({ op: 'delete-jump', ...at, reason: `${change.why} (position ${change.position})` }, ...pieces);
    tx.noteDrift({ kind: 'unexpected', chain: builtin, detail: `${jump} at position ${change.position} is ${change.why}` });
  }
}

/** Creates a missing chain, or re-declares (flushes) and refills one whose rules differ at all. */
function fillChain(chain: IptDesiredChain, seen: IptChain | undefined, tx: Tx): void {
  const ids = chain.rules.map((r) => r.id);
  if (!seen) {
    tx.op({ op: 'create-chain', chain: chain.name, reason: 'chain missing' });
    tx.noteDrift({ kind: 'missing', chain: chain.name, detail: `chain ${chain.name} is missing` });
  } else {
    const difference = compareRules(chain, seen);
    if (!difference) return;
    tx.noteDrift({ ...difference, chain: chain.name });
  }
  const rules = chain.rules.map((rule) => line('fill', rule.line));
  tx.op({ op: 'fill-chain', chain: chain.name, rules: ids, reason: `write ${ids.length} rule(s)` }, line('decl', `:${chain.name} - [0:0]`), ...rules);
}

/** The first difference between desired and observed rule lines, or undefined when identical. */
function compareRules(want: IptDesiredChain, seen: IptChain): Omit<DriftItem, 'family' | 'table' | 'chain'> | undefined {
  return firstRuleDifference(
    seen.name,
    want.rules.map((r) => ({ key: r.line, id: r.id })),
    seen.rules.map((r, i) => {
      const id = ruleIdFromComment(r.comment);
      return { key: ruleLine(r), where: `position ${i + 1}`, ...(id ? { id } : {}) };
    }),
  );
}
