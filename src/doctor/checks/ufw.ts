import type { ConcreteBackend, Config } from '../../config/schema.js';
import type { ManagerWants } from '../../model/types.js';
import { wantedItems } from '../../integrations/ufw/plan.js';
import type { UfwSnapshot } from '../../integrations/ufw/plan.js';
import type { UfwTuple } from '../../integrations/ufw/tuples.js';
import type { IntegrationItem } from '../../integrations/types.js';
import type { Check } from '../types.js';

/**
 * Whether ufw lets through what tsfw accepts, confirmed from ufw's own rules (the tuple lines of
 * /etc/ufw/user.rules) rather than guessed from the kernel: ufw's chains live in iptables, so an
 * accept in `inet tsfw` (or in the other iptables flavour) is not final there, and ufw's default
 * deny policies drop tailnet input, the WireGuard port and routed tailnet traffic unless a ufw
 * rule allows them, or tsfw's own jump runs first in the same INPUT/FORWARD chains (the backend is
 * ufw's flavour with `jumpPosition: first`). A certain drop is `fail`. Pure. IPv6 is checked too
 * where ufw handles it (IPV6=yes, /etc/ufw/user6.rules) and the config has family ip6: ufw
 * writes an IPv4 and an IPv6 rule per command, but the two files can differ.
 */

export interface UfwView {
  readonly snapshot: UfwSnapshot;
  /** ufw's chains are loaded in this namespace (`ufw status` says active). */
  readonly loaded: boolean;
  /** The iptables flavour ufw writes. */
  readonly flavour: 'iptables-nft' | 'iptables-legacy';
}

const ANY = { 4: '0.0.0.0/0', 6: '::/0' } as const;

function dportCovers(spec: string, port: number): boolean {
  return spec.split(',').some((p) => {
    const [a, b] = p.split(':').map(Number) as [number, number | undefined];
    return b === undefined ? a === port : a <= port && port <= b;
  });
}

/** Whether an allow rule of ufw's (the admin's or tsfw's) lets the item's traffic through. */
function covered(item: IntegrationItem, tuples: readonly UfwTuple[], family: 4 | 6): boolean {
  const any = ANY[family];
  return tuples.some((t) => {
    if (t.apps || t.src !== any || t.dst !== any || t.sport !== 'any') return false;
    if (item.kind === 'port') {
      const port = Number(item.value.split('/')[0]);
      return /^allow/.test(t.action) && (t.proto === 'udp' || t.proto === 'any') && t.ifaces === 'in' && dportCovers(t.dport, port);
    }
    if (t.proto !== 'any' || t.dport !== 'any') return false;
    if (item.kind === 'route-in') return /^route:allow/.test(t.action) && t.ifaces === `in_${item.value}`;
    return /^allow/.test(t.action) && t.ifaces === `in_${item.value}`;
  });
}

const describeItem = (i: IntegrationItem) => (i.kind === 'port' ? `the WireGuard port ${i.value}` : i.kind === 'route-in' ? `traffic routed from ${i.value}` : `tailnet input on ${i.value}`);

/** The admin's own ufw command for an item (no tsfw comment: tsfw adopts and removes only its tagged rules). */
function adminCommand(i: IntegrationItem): string {
  if (i.kind === 'port') return `ufw allow ${i.value}`;
  return i.kind === 'route-in' ? `ufw route allow in on ${i.value}` : `ufw allow in on ${i.value}`;
}

/** The ufw finding, or undefined when ufw is not enabled here (or tsfw diverts nothing: not mode on). */
export function checkUfw(view: UfwView | undefined, backend: ConcreteBackend, config: Config, wants: ManagerWants | undefined): Check | undefined {
  if (!view?.snapshot.enabled || !wants || config.mode !== 'on') return undefined;
  const id = 'manager-ufw';
  if (!view.loaded) return { id, status: 'ok', message: 'ufw is enabled but has not loaded its chains here yet: nothing of it drops now', fix: null };
  const items = wantedItems(wants);
  const families: (4 | 6)[] = [...(config.families.includes('ip') ? [4 as const] : []), ...(view.snapshot.ipv6 && config.families.includes('ip6') ? [6 as const] : [])];
  /** The families in which no ufw rule allows the item. */
  const uncovered = (i: IntegrationItem) => families.filter((f) => !covered(i, f === 4 ? view.snapshot.v4 : view.snapshot.v6, f));
  const missing = items.filter((i) => uncovered(i).length > 0);
  const onlyV6 = (i: IntegrationItem) => uncovered(i).every((f) => f === 6);
  const describeMissing = (i: IntegrationItem) => `${describeItem(i)}${onlyV6(i) ? ' over IPv6' : ''}`;
  if (missing.length === 0) {
    return { id, status: 'ok', message: `ufw is active and allows ${items.map(describeItem).join(', ')} (rules in /etc/ufw/user.rules)`, fix: null };
  }
  if (backend === view.flavour && config.jumpPosition === 'first') {
    return { id, status: 'ok', message: `ufw is active; tsfw's jumps come first in the same ${backend} INPUT and FORWARD chains, where its accepts are final (ufw itself does not allow ${missing.map(describeMissing).join(', ')})`, fix: null };
  }
  const policy = (i: IntegrationItem) => (i.kind === 'route-in' ? view.snapshot.forwardPolicy : view.snapshot.inputPolicy) ?? 'drop';
  const dropped = missing.filter((i) => policy(i) === 'drop' || policy(i) === 'reject');
  if (dropped.length === 0) return { id, status: 'ok', message: 'ufw is active with accepting default policies for what tsfw accepts', fix: null };
  const where = backend === 'nftables' ? `tsfw's accept in table inet ${config.nftables.table}` : `tsfw's accept in ${backend}`;
  const fix = [
    `${dropped.map(adminCommand).join(' && ')}   # persistent: ufw keeps these in /etc/ufw/user.rules`,
    ...(wants.managers.ufw === 'off' ? ['# or let tsfw add (and on off/cleanup remove) them itself: integrations: { ufw: auto }'] : []),
    `# or backend: ${view.flavour} (tsfw's jumps then come first in ufw's own chains)`,
  ];
  return {
    id, status: 'fail',
    message: `ufw drops ${dropped.map((i) => `${describeMissing(i)} (default ${policy(i)})`).join(', ')}: no ufw rule allows it, and ${where} is not final for ufw's ${view.flavour} chains`,
    fix: fix.join('\n'),
  };
}
