import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';
import { startUfwHost } from '../helpers/ufw.js';
import type { UfwHost } from '../helpers/ufw.js';

/**
 * The ufw harness itself: the real ufw, enabled inside the test router's namespaces, loads its
 * rules there only (the host's /etc/ufw and ruleset stay as they were) and its default input
 * policy drops a tailnet probe that passes before it.
 */

describe('ufw harness', () => {
  let net: Router;
  let ufw: UfwHost;
  const hostConf = readFileSync('/etc/ufw/ufw.conf', 'utf8');
  const hostRules = readFileSync('/etc/ufw/user.rules', 'utf8');

  beforeAll(async () => {
    net = await createRouter();
    ufw = await startUfwHost(net.router);
  });
  afterAll(async () => {
    await ufw?.destroy();
    await net?.destroy();
  });

  it('ufw enable loads its chains in the test namespace only and drops tailnet traffic', async () => {
    const probe = () => probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 7400 });
    expect((await probe()).arrived).toBe(true);
    expect(await ufw.ufw('status')).toContain('Status: inactive');

    expect(await ufw.ufw('--force', 'enable')).toContain('Firewall is active');
    expect(await ufw.ufw('status')).toContain('Status: active');
    expect(readFileSync(`${ufw.etcDir}/ufw.conf`, 'utf8')).toContain('ENABLED=yes');
    // The same namespace seen without the holder's mounts: ufw's chains are in its kernel tables.
    expect(await net.router.sh('iptables-nft-save -t filter')).toContain(':ufw-user-input');
    expect((await probe()).arrived).toBe(false);

    // The host's ufw files did not change.
    expect(readFileSync('/etc/ufw/ufw.conf', 'utf8')).toBe(hostConf);
    expect(readFileSync('/etc/ufw/user.rules', 'utf8')).toBe(hostRules);
    // Other namespaces (the peer's) have no ufw chain.
    expect(await net.peer.sh('iptables-nft-save -t filter')).not.toContain('ufw-');
  });
});
