import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConcreteBackend } from '../../src/config/schema.js';
import { tempConfig, tsfwJson } from '../helpers/cli.js';
import type { ConvergeReport, TempConfig } from '../helpers/cli.js';
import type { Netns } from '../helpers/netns.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';

/**
 * One table of packet cases, run unchanged on nftables, iptables-nft and iptables-legacy (mode
 * on, default profile): the three backends must treat real datagrams the same way.
 */

type Host = 'peer' | 'lan' | 'router';

interface PacketCase {
  readonly name: string;
  /** The admin's input policy while the case runs: `drop` proves tsfw's accepts are what let it in. */
  readonly policy: 'accept' | 'drop';
  readonly from: Host;
  readonly to: Host;
  readonly src: string;
  readonly dst: string;
  /** Fixed per case; each backend gets a fresh router, so no conntrack entry carries over. */
  readonly port: number;
  readonly expected: { readonly arrived: boolean; readonly from?: string };
}

const CASES: readonly PacketCase[] = [
  { name: 'spoofed CGNAT source on the LAN link → router: dropped at input', policy: 'accept', from: 'lan', to: 'router', src: ADDR.spoofed, dst: ADDR.routerLan, port: 7001, expected: { arrived: false } },
  { name: 'tailnet → router under input policy DROP: accepted', policy: 'drop', from: 'peer', to: 'router', src: ADDR.peer, dst: ADDR.routerTailnet, port: 7002, expected: { arrived: true, from: ADDR.peer } },
  { name: 'LAN → WireGuard UDP port under input policy DROP: accepted', policy: 'drop', from: 'lan', to: 'router', src: ADDR.lanHost, dst: ADDR.routerLan, port: 41641, expected: { arrived: true, from: ADDR.lanHost } },
  { name: 'LAN → another UDP port under input policy DROP: still dropped', policy: 'drop', from: 'lan', to: 'router', src: ADDR.lanHost, dst: ADDR.routerLan, port: 7003, expected: { arrived: false } },
  { name: 'tailnet → LAN host: forwarded and masqueraded to 192.0.2.1', policy: 'accept', from: 'peer', to: 'lan', src: ADDR.peer, dst: ADDR.lanHost, port: 7004, expected: { arrived: true, from: ADDR.routerLan } },
  { name: 'CGNAT source toward tailscale0: dropped', policy: 'accept', from: 'lan', to: 'peer', src: ADDR.spoofed, dst: ADDR.peer, port: 7005, expected: { arrived: false } },
  { name: 'IPv6 tailnet → LAN host: forwarded and masqueraded to 2001:db8:1::1', policy: 'accept', from: 'peer', to: 'lan', src: ADDR.peer6, dst: ADDR.lanHost6, port: 7006, expected: { arrived: true, from: ADDR.routerLan6 } },
];

/**
 * The admin's input policy DROP, per backend. iptables: the built-in INPUT policy, which tsfw's
 * jump at position 1 is evaluated before. nftables has no shared INPUT chain: an accept in tsfw's
 * base chain is final only there, so a drop-policy chain in another table would still drop the
 * tailnet. The nearest equivalent is what an nft admin writes to keep tsfw's rules in force: a
 * base chain of their own with policy drop that jumps to ts-input (inside tsfw's table, since
 * jumps cannot cross tables; tsfw leaves chains it did not create alone).
 */
async function setInputPolicy(backend: ConcreteBackend, router: Netns, policy: 'accept' | 'drop'): Promise<void> {
  if (backend !== 'nftables') {
    const flavour = backend === 'iptables-nft' ? 'nft' : 'legacy';
    await router.sh(`iptables-${flavour} -w -P INPUT ${policy.toUpperCase()}`);
    return;
  }
  if (policy === 'drop') {
    await router.sh("nft add chain inet tsfw admin-input '{ type filter hook input priority 0; policy drop; }' && nft add rule inet tsfw admin-input jump ts-input");
  } else {
    await router.sh('nft list chain inet tsfw admin-input >/dev/null 2>&1 && nft flush chain inet tsfw admin-input && nft delete chain inet tsfw admin-input || true');
  }
}

describe.each(['nftables', 'iptables-nft', 'iptables-legacy'] as const)('packet parity on %s (mode on)', (backend) => {
  let net: Router;
  let cfg: TempConfig;
  const hosts = (): Record<Host, Netns> => ({ peer: net.peer, lan: net.lan, router: net.router });

  beforeAll(async () => {
    net = await createRouter();
    cfg = tempConfig({ backend });
    // Baseline: before tsfw, the cases expected to be dropped do arrive, so a drop below is tsfw's doing.
    for (const c of CASES.filter((x) => !x.expected.arrived && x.policy === 'accept')) {
      expect(await probeUdp(hosts()[c.from], hosts()[c.to], { src: c.src, dst: c.dst, port: c.port + 100 }), `baseline: ${c.name}`).toMatchObject({ arrived: true });
    }
    const report = await tsfwJson<ConvergeReport>(net.router, ['apply', '--mode', 'on', '-c', cfg.path]);
    expect(report).toMatchObject({ changed: true, backend, mode: 'on' });
  });
  afterAll(async () => {
    await net?.destroy();
    cfg?.remove();
  });

  it.each(CASES)('$name', async (c) => {
    await setInputPolicy(backend, net.router, c.policy);
    try {
      const got = await probeUdp(hosts()[c.from], hosts()[c.to], { src: c.src, dst: c.dst, port: c.port });
      expect(got).toEqual(c.expected);
    } finally {
      await setInputPolicy(backend, net.router, 'accept');
    }
  });
});
