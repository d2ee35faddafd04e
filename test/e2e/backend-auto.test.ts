import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig, tsfwJson } from '../helpers/cli.js';
import type { ConvergeReport, TempConfig } from '../helpers/cli.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';

/**
 * `backend: auto` on real tables: a native nft table that happens to be called `ip filter` (with a
 * chain named INPUT, which iptables-nft-save lists as its own) is not evidence for iptables-nft,
 * so tsfw stays in its own `inet tsfw` table and the admin's native drop keeps working; a table
 * iptables-nft itself wrote still makes auto pick iptables-nft.
 */

const ENV = { SSH_CONNECTION: '' };

interface Status {
  readonly backend: string;
  readonly backendReason: string;
  readonly evidence: readonly string[];
}

describe('backend auto: a native ip filter table', () => {
  let net: Router;
  let cfg: TempConfig;
  let before: string;
  beforeAll(async () => {
    net = await createRouter();
    cfg = tempConfig({ backend: 'auto' });
    await net.router.sh([
      'nft add table ip filter',
      `nft add chain ip filter INPUT '{ type filter hook input priority 0; policy accept; }'`,
      'nft add rule ip filter INPUT udp dport 7300 drop',
    ].join(' && '));
    before = await net.router.sh('nft list table ip filter');
  });
  afterAll(async () => {
    cfg?.remove();
    await net?.destroy();
  });

  it('iptables-nft-save does list the native rule (the trap), yet auto picks nftables and says why', async () => {
    expect(await net.router.sh('iptables-nft-save -t filter')).toContain('-A INPUT -p udp -m udp --dport 7300 -j DROP');
    const status = await tsfwJson<Status>(net.router, ['status', '-c', cfg.path]);
    expect(status.backend).toBe('nftables');
    expect(status.backendReason).toBe('auto: no iptables rules in either flavour');
    expect(status.evidence).toContain('iptables-nft: 0 rule(s) (ip 0, ip6 0)');
    expect(status.evidence).toContain('ip filter: native nft table (no xtables expression, rule without a counter in chain INPUT): not evidence for iptables-nft');
  });

  it('apply writes only inet tsfw: the admin\'s table is byte-identical and its drop still drops tailnet traffic', async () => {
    const report = await tsfwJson<ConvergeReport>(net.router, ['apply', '-c', cfg.path, '--no-save'], ENV);
    expect(report).toMatchObject({ changed: true, backend: 'nftables' });
    expect(await net.router.sh('nft list table ip filter')).toBe(before);
    expect(await net.router.sh('nft list tables')).toContain('table inet tsfw');
    expect((await probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 7300 })).arrived).toBe(false);
    expect((await probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 7301 })).arrived).toBe(true);
  });
});

describe('backend auto: a table written by iptables-nft', () => {
  let ns: Netns;
  let cfg: TempConfig;
  beforeAll(async () => {
    ns = await createNetns('tsfwba');
    cfg = tempConfig({ backend: 'auto' });
  });
  afterAll(async () => {
    cfg?.remove();
    await ns?.destroy();
  });

  it('a plain iptables-nft rule (no xtables expression: its counter marks it) picks iptables-nft', async () => {
    await ns.sh('iptables-nft -w -A INPUT -p udp --dport 7300 -j DROP');
    expect(await ns.sh('nft -j list table ip filter')).not.toContain('"xt"');
    const status = await tsfwJson<Status>(ns, ['status', '-c', cfg.path]);
    expect(status.backend).toBe('iptables-nft');
    expect(status.backendReason).toBe('auto: iptables-nft already holds rules');
    expect(status.evidence).toContain('iptables-nft: 1 rule(s) (ip 1, ip6 0)');
    expect(status.evidence).toContain('ip filter: iptables-nft\'s rule shape (built-in chain names, a counter in every rule)');
  });

  it('a rule with an xtables match (comment) is evidence by itself', async () => {
    await ns.sh('iptables-nft -w -F INPUT && ip6tables-nft -w -A INPUT -m comment --comment admin -j ACCEPT');
    const status = await tsfwJson<Status>(ns, ['status', '-c', cfg.path]);
    expect(status.backend).toBe('iptables-nft');
    expect(status.evidence).toContain('ip6 filter: xtables expression comment in chain INPUT (written by iptables-nft)');
  });
});
