import ipaddr from 'ipaddr.js';
import { formatPrefix, parsePrefix, prefixContains } from '../../model/net.js';
import type { PrefixMatch } from '../../model/types.js';
import type { Check } from '../types.js';
import { isUnreadable } from '../types.js';
import type { CheckInput } from './context.js';
import { yamlList } from './context.js';

function prefix(text: string): PrefixMatch | undefined {
  const p = parsePrefix(text);
  return typeof p === 'string' ? undefined : p;
}

/** The network of `addr/len`, e.g. 100.72.1.5/24 → 100.72.1.0/24. */
function networkOf(addr: string, len: number): PrefixMatch | undefined {
  return prefix(`${ipaddr.IPv4.networkAddressFromCIDR(`${addr}/${len}`).toString()}/${len}`);
}

/**
 * CGNAT preflight: an address, route or gateway inside the CGNAT range on an interface other than
 * the tunnel means legitimate traffic from that range arrives there, and the anti-spoof drop
 * would cut it. Suggests the exact `cgnat.exempt` list.
 */
export function checkCgnat(input: CheckInput): Check {
  const id = 'cgnat-preflight';
  const { config, facts } = input;
  if (config.cgnat.mode === 'off' || !config.families.includes('ip')) {
    return { id, status: 'ok', message: 'CGNAT rules are off: nothing to check', fix: null };
  }
  const range = prefix(config.cgnat.range)!;
  const exempt = config.cgnat.exempt.flatMap((e) => prefix(e) ?? []);
  const covered = (p: PrefixMatch) => exempt.some((e) => prefixContains(e, p));
  const overlaps = (p: PrefixMatch) => prefixContains(range, p) || prefixContains(p, range);
  const findings: string[] = [];
  const suggest: PrefixMatch[] = [];
  const add = (p: PrefixMatch, finding: string) => {
    if (covered(p) || suggest.some((s) => prefixContains(s, p))) return;
    findings.push(finding);
    // Exempting the whole range (or more) would switch the anti-spoof drop off: cap at the range.
    suggest.push(prefixContains(p, range) ? range : p);
  };
  if (isUnreadable(facts.addresses) || isUnreadable(facts.routes)) {
    const error = isUnreadable(facts.addresses) ? facts.addresses.error : (facts.routes as { error: string }).error;
    return { id, status: 'warn', message: `could not read addresses or routes: ${error}`, fix: 'check that `ip -j addr` and `ip -j route` work' };
  }
  for (const a of facts.addresses) {
    if (a.family !== 'inet' || a.ifname === config.interface) continue;
    const net = networkOf(a.local, a.prefixlen);
    if (net && overlaps(net)) add(net, `address ${a.local}/${a.prefixlen} on ${a.ifname}`);
  }
  for (const r of facts.routes) {
    if (!r.dev || r.dev === config.interface) continue;
    const dst = r.dst === 'default' ? undefined : prefix(r.dst.includes('/') ? r.dst : `${r.dst}/32`);
    if (dst && dst.family === 'ip' && overlaps(dst)) add(dst, `route ${r.dst} on ${r.dev}`);
    const gw = r.gateway ? prefix(r.gateway) : undefined;
    if (gw && gw.family === 'ip' && prefixContains(range, gw)) add(gw, `gateway ${r.gateway} on ${r.dev}`);
  }
  if (findings.length === 0) {
    return { id, status: 'ok', message: `no address, route or gateway in ${config.cgnat.range} outside ${config.interface}`, fix: null };
  }
  const rule = config.cgnat.mode === 'drop' ? 'drop' : 'return (no drop, but rules after it are skipped)';
  const entries = [...config.cgnat.exempt, ...suggest.map(formatPrefix)];
  return {
    id,
    status: 'warn',
    message: `${findings.join(', ')} inside the CGNAT range ${config.cgnat.range}: the anti-spoof rule ts-input/cgnat-spoof would ${rule} that traffic; exempt ${suggest.map(formatPrefix).join(', ')}`,
    fix: yamlList(['cgnat', 'exempt'], entries),
  };
}
