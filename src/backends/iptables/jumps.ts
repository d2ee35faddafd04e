import { isOwnedJumpComment } from '../../ownership.js';
import type { IptChain, IptRule } from './parse.js';
import { jumpSpec } from './render.js';

/**
 * Where tsfw's tagged jumps must sit in one built-in chain, and the fewest `-D`/`-I` lines that
 * put them there. Only tagged rules are ever deleted; the admin's rules keep their relative order.
 */

/** `first`: tsfw's jumps are rules 1..n; `preserve`: each exists once, wherever it is. */
export type JumpPosition = 'first' | 'preserve';

/** What happens to one jump; drives actions and drift in plan.ts. */
export type JumpChange =
  | { readonly kind: 'add'; readonly target: string }
  | { readonly kind: 'move'; readonly target: string; readonly from: number; readonly to: number }
  | { readonly kind: 'delete'; readonly rule: IptRule; readonly position: number; readonly why: string };

export interface JumpEdit {
  /** Tagged rules to delete by spec, in order (each `-D` removes the first rule with that spec). */
  readonly deletes: readonly IptRule[];
  /** `-I CHAIN position` lines, positions ascending, counted after the deletes. */
  readonly inserts: readonly { readonly position: number; readonly target: string }[];
  readonly changes: readonly JumpChange[];
}

type Slot = { readonly keep: IptRule } | { readonly insert: string };

const NONE: JumpEdit = { deletes: [], inserts: [], changes: [] };

/** The edit that leaves exactly one canonical tagged jump per target (none when targets is empty). */
export function planJumps(chain: IptChain | undefined, targets: readonly string[], position: JumpPosition): JumpEdit {
  const rules = chain?.rules ?? [];
  const tagged = rules.filter((r) => isOwnedJumpComment(r.comment));
  const canonical = new Map(targets.map((t) => [jumpSpec(t), t]));
  const positionOf = (r: IptRule) => rules.indexOf(r) + 1;
  const wanted = (r: IptRule) => canonical.has(r.spec);

  if (position === 'first' || targets.length === 0) {
    const inPlace = tagged.length === targets.length && targets.every((t, i) => rules[i]?.spec === jumpSpec(t) && isOwnedJumpComment(rules[i]?.comment));
    if (inPlace) return NONE;
    const changes: JumpChange[] = [];
    const seen = new Set<string>();
    for (const rule of tagged) {
      if (wanted(rule) && !seen.has(rule.spec)) seen.add(rule.spec);
      else changes.push({ kind: 'delete', rule, position: positionOf(rule), why: wanted(rule) ? 'duplicate' : 'not wanted' });
    }
    targets.forEach((target, i) => {
      const current = tagged.find((r) => r.spec === jumpSpec(target));
      if (!current) changes.push({ kind: 'add', target });
      else if (positionOf(current) !== i + 1) changes.push({ kind: 'move', target, from: positionOf(current), to: i + 1 });
    });
    // Everything tagged goes and comes back at the top: -D by spec cannot pick among equal copies.
    return { deletes: tagged, inserts: targets.map((target, i) => ({ position: i + 1, target })), changes };
  }

  // preserve: keep a single canonical copy where it is; a duplicated one returns to its first spot.
  const copies = (t: string) => tagged.filter((r) => r.spec === jumpSpec(t));
  const duplicated = new Set(targets.filter((t) => copies(t).length > 1));
  const missing = targets.filter((t) => copies(t).length === 0);
  const changes: JumpChange[] = missing.map((target) => ({ kind: 'add', target }));
  const deletes: IptRule[] = [];
  const slots: Slot[] = missing.map((target) => ({ insert: target }));
  const firstSeen = new Set<string>();
  for (const rule of rules) {
    if (!isOwnedJumpComment(rule.comment)) {
      slots.push({ keep: rule });
      continue;
    }
    const target = canonical.get(rule.spec);
    if (target === undefined) {
      deletes.push(rule);
      changes.push({ kind: 'delete', rule, position: positionOf(rule), why: 'not wanted' });
    } else if (!duplicated.has(target)) {
      slots.push({ keep: rule });
    } else {
      deletes.push(rule);
      if (firstSeen.has(target)) changes.push({ kind: 'delete', rule, position: positionOf(rule), why: 'duplicate' });
      else {
        firstSeen.add(target);
        slots.push({ insert: target });
      }
    }
  }
  const inserts = slots.flatMap((slot, i) => ('insert' in slot ? [{ position: i + 1, target: slot.insert }] : []));
  return { deletes, inserts, changes };
}
