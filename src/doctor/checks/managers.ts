import type { Check } from '../types.js';
import { isUnreadable } from '../types.js';
import { portsOf } from './context.js';
import { dockerForwardConfirmed } from './docker.js';
import { ownership } from './owned.js';
import type { CheckInput } from './context.js';
import { checkUfw } from './ufw.js';

/** A firewall manager doctor recognises, how it shows itself, and how it interacts with tsfw. */
interface Manager {
  readonly id: string;
  readonly name: string;
  /** nft tables (`family name`) it creates. */
  readonly tables: readonly string[];
  /** Chain names it creates (iptables-nft tables in nft, or iptables-legacy). */
  readonly chains: RegExp;
  /** CLI probe key in facts.clis and the answer that means "running". */
  readonly cli?: { readonly key: string; readonly active: RegExp };
  readonly status: 'ok' | 'warn';
  readonly interaction: string;
  readonly fix: (iface: string, port: number) => string | null;
  /** Why the manager's effect on tailnet traffic is already dealt with here (then `ok`), if it is. */
  readonly confirm?: (input: CheckInput) => string | undefined;
}

/** Why each row: what the manager does to traffic tsfw accepts. */
const MANAGERS: readonly Manager[] = [
  {
    id: 'firewalld', name: 'firewalld', tables: ['inet firewalld', 'ip firewalld', 'ip6 firewalld'], chains: /^(INPUT_direct|IN_public|FWD_public|filter_INPUT)$/,
    cli: { key: 'firewall-cmd', active: /^running/ }, status: 'warn',
    interaction: 'its zones reject input and forwarding they do not allow, in its own table: tsfw\'s accepts do not override that',
    fix: (i, p) => `firewall-cmd --permanent --zone=trusted --add-interface=${i} && firewall-cmd --permanent --add-port=${p}/udp && firewall-cmd --reload`,
    confirm: (input) => (input.facts.firewalld && !isUnreadable(input.facts.firewalld) ? 'its zones are read over D-Bus: see the firewalld check' : undefined),
  },
  {
    id: 'ufw', name: 'ufw', tables: [], chains: /^ufw6?-(before|after|user)-input$/,
    cli: { key: 'ufw', active: /Status: active/ }, status: 'warn',
    interaction: 'its default input and routed policies drop in iptables, which tsfw\'s accepts do not override',
    fix: (i, p) => `ufw allow in on ${i} && ufw allow ${p}/udp && ufw route allow in on ${i}`,
  },
  {
    id: 'docker', name: 'Docker', tables: [], chains: /^DOCKER(-USER|-FORWARD|-ISOLATION-STAGE-1)?$/, status: 'warn',
    interaction: 'Docker sets the FORWARD policy to DROP: routed tailnet traffic needs accepts in DOCKER-USER',
    fix: (i) => `integrations.docker: auto (tsfw adds and removes them in mode on), or: iptables -I DOCKER-USER -i ${i} -j ACCEPT && iptables -I DOCKER-USER -o ${i} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`,
    confirm: dockerForwardConfirmed,
  },
  {
    id: 'kube-proxy', name: 'kube-proxy', tables: ['ip kube-proxy', 'ip6 kube-proxy'], chains: /^KUBE-(SERVICES|FORWARD|PROXY-CANARY)$/, status: 'ok',
    interaction: 'it marks with 0x4000/0x8000, outside tsfw\'s default mask; the mark check below reports any overlap',
    fix: () => null,
  },
  {
    id: 'fw4', name: 'OpenWrt fw4', tables: ['inet fw4'], chains: /^$/, status: 'warn',
    interaction: 'zones with input/forward reject policies drop what is not in a zone that accepts it',
    fix: (i, p) => `uci add_list firewall.@zone[0].device='${i}' && uci commit firewall && fw4 reload   # and open ${p}/udp on wan`,
  },
  {
    id: 'nixos', name: 'NixOS firewall', tables: ['inet nixos-fw'], chains: /^nixos-fw(-accept|-refuse|-log-refuse)?$/, status: 'warn',
    interaction: 'it refuses input that is not explicitly allowed, before or after tsfw\'s accept',
    fix: (i, p) => `networking.firewall.trustedInterfaces = [ "${i}" ];\nnetworking.firewall.allowedUDPPorts = [ ${p} ];`,
  },
  {
    id: 'tailscaled', name: 'tailscaled\'s own netfilter', tables: [], chains: /^ts-(input|forward|postrouting)$/, status: 'warn',
    interaction: 'tailscaled manages the same rules itself: two writers fight over them',
    fix: () => 'tailscale set --netfilter-mode=off',
  },
];

/** Other firewall managers present (by their tables, chains and cheap CLI probes). */
export function checkManagers(input: CheckInput): Check[] {
  const { ruleset, legacy, clis } = input.facts;
  const ownTable = `inet ${input.config.nftables.table}`;
  const tables = isUnreadable(ruleset) ? [] : ruleset.tables.filter((t) => `${t.family} ${t.name}` !== ownTable);
  const own = ownership(input);
  const found: Check[] = [];
  // ufw, when enabled, gets the check that reads its rules (ufw.ts) instead of the generic row.
  const ufw = checkUfw(input.facts.ufw, input.facts.backend, input.config, input.ruleset.wants);
  if (ufw) found.push(ufw);
  for (const m of MANAGERS) {
    if (m.id === 'ufw' && ufw) continue;
    const evidence: string[] = [];
    for (const t of tables) {
      if (m.tables.includes(`${t.family} ${t.name}`)) evidence.push(`table ${t.family} ${t.name}`);
      // tsfw's own ts-* chains (iptables backends) share tailscaled's names: never evidence.
      const chains = t.chains.filter((c) => m.chains.test(c.name) && !own.chain(t.family, t.name, c.name)).map((c) => c.name);
      if (chains.length > 0) evidence.push(`chains ${chains.join(', ')} in table ${t.family} ${t.name}`);
    }
    for (const t of legacy?.tables ?? []) {
      const chains = t.chains.filter((c) => m.chains.test(c.name) && !own.legacyChain(t.table, c)).map((c) => c.name);
      if (chains.length > 0) evidence.push(`iptables-legacy chains ${chains.join(', ')}`);
    }
    if (m.cli && clis[m.cli.key] !== undefined && m.cli.active.test(clis[m.cli.key]!)) evidence.push(`${m.cli.key}: ${clis[m.cli.key]}`);
    if (evidence.length === 0) continue;
    const confirmed = m.confirm?.(input);
    if (confirmed !== undefined) {
      found.push({ id: `manager-${m.id}`, status: 'ok', message: `${m.name} is present (${evidence.join('; ')}): ${confirmed}`, fix: null });
      continue;
    }
    found.push({
      id: `manager-${m.id}`,
      status: m.status,
      message: `${m.name} is present (${evidence.join('; ')}): ${m.interaction}`,
      fix: m.status === 'ok' ? null : m.fix(input.config.interface, portsOf(input)[0] ?? 41641),
    });
  }
  if (found.length > 0) return found;
  const scope = isUnreadable(ruleset) ? ` (ruleset unreadable: ${ruleset.error})` : '';
  return [{ id: 'managers', status: isUnreadable(ruleset) ? 'warn' : 'ok', message: `no other firewall manager found (firewalld, ufw, Docker, kube-proxy, fw4, NixOS, tailscaled)${scope}`, fix: null }];
}
