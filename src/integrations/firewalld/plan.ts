import type { ManagerWants } from '../../model/types.js';
import type { IntegrationItem } from '../types.js';

/**
 * What tsfw wants from firewalld, as pure data: the tunnel interface bound to the built-in
 * `trusted` zone (target ACCEPT: input and forwarding from the tunnel are accepted) and each
 * WireGuard port open as `<port>/udp` in the zone of every WAN interface, each in both of
 * firewalld's layers (runtime: now; permanent: after `--reload`, `--complete-reload`, a restart).
 * Each layer is its own recorded item, so undo removes from each layer exactly what tsfw added
 * there and nothing the admin had already.
 */

/** firewalld's two configurations. */
export type Layer = 'runtime' | 'permanent';
export const LAYERS: readonly Layer[] = ['runtime', 'permanent'];

/** The zone tsfw binds the tunnel to: built in, target ACCEPT, no zone of tsfw's own to create. */
export const TUNNEL_ZONE = 'trusted';

/**
 * One thing in one zone of one layer. `name` is an interface, or `<port>/<protocol>`; for
 * `zone-defaults` (permanent only) the digest of the zone's settings while it was still firewalld's
 * built-in default, before tsfw's first permanent change made firewalld copy it to
 * /etc/firewalld/zones: undo reloads the built-in defaults if the settings are back to that digest.
 */
export interface FirewalldItem {
  readonly kind: 'zone-interface' | 'port' | 'zone-defaults';
  readonly zone: string;
  readonly name: string;
  readonly layer: Layer;
}

/** Where things are now, as far as the wanted items depend on it. */
export interface FirewalldZones {
  /** The zone the tunnel interface is bound to in each layer ('' when unbound). */
  readonly tunnelZone: Readonly<Record<Layer, string>>;
  /** The runtime zones of the WAN interfaces (an unbound one counts as the default zone). */
  readonly wanZones: readonly string[];
  /** Per permanent zone that is still firewalld's built-in default: the digest of its settings. */
  readonly builtinDefaults?: Readonly<Record<string, string>>;
}

/** A key that identifies an item across record, view and plan. */
export function itemKey(i: FirewalldItem): string {
  return `${i.layer} ${i.kind} ${i.zone}:${i.name}`;
}

/** The record's form: `value` is `<zone>:<name>`, `permanent` says which layer. */
export function toRecorded(i: FirewalldItem): IntegrationItem {
  return { kind: i.kind, value: `${i.zone}:${i.name}`, permanent: i.layer === 'permanent' };
}

/** The record's form read back; anything that is not one of ours is undefined. */
export function fromRecorded(r: IntegrationItem): FirewalldItem | undefined {
  const at = r.value.indexOf(':');
  if ((r.kind !== 'zone-interface' && r.kind !== 'port' && r.kind !== 'zone-defaults') || at <= 0 || at === r.value.length - 1) return undefined;
  return { kind: r.kind, zone: r.value.slice(0, at), name: r.value.slice(at + 1), layer: r.permanent ? 'permanent' : 'runtime' };
}

/**
 * The items tsfw wants. A tunnel the admin bound to another zone in a layer is left there (doctor
 * reports what that zone does): tsfw only binds an unbound tunnel.
 */
export function wantedItems(wants: ManagerWants, zones: FirewalldZones): FirewalldItem[] {
  const items: FirewalldItem[] = [];
  for (const layer of LAYERS) {
    const bound = zones.tunnelZone[layer];
    if (bound === '' || bound === TUNNEL_ZONE) items.push({ kind: 'zone-interface', zone: TUNNEL_ZONE, name: wants.tunnel, layer });
  }
  for (const zone of [...new Set(zones.wanZones)]) {
    for (const port of [...new Set(wants.ports)]) {
      for (const layer of LAYERS) items.push({ kind: 'port', zone, name: `${port}/udp`, layer });
    }
  }
  return items;
}

/** One call to make. */
export interface FirewalldOp {
  readonly op: 'add' | 'remove';
  readonly item: FirewalldItem;
}

/** Ops in order, and the record once all of them succeeded. */
export interface FirewalldPlan {
  readonly ops: readonly FirewalldOp[];
  readonly record: readonly FirewalldItem[];
}

/**
 * Ensure: add each wanted item that is absent (and record it); a wanted item already present stays
 * recorded if tsfw added it, else it is the admin's and stays unrecorded; a recorded item no
 * longer wanted is removed if still present and leaves the record.
 */
export function planEnsure(wanted: readonly FirewalldItem[], recorded: readonly FirewalldItem[], present: ReadonlySet<string>, zones?: Pick<FirewalldZones, 'builtinDefaults'>): FirewalldPlan {
  const wantedKeys = new Set(wanted.map(itemKey));
  const recordedKeys = new Set(recorded.map(itemKey));
  const ops: FirewalldOp[] = [];
  const record: FirewalldItem[] = [];
  for (const item of wanted) {
    const key = itemKey(item);
    if (!present.has(key)) {
      ops.push({ op: 'add', item });
      record.push(item);
    } else if (recordedKeys.has(key)) {
      record.push(item);
    }
  }
  for (const item of recorded) {
    if (item.kind !== 'zone-defaults' && !wantedKeys.has(itemKey(item)) && present.has(itemKey(item))) ops.push({ op: 'remove', item });
  }
  // A built-in zone tsfw changes permanently for the first time: remember its defaults (record only).
  const owned = new Set(record.filter((i) => i.layer === 'permanent').map((i) => i.zone));
  const marks = recorded.filter((i) => i.kind === 'zone-defaults');
  const fresh: FirewalldOp[] = [];
  for (const zone of new Set(ops.filter((o) => o.op === 'add' && o.item.layer === 'permanent').map((o) => o.item.zone))) {
    const digest = zones?.builtinDefaults?.[zone];
    if (digest && !marks.some((m) => m.zone === zone)) fresh.push({ op: 'add', item: { kind: 'zone-defaults', zone, name: digest, layer: 'permanent' } });
  }
  // One that tsfw no longer changes at all: back to the built-in defaults, after the removals.
  const released = marks.filter((m) => !owned.has(m.zone)).map((item): FirewalldOp => ({ op: 'remove', item }));
  return { ops: [...fresh, ...ops, ...released], record: [...fresh.map((o) => o.item), ...marks.filter((m) => owned.has(m.zone)), ...record] };
}

/** Undo: remove every recorded item that is still present, built-in defaults last; the record ends empty. */
export function planUndo(recorded: readonly FirewalldItem[], present: ReadonlySet<string>): FirewalldPlan {
  const items = recorded.filter((i) => i.kind !== 'zone-defaults' && present.has(itemKey(i)));
  const marks = recorded.filter((i) => i.kind === 'zone-defaults');
  return { ops: [...items, ...marks].map((item) => ({ op: 'remove', item })), record: [] };
}
