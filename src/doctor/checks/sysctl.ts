import type { Check } from '../types.js';
import { isUnreadable } from '../types.js';
import type { CheckInput } from './context.js';
import { hostInterfaces } from './probes.js';
import { restoresMarks } from '../../sysctl/plan.js';

/** The sysctl keys doctor reads (relative to /proc/sys/net) for this config. */
export function sysctlKeys(interfaces: readonly string[]): string[] {
  return [
    'ipv4/ip_forward',
    'ipv6/conf/all/forwarding',
    'ipv4/conf/all/rp_filter',
    'ipv4/conf/all/src_valid_mark',
    ...interfaces.map((i) => `ipv4/conf/${i}/rp_filter`),
  ];
}

/** Interfaces whose reverse-path filter matters: the tunnel and the default-route interface. */
export function rpFilterInterfaces(input: CheckInput): string[] {
  const links = isUnreadable(input.facts.links) ? [] : input.facts.links;
  const wan = hostInterfaces(input).wan;
  return [...new Set([input.config.interface, wan])].filter((i) => links.includes(i));
}

/** Forwarding must be on for subnet routes and exit nodes (the forward and nat chains). */
export function checkForwarding(input: CheckInput): Check {
  const id = 'forwarding';
  const routing = input.ruleset.chains.some((c) => c.hook === 'forward');
  if (!routing) return { id, status: 'ok', message: 'no forward chain configured: forwarding not needed', fix: null };
  const wanted: { path: string; key: string }[] = [];
  if (input.config.families.includes('ip')) wanted.push({ path: 'ipv4/ip_forward', key: 'net.ipv4.ip_forward' });
  if (input.config.families.includes('ip6')) wanted.push({ path: 'ipv6/conf/all/forwarding', key: 'net.ipv6.conf.all.forwarding' });
  const off = wanted.filter((w) => input.facts.sysctl[w.path]?.trim() !== '1');
  if (off.length === 0) return { id, status: 'ok', message: `forwarding is on (${wanted.map((w) => w.key).join(', ')})`, fix: null };
  const snat = input.config.snat ? ' and SNAT is on' : '';
  const values = off.map((w) => `${w.key}=${input.facts.sysctl[w.path]?.trim() ?? 'unreadable'}`);
  return {
    id,
    status: 'warn',
    message: `${values.join(', ')}: subnet routes and exit-node traffic will not be forwarded (tsfw's forward chain is configured${snat}); ignore if this host does not route`,
    fix: `sysctl -w ${off.map((w) => `${w.key}=1`).join(' ')} && printf '${off.map((w) => `${w.key} = 1\\n`).join('')}' > /etc/sysctl.d/99-tailscale.conf`,
  };
}

/** The interfaces of rpFilterInterfaces that filter strictly: the kernel uses max(conf.all, conf.<iface>). */
function strictRpFilterInterfaces(input: CheckInput): string[] {
  const all = Number(input.facts.sysctl['ipv4/conf/all/rp_filter'] ?? 0);
  return rpFilterInterfaces(input).filter((i) => Math.max(all, Number(input.facts.sysctl[`ipv4/conf/${i}/rp_filter`] ?? 0)) === 1);
}

/** Strict reverse-path filtering drops asymmetric subnet-route and exit-node traffic. */
export function checkRpFilter(input: CheckInput): Check {
  const id = 'rp-filter';
  if (!input.config.families.includes('ip') || !input.ruleset.chains.some((c) => c.hook === 'forward')) {
    return { id, status: 'ok', message: 'not routing IPv4: rp_filter not relevant', fix: null };
  }
  const all = Number(input.facts.sysctl['ipv4/conf/all/rp_filter'] ?? 0);
  const strict = strictRpFilterInterfaces(input);
  if (strict.length === 0) return { id, status: 'ok', message: 'rp_filter is off or loose on the tunnel and default-route interfaces', fix: null };
  const fix = [
    ...(all === 1 ? ['net.ipv4.conf.all.rp_filter=2'] : []),
    ...strict.map((i) => `net.ipv4.conf.${i}.rp_filter=2`),
  ];
  return {
    id,
    status: 'warn',
    message: `strict rp_filter on ${strict.join(', ')}: asymmetric subnet-route and exit-node traffic is dropped before tsfw's rules see it`,
    fix: `sysctl -w ${fix.join(' ')}`,
  };
}

/**
 * Under strict rp_filter, replies to tailscaled's own marked sockets (bypass mark 0x80000,
 * routed by Tailscale's rule 5210 ahead of table 52) pass only with the connmark restore and
 * src_valid_mark = 1, which tsfw sets itself while connmark is in effect.
 */
export function checkConnmark(input: CheckInput): Check {
  const id = 'connmark';
  if (!input.config.families.includes('ip')) return { id, status: 'ok', message: 'IPv4 not managed: no reverse-path check to satisfy', fix: null };
  // Loose mode (2) accepts any route back, and table 52's default route is one: only strict (1) drops.
  const strict = strictRpFilterInterfaces(input);
  if (strict.length === 0) return { id, status: 'ok', message: 'rp_filter is not strict: replies to tailscaled\'s marked sockets need no connmark', fix: null };
  const where = strict.join(', ');
  if (!restoresMarks(input.ruleset)) {
    return {
      id,
      status: 'warn',
      message: `strict rp_filter on ${where} and connmark is not in effect (connmark: ${String(input.config.connmark)}, mode ${input.ruleset.mode}): replies to tailscaled's marked sockets are dropped as martians while Tailscale's policy routing (table 52) is active`,
      fix: 'set `connmark: auto` with mode on (or `connmark: on`), then: tsfw apply',
    };
  }
  if (input.facts.sysctl['ipv4/conf/all/src_valid_mark']?.trim() !== '1') {
    return {
      id,
      status: 'warn',
      message: `strict rp_filter on ${where} and net.ipv4.conf.all.src_valid_mark is not 1: the restored mark is not used by the reverse-path check until tsfw's next pass sets it`,
      fix: 'tsfw reconcile',
    };
  }
  return { id, status: 'ok', message: `strict rp_filter on ${where}; connmark restores tailscaled's marks and src_valid_mark = 1, so its replies pass`, fix: null };
}
