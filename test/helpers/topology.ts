import { createNetns, link } from './netns.js';
import type { Netns } from './netns.js';

/**
 * The test router:
 *
 *   peer (tailnet)                 router                         lan host
 *   eth0 100.100.0.2 ──── tailscale0 100.100.0.1   lan0 192.0.2.1 ──── eth0 192.0.2.2
 *        2001:db8:100::2           2001:db8:100::1  2001:db8:1::1       2001:db8:1::2
 *                                   wan0 198.51.100.1 ──── eth0 198.51.100.2  wan host
 *                                        2001:db8:2::1            2001:db8:2::2
 *
 * Only 100.64.0.0/10 and documentation ranges are used. The router forwards, with rp_filter
 * off, so only tsfw's rules decide what passes.
 */
export interface Router {
  readonly router: Netns;
  readonly peer: Netns;
  readonly lan: Netns;
  readonly wan: Netns;
  destroy(): Promise<void>;
}

export const ADDR = {
  routerTailnet: '100.100.0.1',
  peer: '100.100.0.2',
  routerLan: '192.0.2.1',
  lanHost: '192.0.2.2',
  routerWan: '198.51.100.1',
  wanHost: '198.51.100.2',
  /** A CGNAT address the LAN host can use as a spoofed source. */
  spoofed: '100.100.0.99',
  routerTailnet6: '2001:db8:100::1',
  peer6: '2001:db8:100::2',
  routerLan6: '2001:db8:1::1',
  lanHost6: '2001:db8:1::2',
} as const;

export async function createRouter(): Promise<Router> {
  const [router, peer, lan, wan] = await Promise.all([
    createNetns('tsfwr'), createNetns('tsfwp'), createNetns('tsfwl'), createNetns('tsfww'),
  ]);
  try {
    await link(router, 'tailscale0', ['100.100.0.1/24', '2001:db8:100::1/64'], peer, 'eth0', ['100.100.0.2/24', '2001:db8:100::2/64']);
    await link(router, 'lan0', ['192.0.2.1/24', '2001:db8:1::1/64'], lan, 'eth0', ['192.0.2.2/24', '2001:db8:1::2/64']);
    await link(router, 'wan0', ['198.51.100.1/24', '2001:db8:2::1/64'], wan, 'eth0', ['198.51.100.2/24', '2001:db8:2::2/64']);
    await router.sh([
      'sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1',
      'sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0',
      'for i in tailscale0 lan0 wan0; do sysctl -qw net.ipv4.conf.$i.rp_filter=0; done',
    ].join(' && '));
    await peer.sh('ip route add default via 100.100.0.1 && ip -6 route add default via 2001:db8:100::1');
    // The spoofed CGNAT source lives on the LAN host, so its packets arrive on lan0.
    await lan.sh(`ip addr add ${ADDR.spoofed}/32 dev eth0 && ip route add default via 192.0.2.1 && ip -6 route add default via 2001:db8:1::1`);
    await wan.sh('ip route add default via 198.51.100.1 && ip -6 route add default via 2001:db8:2::1');
  } catch (error) {
    await Promise.all([router, peer, lan, wan].map((n) => n.destroy()));
    throw error;
  }
  return {
    router, peer, lan, wan,
    async destroy() {
      await Promise.all([router, peer, lan, wan].map((n) => n.destroy()));
    },
  };
}
