import { tracePacket } from '../../model/trace.js';
import type { Hook } from '../../model/types.js';
import { isUnreadable } from '../types.js';
import { portsOf } from './context.js';
import type { CheckInput } from './context.js';
import type { ProbePacket } from './foreign-eval.js';

/**
 * Sample packets standing for "traffic tsfw accepts" and "the ports Tailscale needs", each with
 * the accept rule an admin would add to their own chain to let it through. Addresses are
 * documentation / CGNAT examples: only interfaces, protocol and ports matter to the checks.
 */
export interface Probe {
  readonly hook: Hook;
  readonly what: string;
  readonly packet: ProbePacket;
  /** nft statement for the admin's own chain. */
  readonly nft: string;
  /** iptables arguments after `-I CHAIN` for the admin's own chain. */
  readonly ipt: string;
}

/** Docker's bridges and container veths: links on the host, but not where its LAN is. */
const CONTAINER_LINK = /^(docker\d+|br-[0-9a-f]{12}|veth.*)$/;

/** The host's WAN (default-route) and one other LAN interface, or placeholders. */
export function hostInterfaces(input: CheckInput): { wan: string; lan: string } {
  const { routes, links } = input.facts;
  const wan = (!isUnreadable(routes) && routes.find((r) => r.dst === 'default')?.dev) || 'eth0';
  const lan = (!isUnreadable(links) && links.find((l) => l !== 'lo' && l !== wan && l !== input.config.interface && !CONTAINER_LINK.test(l))) || 'lan0';
  return { wan, lan };
}

/** Packets tsfw's own rules accept on input and forward (checked with the tracer). */
export function acceptedProbes(input: CheckInput): Probe[] {
  const tun = input.config.interface;
  const { wan, lan } = hostInterfaces(input);
  const port = portsOf(input)[0];
  const candidates: Probe[] = [
    { hook: 'input', what: `tailnet traffic in on ${tun}`, packet: { family: 'ip', iif: tun, src: '100.100.100.100', dst: '100.100.100.1', proto: 'tcp', dport: 61000 }, nft: `iifname "${tun}" accept`, ipt: `-i ${tun} -j ACCEPT` },
    { hook: 'input', what: `IPv6 tailnet traffic in on ${tun}`, packet: { family: 'ip6', iif: tun, src: '2001:db8:100::100', dst: '2001:db8:100::1', proto: 'tcp', dport: 61000 }, nft: `iifname "${tun}" accept`, ipt: `-i ${tun} -j ACCEPT` },
    ...(port === undefined ? [] : [{ hook: 'input' as const, what: `the WireGuard port ${port}/udp on ${wan}`, packet: { family: 'ip' as const, iif: wan, src: '203.0.113.7', dst: '198.51.100.1', proto: 'udp' as const, sport: 50000, dport: port }, nft: `udp dport ${port} accept`, ipt: `-p udp --dport ${port} -j ACCEPT` }]),
    { hook: 'forward', what: `traffic routed from ${tun} to ${lan}`, packet: { family: 'ip', iif: tun, oif: lan, src: '100.100.100.100', dst: '192.0.2.10', proto: 'tcp', dport: 443 }, nft: `iifname "${tun}" accept`, ipt: `-i ${tun} -j ACCEPT` },
    { hook: 'forward', what: `traffic routed from ${lan} into ${tun}`, packet: { family: 'ip', iif: lan, oif: tun, src: '192.0.2.10', dst: '100.100.100.100', proto: 'tcp', sport: 443, dport: 40000, ctState: 'established' }, nft: `oifname "${tun}" accept`, ipt: `-o ${tun} -j ACCEPT` },
  ];
  return candidates.filter((p) => {
    if (!input.config.families.includes(p.packet.family)) return false;
    const verdict = tracePacket({ ...input.ruleset, mode: 'on' }, p.hook, p.packet).verdict;
    return verdict === 'accept';
  });
}

/** The ports Tailscale needs on default-drop hosts (the required-ports profile's list). */
export function requiredPortProbes(input: CheckInput): Probe[] {
  const { wan } = hostInterfaces(input);
  const probes: Probe[] = [];
  for (const port of portsOf(input)) {
    probes.push({ hook: 'output', what: `WireGuard out from ${port}/udp`, packet: { family: 'ip', oif: wan, src: '198.51.100.1', dst: '203.0.113.7', proto: 'udp', sport: port, dport: 41641 }, nft: `udp sport ${port} accept`, ipt: `-p udp --sport ${port} -j ACCEPT` });
    probes.push({ hook: 'input', what: `WireGuard in to ${port}/udp`, packet: { family: 'ip', iif: wan, src: '203.0.113.7', dst: '198.51.100.1', proto: 'udp', sport: 41641, dport: port }, nft: `udp dport ${port} accept`, ipt: `-p udp --dport ${port} -j ACCEPT` });
  }
  const out = (what: string, proto: 'tcp' | 'udp', dport: number): Probe => ({
    hook: 'output', what, packet: { family: 'ip', oif: wan, src: '198.51.100.1', dst: '203.0.113.7', proto, sport: 50000, dport },
    nft: `${proto} dport ${dport} accept`, ipt: `-p ${proto} --dport ${dport} -j ACCEPT`,
  });
  probes.push(out('STUN out to 3478/udp', 'udp', 3478), out('HTTPS out to 443/tcp', 'tcp', 443), out('HTTP out to 80/tcp', 'tcp', 80));
  return probes;
}
