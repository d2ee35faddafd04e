/** One address on one interface, from `ip -j addr`. */
export interface HostAddress {
  readonly ifname: string;
  readonly family: 'inet' | 'inet6';
  readonly local: string;
  readonly prefixlen: number;
}

/** One route, from `ip -j route`. `dst` is `default` or a CIDR / bare address. */
export interface HostRoute {
  readonly dst: string;
  readonly gateway?: string;
  readonly dev?: string;
}

interface IpLink {
  ifname?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

/** Parses `ip -j addr` into link names and addresses. Throws on non-JSON (caller reports it). */
export function parseIpAddr(text: string): { links: string[]; addresses: HostAddress[] } {
  const links = JSON.parse(text) as IpLink[];
  const addresses: HostAddress[] = [];
  for (const link of links) {
    for (const a of link.addr_info ?? []) {
      if (!link.ifname || !a.local || a.prefixlen === undefined) continue;
      if (a.family !== 'inet' && a.family !== 'inet6') continue;
      addresses.push({ ifname: link.ifname, family: a.family, local: a.local, prefixlen: a.prefixlen });
    }
  }
  return { links: links.flatMap((l) => (l.ifname ? [l.ifname] : [])), addresses };
}

/** Parses `ip -j route` output. */
export function parseIpRoute(text: string): HostRoute[] {
  const routes = JSON.parse(text) as { dst?: string; gateway?: string; dev?: string }[];
  return routes.flatMap((r) => (r.dst ? [{ dst: r.dst, ...(r.gateway ? { gateway: r.gateway } : {}), ...(r.dev ? { dev: r.dev } : {}) }] : []));
}
