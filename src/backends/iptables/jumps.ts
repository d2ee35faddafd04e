import { isOwnedJumpComment } from '../../ownership.js';
import type { IptChain, IptRule } from './parse.js';
import { jumpSpec } from './render.js';

/**
 * Where tsfw's tagged jumps must sit in one built-in chain, and the fewest `-D`/`-I` lines that
 * put them there. Only tagged rules are ever deleted; the admin's rules keep their relative order.
 */

/** `first`: tsfw's jumps are rules 1..n; `preserve`: each exists once, wherever it is. */
export type JumpPosition = 'first' | 'preserve';

/** The `-D` (a tagged rule and its position) and the `-I` position a change takes, if any. */
interface JumpLines {
  readonly target: string;
  readonly remove?: IptRule;
  readonly removeAt?: number;
  readonly insertAt?: number;
}

/**
 * What happens to one jump, with the `-D` and `-I` it takes; plan.ts turns each into one op.
 * `reinsert`: a jump already in place that is deleted and inserted again, because `-D` by spec
 * cannot pick among equal copies (or later inserts would land above it).
 */
export type JumpChange = JumpLines & (
  | { readonly kind: 'add' }
  | { readonly kind: 'move'; readonly from: number; readonly to: number }
  | { readonly kind: 'reinsert'; readonly to: number }
  | { readonly kind: 'delete'; readonly position: number; readonly why: string }
);

/**
 * The changes that leave exactly one canonical tagged jump per target (none when targets is
 * empty). The script orders their lines itself: `-D` by the position of the rule, `-I` ascending.
 */
export function planJumps(chain: IptChain | undefined, targets: readonly string[], position: JumpPosition): JumpChange[] {
  const rules = chain?.rules ?? [];
  const tagged = rules.filter((r) => isOwnedJumpComment(r.comment));
  const canonical = new Map(targets.map((t) => [jumpSpec(t), t]));
  const positionOf = (r: IptRule) => rules.indexOf(r) + 1;
  const drop = (rule: IptRule, why: string): JumpChange => ({ kind: 'delete', target: rule.target ?? '?', remove: rule, removeAt: positionOf(rule), position: positionOf(rule), why });

  if (position === 'first' || targets.length === 0) {
    const inPlace = tagged.length === targets.length && targets.every((t, i) => rules[i]?.spec === jumpSpec(t) && isOwnedJumpComment(rules[i]?.comment));
    if (inPlace) return [];
    // Everything tagged goes and comes back at the top: -D by spec cannot pick among equal copies.
    const keptCopy = new Map<string, IptRule>();
    const extras: JumpChange[] = [];
    for (const rule of tagged) {
      const target = canonical.get(rule.spec);
      if (target !== undefined && !keptCopy.has(target)) keptCopy.set(target, rule);
      else extras.push(drop(rule, target === undefined ? 'not wanted' : 'duplicate'));
    }
    return [...extras, ...targets.map((target, i): JumpChange => {
      const rule = keptCopy.get(target);
      const to = i + 1;
      if (!rule) return { kind: 'add', target, insertAt: to };
      const from = positionOf(rule);
      const lines = { target, remove: rule, removeAt: from, insertAt: to };
      return from === to ? { kind: 'reinsert', ...lines, to } : { kind: 'move', ...lines, from, to };
    })];
  }

  // preserve: keep a single canonical copy where it is; a duplicated one returns to its first spot.
  const copies = (t: string) => tagged.filter((r) => r.spec === jumpSpec(t));
  const duplicated = new Set(targets.filter((t) => copies(t).length > 1));
  const missing = targets.filter((t) => copies(t).length === 0);
  const changes: JumpChange[] = missing.map((target, i) => ({ kind: 'add', target, insertAt: i + 1 }));
  let slot = missing.length; // rules 1..slot of the chain once the edit is done
  const firstSeen = new Set<string>();
  for (const rule of rules) {
    const target = canonical.get(rule.spec);
    if (!isOwnedJumpComment(rule.comment) || (target !== undefined && !duplicated.has(target))) {
      slot++;
    } else if (target === undefined) {
      changes.push(drop(rule, 'not wanted'));
    } else if (firstSeen.has(target)) {
      changes.push(drop(rule, 'duplicate'));
    } else {
      firstSeen.add(target);
      slot++;
      changes.push({ kind: 'reinsert', target, remove: rule, removeAt: positionOf(rule), insertAt: slot, to: slot });
    }
  }
  return changes;
}
