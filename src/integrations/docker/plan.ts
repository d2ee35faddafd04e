import type { IptFlavour } from '../../backends/iptables/backend.js';
import { tokenize } from '../../backends/iptables/parse.js';
import type { IptTableDump } from '../../backends/iptables/parse.js';
import type { Family } from '../../model/types.js';
import { JUMP_TAG, RULE_TAG } from '../../ownership.js';
import type { IntegrationChange, IntegrationItem } from '../types.js';

/**
 * Docker (pure part). dockerd 20.10 owns FORWARD in the filter table of the iptables flavour it
 * runs, with policy DROP once it has turned ip_forward on itself; an accept in another table
 * (tsfw's `inet tsfw`, or the other iptables flavour) is not final there, so forwarded tailnet
 * traffic dies at Docker's policy. Docker's documented place for the admin's own rules is the
 * `DOCKER-USER` chain, which it never flushes (only re-creates when missing). tsfw puts two tagged
 * ACCEPT rules at its top, one for each direction through the tunnel, in each Docker table that
 * does not already hold tsfw's own `ts-forward` jump (there, that jump decides, in the same chain,
 * and an accept in DOCKER-USER would pre-empt ts-forward's drops).
 */

/** The item kind in integrations.json. */
export const DOCKER_USER_KIND = 'docker-user-rule';

export type Direction = 'in' | 'out';

/** One tagged rule in DOCKER-USER: which table it lives in and what it accepts. */
export interface DockerUserRule {
  readonly flavour: IptFlavour;
  readonly family: Family;
  readonly direction: Direction;
  readonly iface: string;
}

/** The filter table of one (flavour, family), as its save printed it. */
export interface DockerView {
  readonly flavour: IptFlavour;
  readonly family: Family;
  readonly filter: IptTableDump | undefined;
}

/** The comment on tsfw's rule for one direction: `tsfw:docker-in`, `tsfw:docker-out`. */
export function dockerComment(direction: Direction): string {
  return `${RULE_TAG}docker-${direction}`;
}

/** The rule's match and verdict, as iptables-restore takes it after `-I DOCKER-USER 1` or `-D DOCKER-USER`. */
export function dockerRuleSpec(rule: DockerUserRule): string {
  return `${rule.direction === 'in' ? '-i' : '-o'} ${rule.iface} -m comment --comment ${dockerComment(rule.direction)} -j ACCEPT`;
}

/** The recorded value: `iptables-nft ip in tailscale0`. */
export function itemOf(rule: DockerUserRule): IntegrationItem {
  return { kind: DOCKER_USER_KIND, value: `iptables-${rule.flavour} ${rule.family} ${rule.direction} ${rule.iface}`, permanent: false };
}

/** The rule a recorded item names; undefined for anything else (another version's item, a typo). */
export function ruleOf(item: IntegrationItem): DockerUserRule | undefined {
  const m = /^iptables-(nft|legacy) (ip|ip6) (in|out) (\S+)$/.exec(item.value);
  if (item.kind !== DOCKER_USER_KIND || !m) return undefined;
  return { flavour: m[1] as IptFlavour, family: m[2] as Family, direction: m[3] as Direction, iface: m[4]! };
}

const sameRule = (a: DockerUserRule, b: DockerUserRule) => a.flavour === b.flavour && a.family === b.family && a.direction === b.direction && a.iface === b.iface;
const sameTable = (a: { flavour: IptFlavour; family: Family }, b: { flavour: IptFlavour; family: Family }) => a.flavour === b.flavour && a.family === b.family;

/** Whether Docker's DOCKER-USER chain exists in this table: dockerd runs (or ran) with this flavour. */
export function hasDockerUser(view: DockerView): boolean {
  return view.filter?.chains.some((c) => c.name === 'DOCKER-USER') ?? false;
}

/** Whether FORWARD of this table holds tsfw's tagged jump to ts-forward (an iptables backend of the same flavour, mode on). */
export function hasOwnForwardJump(view: DockerView): boolean {
  const forward = view.filter?.chains.find((c) => c.name === 'FORWARD');
  return forward?.rules.some((r) => r.comment === JUMP_TAG && r.target === 'ts-forward') ?? false;
}

/** How many copies of this rule DOCKER-USER holds (matched by tag, direction and interface). */
export function copiesIn(view: DockerView, rule: DockerUserRule): number {
  const flag = rule.direction === 'in' ? '-i' : '-o';
  const chain = view.filter?.chains.find((c) => c.name === 'DOCKER-USER');
  return (chain?.rules ?? []).filter((r) => {
    if (r.comment !== dockerComment(rule.direction)) return false;
    const tokens = tokenize(r.spec);
    const at = tokens.indexOf(flag);
    return at >= 0 && tokens[at + 1] === rule.iface;
  }).length;
}

/** Flags an admin's own tunnel accept may carry besides the interface (`-o tun -m conntrack --ctstate ESTABLISHED,RELATED`). */
const HARMLESS = new Set(['-m', 'comment', '--comment', 'conntrack', '--ctstate', 'state', '--state']);

/**
 * Whether DOCKER-USER accepts traffic through the tunnel in this direction: tsfw's tagged rule, or
 * the admin's own `-i tun -j ACCEPT` / `-o tun [-m conntrack --ctstate …] -j ACCEPT` (what doctor checks).
 */
export function acceptsTunnel(view: DockerView, direction: Direction, iface: string): boolean {
  const flag = direction === 'in' ? '-i' : '-o';
  const chain = view.filter?.chains.find((c) => c.name === 'DOCKER-USER');
  return (chain?.rules ?? []).some((r) => {
    const tokens = tokenize(r.spec);
    const at = tokens.indexOf(flag);
    if (at < 0 || tokens[at + 1] !== iface || r.target !== 'ACCEPT') return false;
    const rest = tokens.filter((_, i) => i !== at && i !== at + 1 && i < tokens.length - 2);
    return rest.every((t, i) => HARMLESS.has(t) || (rest[i - 1] !== undefined && rest[i - 1]!.startsWith('--')));
  });
}

/** The rules tsfw wants: both directions in every Docker table that lacks tsfw's own forward jump. */
export function wantedRules(views: readonly DockerView[], tunnel: string): DockerUserRule[] {
  return views
    .filter((v) => hasDockerUser(v) && !hasOwnForwardJump(v))
    .flatMap((v) => (['in', 'out'] as const).map((direction) => ({ flavour: v.flavour, family: v.family, direction, iface: tunnel })));
}

/** One table's edit: the restore lines (no chain declarations: `:DOCKER-USER` would flush it). */
export interface TableEdit {
  readonly flavour: IptFlavour;
  readonly family: Family;
  readonly lines: readonly string[];
  readonly changes: readonly IntegrationChange[];
}

/** The whole plan: per-table edits and the record once they are done. */
export interface DockerPlan {
  readonly edits: readonly TableEdit[];
  readonly record: readonly IntegrationItem[];
}

/**
 * Adds the wanted rules that are missing and deletes every copy of the recorded ones no longer
 * wanted (and extra copies of wanted ones); a rule that is already there is adopted silently.
 * Untagged rules and the admin's rules are never touched.
 */
export function planDocker(views: readonly DockerView[], wanted: readonly DockerUserRule[], recorded: readonly IntegrationItem[]): DockerPlan {
  const stale = recorded.map(ruleOf).filter((r): r is DockerUserRule => r !== undefined && !wanted.some((w) => sameRule(w, r)));
  const edits: TableEdit[] = [];
  for (const view of views) {
    const lines: string[] = [];
    const changes: IntegrationChange[] = [];
    for (const rule of stale.filter((r) => sameTable(r, view))) {
      const n = copiesIn(view, rule);
      for (let i = 0; i < n; i++) lines.push(`-D DOCKER-USER ${dockerRuleSpec(rule)}`);
      if (n > 0) changes.push({ manager: 'docker', op: 'remove', ...itemOf(rule) });
    }
    for (const rule of wanted.filter((r) => sameTable(r, view))) {
      const n = copiesIn(view, rule);
      for (let i = 1; i < n; i++) lines.push(`-D DOCKER-USER ${dockerRuleSpec(rule)}`);
      if (n === 0) {
        lines.push(`-I DOCKER-USER 1 ${dockerRuleSpec(rule)}`);
        changes.push({ manager: 'docker', op: 'add', ...itemOf(rule) });
      }
    }
    if (lines.length > 0) edits.push({ flavour: view.flavour, family: view.family, lines, changes });
  }
  // A recorded rule in a table that could not be read stays recorded, for a later pass to remove.
  const unseen = stale.filter((r) => !views.some((v) => sameTable(v, r)));
  return { edits, record: [...wanted, ...unseen].map(itemOf) };
}

/** The iptables-restore --noflush input of one edit: one commit of the filter table. */
export function restoreScript(edit: TableEdit): string {
  return ['*filter', ...edit.lines, 'COMMIT', ''].join('\n');
}
