import type { Family, Ruleset } from '../../model/types.js';
import { isOwnedChain, isOwnedJumpComment, ruleIdFromComment } from '../../ownership.js';
import { firstRuleDifference } from '../rule-diff.js';
import type { DriftItem, Plan, PlannedAction } from '../types.js';
import { planJumps } from './jumps.js';
import type { JumpPosition } from './jumps.js';
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

export interface IptPayload {
  readonly scripts: readonly IptScript[];
  /** Families whose observation failed: apply writes the others, then reports these. */
  readonly failures: readonly { readonly family: Family; readonly error: Error }[];
}

export interface IptPlanOptions {
  readonly jumpPosition: JumpPosition;
}

/** Script sections in the order iptables-restore must see them. */
interface Sections {
  decl: string[];
  del: string[];
  flush: string[];
  remove: string[];
  fill: string[];
  insert: string[];
}

/** The plan for every family in desired or observed state. Pure. */
export function planIptables(desired: Ruleset, state: IptState, opts: IptPlanOptions): Plan<IptPayload> {
  const want = desiredIptTables(desired);
  const actions: PlannedAction[] = [];
  const drift: DriftItem[] = [];
  const warnings: string[] = [];
  const scripts: IptScript[] = [];
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
      const ctx = new TableContext(family, table, actions, drift, warnings);
      const sections = planTable(chains, dump?.chains ?? [], desired.mode, opts, ctx);
      const body = [...sections.decl, ...sections.del, ...sections.flush, ...sections.remove, ...sections.fill, ...sections.insert];
      if (body.length > 0) scripts.push({ family, table, script: `*${table}\n${body.join('\n')}\nCOMMIT\n` });
    }
  }
  return { actions, drift, warnings, payload: { scripts, failures } };
}

/** Records actions, drift and warnings with the family and table filled in. */
class TableContext {
  constructor(
    readonly family: Family,
    readonly table: IptTable,
    private readonly actions: PlannedAction[],
    private readonly drifts: DriftItem[],
    private readonly warnings: string[],
  ) {}
  action(a: Omit<PlannedAction, 'family' | 'table'>): void {
    this.actions.push({ family: this.family, table: this.table, ...a });
  }
  drift(d: Omit<DriftItem, 'family' | 'table'>): void {
    this.drifts.push({ family: this.family, table: this.table, ...d, detail: `${this.family} ${this.table}: ${d.detail}` });
  }
  warn(message: string): void {
    this.warnings.push(`${this.family} ${this.table}: ${message}`);
  }
}

function planTable(want: readonly IptDesiredChain[], seen: readonly IptChain[], mode: Ruleset['mode'], opts: IptPlanOptions, ctx: TableContext): Sections {
  const s: Sections = { decl: [], del: [], flush: [], remove: [], fill: [], insert: [] };
  const byName = new Map(seen.map((c) => [c.name, c]));
  const builtins = new Set([...BUILTIN_CHAINS[ctx.table], ...seen.filter((c) => c.policy !== undefined).map((c) => c.name)]);

  for (const chain of want) fillChain(chain, byName.get(chain.name), s, ctx);

  // Jumps: `on` places them; `nodivert` and `off` remove tsfw's tagged ones (never an untagged rule).
  for (const builtin of builtins) {
    const chain = byName.get(builtin);
    const targets = mode === 'on' ? want.filter((c) => c.builtin === builtin).map((c) => c.name) : [];
    const edit = planJumps(chain, targets, mode === 'on' ? opts.jumpPosition : 'first');
    for (const rule of edit.deletes) s.del.push(`-D ${builtin} ${rule.spec}`);
    for (const { position, target } of edit.inserts) s.insert.push(`-I ${builtin} ${position} ${jumpSpec(target)}`);
    for (const change of edit.changes) {
      if (change.kind === 'add') {
        ctx.action({ op: 'add-jump', chain: builtin, rules: [change.target], reason: `insert the jump to ${change.target}` });
        ctx.drift({ kind: 'missing', chain: builtin, detail: `jump ${builtin} → ${change.target} is missing` });
      } else if (change.kind === 'move') {
        ctx.action({ op: 'move-jump', chain: builtin, rules: [change.target], reason: `back to position ${change.to} from ${change.from}` });
        ctx.drift({ kind: 'misordered', chain: builtin, detail: `jump ${builtin} → ${change.target} is at position ${change.from}, expected ${change.to}` });
      } else {
        const target = change.rule.target ?? '?';
        ctx.action({ op: 'delete-jump', chain: builtin, rules: [target], reason: `${change.why} (position ${change.position})` });
        ctx.drift({ kind: 'unexpected', chain: builtin, detail: `jump ${builtin} → ${target} at position ${change.position} is ${change.why}` });
      }
    }
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
    if (chain.rules.length > 0) s.flush.push(`-F ${chain.name}`);
    if (admin) {
      if (chain.rules.length > 0) {
        ctx.action({ op: 'flush-chain', chain: chain.name, reason: `mode ${mode}; kept because ${admin.chain} still jumps to it` });
        ctx.drift({ kind: 'unexpected', chain: chain.name, detail: `chain ${chain.name} has rules in mode ${mode}` });
      }
      ctx.warn(`chain ${chain.name} is still the target of the admin's rule in ${admin.chain}; flushed it and kept it`);
      continue;
    }
    s.remove.push(`-X ${chain.name}`);
    ctx.action({ op: 'delete-chain', chain: chain.name, reason: `not wanted in mode ${mode}` });
    ctx.drift({ kind: 'unexpected', chain: chain.name, detail: `chain ${chain.name} exists in mode ${mode}` });
  }
  return s;
}

/** Creates a missing chain, or re-declares (flushes) and refills one whose rules differ at all. */
function fillChain(chain: IptDesiredChain, seen: IptChain | undefined, s: Sections, ctx: TableContext): void {
  const ids = chain.rules.map((r) => r.id);
  if (!seen) {
    ctx.action({ op: 'create-chain', chain: chain.name, reason: 'chain missing' });
    ctx.drift({ kind: 'missing', chain: chain.name, detail: `chain ${chain.name} is missing` });
  } else {
    const difference = compareRules(chain, seen);
    if (!difference) return;
    ctx.drift({ ...difference, chain: chain.name });
  }
  s.decl.push(`:${chain.name} - [0:0]`);
  for (const rule of chain.rules) s.fill.push(rule.line);
  ctx.action({ op: 'fill-chain', chain: chain.name, rules: ids, reason: `write ${ids.length} rule(s)` });
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
