import ipaddr from 'ipaddr.js';
import type { Family, PrefixMatch } from './types.js';

/**
 * Parses an address or CIDR into a canonical prefix. Bare addresses become host prefixes
 * (/32, /128). Returns an error string instead of throwing so schemas can report it per key.
 */
export function parsePrefix(text: string): PrefixMatch | string {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  let len: number;
  try {
    if (text.includes('/')) {
      [addr, len] = ipaddr.parseCIDR(text);
    } else {
      addr = ipaddr.parse(text);
      len = addr.kind() === 'ipv4' ? 32 : 128;
    }
  } catch {
    return `not an IP address or CIDR: ${JSON.stringify(text)}`;
  }
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    return `IPv4-mapped IPv6 addresses are not supported: ${text}`;
  }
  const family: Family = addr.kind() === 'ipv4' ? 'ip' : 'ip6';
  const network = family === 'ip'
    ? ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${len}`)
    : ipaddr.IPv6.networkAddressFromCIDR(`${addr.toString()}/${len}`);
  const canonical = network.toString();
  if (canonical !== addr.toString()) {
    return `host bits set in ${text}; the network is ${canonical}/${len}`;
  }
  return { family, addr: canonical, len };
}

/** `100.64.0.0/10`, or the bare address for host prefixes (the way nft and iptables print them). */
export function formatPrefix(p: PrefixMatch): string {
  return `${p.addr}/${p.len}`;
}

/** True when `inner` lies entirely inside `outer` (same family). */
export function prefixContains(outer: PrefixMatch, inner: PrefixMatch): boolean {
  if (outer.family !== inner.family || inner.len < outer.len) return false;
  return ipaddr.parse(inner.addr).match(ipaddr.parse(outer.addr), outer.len);
}

/** True when the address `addr` (text) lies inside `prefix`. */
export function prefixHasAddress(prefix: PrefixMatch, addr: string): boolean {
  const parsed = parsePrefix(addr);
  return typeof parsed !== 'string' && prefixContains(prefix, parsed);
}
