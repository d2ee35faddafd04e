import type { ManagerWants } from '../../model/types.js';
import type { IntegrationItem } from '../types.js';
import { sameRule } from './tuples.js';
import type { UfwTuple } from './tuples.js';

/**
 * What tsfw wants in ufw and which ufw commands get it there: `ufw allow in on <tunnel>`, `ufw
 * allow <port>/udp` per WireGuard port and `ufw route allow in on <tunnel>`, each with the comment
 * `tsfw`, planned against ufw's tuple lines (tuples.ts). A rule the admin already has (same rule,
 * any other comment) is theirs: tsfw neither adds it (`ufw allow` would rewrite its comment) nor
 * ever deletes it. Pure.
 */

/** The comment on every rule tsfw adds; ufw keeps it in user*.rules, hex-encoded. */
export const UFW_COMMENT = 'tsfw';

export type UfwItemKind = 'allow-in' | 'port' | 'route-in';

/** What ufw's files say: installed, enabled (ufw.conf ENABLED=yes), IPv6 on, and each file's tuples. */
export interface UfwSnapshot {
  readonly installed: boolean;
  readonly enabled: boolean;
  readonly ipv6: boolean;
  /** /etc/default/ufw DEFAULT_INPUT_POLICY / DEFAULT_FORWARD_POLICY, lower-case (`drop`, `reject`, `accept`). */
  readonly inputPolicy?: string;
  readonly forwardPolicy?: string;
  readonly v4: readonly UfwTuple[];
  readonly v6: readonly UfwTuple[];
}

/** The items `wants` asks for, in a fixed order (input, ports, forwarding). */
export function wantedItems(wants: ManagerWants): IntegrationItem[] {
  return [
    { kind: 'allow-in', value: wants.tunnel, permanent: true },
    ...wants.ports.map((p) => ({ kind: 'port', value: `${p}/udp`, permanent: true })),
    { kind: 'route-in', value: wants.tunnel, permanent: true },
  ];
}

/** The tuple ufw writes for an item in one family (the comment aside). */
export function itemTuple(item: IntegrationItem, family: 4 | 6): UfwTuple {
  const any = family === 4 ? '0.0.0.0/0' : '::/0';
  const base = { proto: 'any', dport: 'any', dst: any, sport: 'any', src: any, comment: '' };
  if (item.kind === 'port') {
    const [port, proto] = item.value.split('/') as [string, string];
    return { ...base, action: 'allow', proto, dport: port, ifaces: 'in' };
  }
  return { ...base, action: item.kind === 'route-in' ? 'route:allow' : 'allow', ifaces: `in_${item.value}` };
}

/** The ufw arguments that add (or delete) exactly this item, comment included. */
export function ufwArgs(item: IntegrationItem, op: 'add' | 'remove'): string[] {
  const del = op === 'remove' ? ['delete'] : [];
  const comment = ['comment', UFW_COMMENT];
  if (item.kind === 'port') return [...del, 'allow', item.value, ...comment];
  if (item.kind === 'route-in') return ['route', ...del, 'allow', 'in', 'on', item.value, ...comment];
  return [...del, 'allow', 'in', 'on', item.value, ...comment];
}

/** Where an item stands in ufw's files. */
export type ItemState = 'ours' | 'partly-ours' | 'admins' | 'absent';

export function itemState(item: IntegrationItem, snap: UfwSnapshot): ItemState {
  const families: (4 | 6)[] = snap.ipv6 ? [4, 6] : [4];
  const found = families.map((f) => (f === 4 ? snap.v4 : snap.v6).find((t) => sameRule(t, itemTuple(item, f))));
  if (found.some((t) => t !== undefined && t.comment !== UFW_COMMENT)) return 'admins';
  if (found.every((t) => t !== undefined)) return 'ours';
  return found.some((t) => t !== undefined) ? 'partly-ours' : 'absent';
}

const key = (i: IntegrationItem) => `${i.kind} ${i.value}`;

/** ensure: what to add, what recorded but no longer wanted to delete. */
export function planEnsure(wants: ManagerWants, recorded: readonly IntegrationItem[], snap: UfwSnapshot): { add: IntegrationItem[]; remove: IntegrationItem[] } {
  const wanted = wantedItems(wants);
  const add = wanted.filter((i) => {
    const s = itemState(i, snap);
    return s === 'absent' || s === 'partly-ours';
  });
  const wantedKeys = new Set(wanted.map(key));
  return { add, remove: planUndo(recorded.filter((r) => !wantedKeys.has(key(r))), snap) };
}

/** undo: the recorded items that still carry tsfw's comment (an item the admin took over stays). */
export function planUndo(recorded: readonly IntegrationItem[], snap: UfwSnapshot): IntegrationItem[] {
  return recorded.filter((i) => {
    const s = itemState(i, snap);
    return s === 'ours' || s === 'partly-ours';
  });
}

/** The record after a run: the candidates ufw's files now show with tsfw's comment. */
export function ownedItems(candidates: readonly IntegrationItem[], snap: UfwSnapshot): IntegrationItem[] {
  const seen = new Set<string>();
  return candidates.filter((i) => {
    const s = itemState(i, snap);
    if ((s !== 'ours' && s !== 'partly-ours') || seen.has(key(i))) return false;
    seen.add(key(i));
    return true;
  });
}
