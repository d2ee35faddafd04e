import type { Chain } from '../model/types.js';
import type { Profile } from '../profiles/schema.js';

/**
 * The ports Tailscale needs, as plain requirements for other firewalls (`tsfw render --for`).
 * They come from the expanded `required-ports` profile, so the snippets for ufw, firewalld, cloud
 * security groups and the rest say exactly what tsfw's own chains accept: one source of truth.
 */

/** Traffic direction as seen from this host. */
export type Direction = 'in' | 'out';

/** One port Tailscale needs open. */
export interface PortRequirement {
  /** The profile rule id with its item, e.g. `wireguard-in[41641]` (stable, used in names). */
  readonly id: string;
  readonly direction: Direction;
  readonly proto: 'udp' | 'tcp';
  readonly port: number;
  /**
   * `dport`: the destination port (this host's port for `in`, the far end's for `out`);
   * `sport`: this host's own source port on `out` (WireGuard sends from its port to any port).
   */
  readonly match: 'dport' | 'sport';
  /** The profile's reason for the rule. */
  readonly why: string;
}

/** The profile that holds the port facts. */
export const PORTS_PROFILE = 'required-ports';

/** `ts-required-in/wireguard-in[41641]` → `wireguard-in[41641]` and its base id `wireguard-in`. */
function idsOf(ruleId: string): { id: string; base: string } {
  const id = ruleId.slice(ruleId.indexOf('/') + 1);
  return { id, base: id.replace(/\[.*$/, '') };
}

/**
 * Requirements from the chains `required-ports` expanded into (input hook → in, output → out),
 * in profile order: inbound first, then outbound. Throws on a rule it cannot express, so a new
 * kind of rule in the profile cannot silently go missing from the snippets.
 */
export function portRequirements(chains: readonly Chain[], profile: Profile): PortRequirement[] {
  const why = new Map(profile.chains.flatMap((c) => c.rules.map((r) => [r.id, r.why] as const)));
  const found: PortRequirement[] = [];
  for (const chain of chains) {
    const direction: Direction | undefined = chain.hook === 'input' ? 'in' : chain.hook === 'output' ? 'out' : undefined;
    for (const rule of chain.rules) {
      const { l4proto, dport, sport, ...rest } = rule.match;
      const proto = l4proto === 'udp' || l4proto === 'tcp' ? l4proto : undefined;
      const port = dport ?? sport;
      if (!direction || !proto || port === undefined || rule.action.kind !== 'accept' || Object.keys(rest).length > 0 || (dport !== undefined && sport !== undefined)) {
        throw new Error(`${profile.profile}: rule ${rule.id} is not a plain port accept on input or output`);
      }
      const { id, base } = idsOf(rule.id);
      found.push({ id, direction, proto, port, match: dport !== undefined ? 'dport' : 'sport', why: why.get(base) ?? '' });
    }
  }
  return [...found.filter((r) => r.direction === 'in'), ...found.filter((r) => r.direction === 'out')];
}

/** `41641/udp in`, for headers and messages. */
export function describeRequirement(r: PortRequirement): string {
  const where = r.match === 'sport' ? `from ${r.port}/${r.proto}` : `${r.port}/${r.proto}`;
  return `${where} ${r.direction}`;
}

/** A name part from a requirement id: `wireguard-in[41641]` → `wireguard-in-41641`. */
export function slug(id: string): string {
  return id.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}
