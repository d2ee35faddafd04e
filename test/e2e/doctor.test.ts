import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check } from '../../src/doctor/types.js';
import type { TraceStep } from '../../src/model/trace.js';
import { tempConfig, tsfw, tsfwJson } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';

/**
 * `tsfw doctor` and `tsfw explain` on the namespace router: the built CLI, real nft, real
 * interfaces and addresses. Every finding is staged in the router namespace and removed again.
 */

/** SSH_CONNECTION is cleared so the lockdown guard never sees the test runner's own session. */
const ENV = { SSH_CONNECTION: '' };

interface Explained {
  readonly verdict: string;
  readonly rule: string | null;
  readonly path: readonly TraceStep[];
  readonly notes: readonly string[];
}

describe('tsfw doctor and explain (namespace router)', () => {
  let net: Router;
  let cfg: TempConfig;

  const doctor = async () => {
    const run = await tsfw<{ checks: Check[] }>(net.router, ['doctor', '-c', cfg.path, '--json'], ENV);
    if (!run.json) throw new Error(`doctor printed no JSON (exit ${run.exitCode}): ${run.stderr}`);
    return { exitCode: run.exitCode, checks: run.json.checks, byId: new Map(run.json.checks.map((c) => [c.id, c])) };
  };

  beforeAll(async () => {
    net = await createRouter();
    cfg = tempConfig({ mode: 'on', backend: 'nftables' });
    await tsfwJson(net.router, ['apply', '-c', cfg.path], ENV);
  });
  afterAll(async () => {
    cfg?.remove();
    await net?.destroy();
  });

  it('reports ok on the clean router: no warning or failure, exit 0', async () => {
    const { exitCode, checks } = await doctor();
    const ids = checks.map((c) => c.id);
    for (const id of ['backend-tools', 'check-transaction', 'tunnel-interface', 'managers', 'other-tables-input',
      'other-tables-forward', 'required-ports', 'cgnat-preflight', 'forwarding', 'rp-filter', 'mark-collisions']) {
      expect(ids).toContain(id);
    }
    expect(checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(checks.every((c) => c.fix === null)).toBe(true);
    expect(exitCode).toBe(0);
  });

  it('warns, naming the table and chain, when another table\'s input base chain has policy drop', async () => {
    await net.router.sh(`nft add table inet admin && nft add chain inet admin input '{ type filter hook input priority 0; policy drop; }'`);
    try {
      const { exitCode, byId } = await doctor();
      const check = byId.get('other-tables-input');
      expect(check?.status).toBe('warn');
      expect(check?.message).toMatch(/table inet admin chain input \(hook input, priority 0\) drops/);
      expect(check?.message).toMatch(/tailnet traffic in on tailscale0 \(policy drop\)/);
      expect(check?.fix).toContain('nft insert rule inet admin input iifname "tailscale0" accept');
      expect(exitCode).toBe(0);
      // The kernel agrees: tsfw accepts the tunnel packet, the admin's policy still drops it.
      expect((await probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 7100 })).arrived).toBe(false);
      // Once the admin accepts the tunnel in their own chain, doctor is satisfied for it.
      await net.router.sh('nft insert rule inet admin input iifname "tailscale0" accept && nft insert rule inet admin input udp dport 41641 accept');
      expect((await doctor()).byId.get('other-tables-input')?.status).toBe('ok');
    } finally {
      await net.router.sh('nft delete table inet admin');
    }
  });

  it('warns about a 100.64.0.0/10 address on a non-tunnel interface and suggests the exemption', async () => {
    await net.router.sh('ip addr add 100.72.1.5/24 dev wan0');
    try {
      const check = (await doctor()).byId.get('cgnat-preflight');
      expect(check?.status).toBe('warn');
      expect(check?.message).toMatch(/100\.72\.1\.5\/24 on wan0/);
      expect(check?.message).toMatch(/ts-input\/cgnat-spoof/);
      expect(check?.fix).toBe('cgnat:\n  exempt:\n    - 100.115.92.0/23\n    - 100.72.1.0/24');
      // The suggested snippet is valid config and silences the finding.
      cfg.write({ mode: 'on', backend: 'nftables', cgnat: { exempt: ['100.115.92.0/23', '100.72.1.0/24'] } });
      expect((await doctor()).byId.get('cgnat-preflight')?.status).toBe('ok');
    } finally {
      cfg.write({ mode: 'on', backend: 'nftables' });
      await net.router.sh('ip addr del 100.72.1.5/24 dev wan0');
    }
  });

  it('explain: a spoofed CGNAT source on the LAN interface is dropped by the CGNAT rule, like the kernel does', async () => {
    const r = await tsfwJson<Explained>(net.router, ['explain', '-c', cfg.path, '--src', ADDR.spoofed, '--dst', ADDR.routerLan,
      '--iif', 'lan0', '--proto', 'udp', '--dport', '7200'], ENV);
    expect(r.verdict).toBe('drop');
    expect(r.rule).toBe('ts-input/cgnat-spoof');
    // addresses: auto found the router's own tailscale0 address: its lo rule is evaluated first.
    expect(r.path.map((s) => s.rule)).toEqual([
      `ts-input/own-address-from-lo[${ADDR.routerTailnet}/32]`, `ts-input/own-address-from-lo[${ADDR.routerTailnet6}/128]`, 'ts-input/tunnel-accept', 'ts-input/wireguard-port[41641]', 'ts-input/cgnat-exempt[100.115.92.0/23]', 'ts-input/cgnat-spoof',
    ]);
    expect((await probeUdp(net.lan, net.router, { src: ADDR.spoofed, dst: ADDR.routerLan, port: 7200 })).arrived).toBe(false);

    const text = await tsfw(net.router, ['explain', '-c', cfg.path, '--src', ADDR.spoofed, '--dst', ADDR.routerLan, '--iif', 'lan0'], ENV);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/match\s+ts-input\/cgnat-spoof → drop/);
    expect(text.stdout).toMatch(/verdict: drop by ts-input\/cgnat-spoof/);
  });

  it('explain: the same source on the tunnel interface is accepted, with the cross-table reminder when another table hooks input', async () => {
    const args = ['explain', '-c', cfg.path, '--src', ADDR.peer, '--dst', ADDR.routerTailnet, '--iif', 'tailscale0', '--proto', 'udp', '--dport', '7300'];
    const r = await tsfwJson<Explained>(net.router, args, ENV);
    expect(r).toMatchObject({ verdict: 'accept', rule: 'ts-input/tunnel-accept' });
    expect(r.notes).toEqual([]);
    expect((await probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 7300 })).arrived).toBe(true);
    await net.router.sh(`nft add table ip other && nft add chain ip other in '{ type filter hook input priority 10; policy accept; }'`);
    try {
      const again = await tsfwJson<Explained>(net.router, args, ENV);
      expect(again.notes.join('\n')).toMatch(/not final across tables.*table ip other chain in \(policy accept\)/);
    } finally {
      await net.router.sh('nft delete table ip other');
    }
  });

  it('explain: a malformed address is a usage error', async () => {
    const r = await tsfw(net.router, ['explain', '-c', cfg.path, '--src', '1.2.3', '--dst', ADDR.routerLan], ENV);
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toMatch(/src: not a single IP address/);
  });
});
