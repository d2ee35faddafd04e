import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig, tsfw } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { tcpConnects, udpFrom } from '../helpers/sockets.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { startFirewalld } from '../helpers/firewalld.js';
import type { Firewalld } from '../helpers/firewalld.js';
import { probeUdp } from '../helpers/udp.js';
import { startUfwHost } from '../helpers/ufw.js';
import type { UfwHost } from '../helpers/ufw.js';

/**
 * `tsfw render --for iptables | nftables` applied for real: the router namespace gets the admin's
 * default-drop INPUT and OUTPUT (replies, loopback and ICMPv6 allowed, nothing else), the rendered
 * snippet is loaded the way its header says, and real packets show that exactly the required
 * ports pass: WireGuard in and out (from its own port to any port), STUN, HTTPS and HTTP out.
 * No tsfw rules are applied here: what passes is the snippet's doing. The ufw form runs against
 * the real ufw in the router's namespace (test/helpers/ufw.ts), with ufw's own default-deny policies;
 * the firewalld form against the real firewalld (test/helpers/firewalld.ts), its default zone
 * rejecting input and an admin's policy rejecting the host's output.
 */

const WAN_HOST = '198.51.100.2';
const ROUTER_WAN = '198.51.100.1';
const PORTS = [41641, 41642];

/** The probes every form must pass, against the router with its default-drop policies. */
function portProbes(get: () => Router) {
  const out = (sport: number, dport: number) => udpFrom(get().router, get().wan, { src: ROUTER_WAN, sport, dst: WAN_HOST, dport });
  const inbound = (port: number) => probeUdp(get().wan, get().router, { src: WAN_HOST, dst: ROUTER_WAN, port }).then((r) => r.arrived);
  const inbound6 = (port: number) => probeUdp(get().lan, get().router, { src: ADDR.lanHost6, dst: ADDR.routerLan6, port }).then((r) => r.arrived);

  it('WireGuard ports are open inbound (IPv4 and IPv6); other ports stay dropped', async () => {
    expect(await inbound(41641)).toBe(true);
    expect(await inbound(41642)).toBe(true);
    expect(await inbound(41643)).toBe(false);
    expect(await inbound(3478)).toBe(false);
    expect(await inbound6(41641)).toBe(true);
    expect(await inbound6(7001)).toBe(false);
  });

  it('outbound: from the WireGuard ports to any port, STUN, HTTPS and HTTP; nothing else', async () => {
    expect(await out(41641, 9999)).toBe(true);
    expect(await out(41642, 5000)).toBe(true);
    expect(await out(40000, 3478)).toBe(true);
    expect(await out(40001, 9999)).toBe(false);
    expect(await out(40002, 443)).toBe(false); // 443 is TCP only
    expect(await tcpConnects(get().router, get().wan, WAN_HOST, 443)).toBe(true);
    expect(await tcpConnects(get().router, get().wan, WAN_HOST, 80)).toBe(true);
    expect(await tcpConnects(get().router, get().wan, WAN_HOST, 22)).toBe(false);
  });
}

describe('render --for: snippets applied in a namespace router with default-drop policies', () => {
  let cfg: TempConfig;
  let dir: string;
  beforeAll(() => {
    cfg = tempConfig({ ports: PORTS });
    dir = mkdtempSync(join(tmpdir(), 'tsfw-snippet-'));
  });
  afterAll(() => {
    cfg?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const render = async (net: Router, target: string) => {
    const run = await tsfw(net.router, ['render', '--for', target, '-c', cfg.path]);
    expect(run.exitCode, run.stderr).toBe(0);
    const file = join(dir, `${target}.snippet`);
    // execa strips the final newline the CLI printed; restore it (nft and iptables-restore need it).
    writeFileSync(file, `${run.stdout}\n`);
    return file;
  };

  describe.each(['nft', 'legacy'] as const)('iptables-restore file on iptables-%s', (flavour) => {
    let net: Router;
    const ipt = (family: 4 | 6) => `${family === 4 ? 'iptables' : 'ip6tables'}-${flavour}`;
    beforeAll(async () => {
      net = await createRouter();
      for (const family of [4, 6] as const) {
        const bin = ipt(family);
        await net.router.sh([
          `${bin} -w -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`,
          `${bin} -w -A INPUT -i lo -j ACCEPT`,
          ...(family === 6 ? [`${bin} -w -A INPUT -p ipv6-icmp -j ACCEPT`, `${bin} -w -A OUTPUT -p ipv6-icmp -j ACCEPT`] : []),
          `${bin} -w -A OUTPUT -o lo -j ACCEPT`,
          `${bin} -w -P INPUT DROP`,
          `${bin} -w -P OUTPUT DROP`,
        ].join(' && '));
      }
    });
    afterAll(async () => {
      await net?.destroy();
    });

    it('before the snippet the policies drop WireGuard and HTTPS (what passes below is the snippet\'s)', async () => {
      expect((await probeUdp(net.wan, net.router, { src: WAN_HOST, dst: ROUTER_WAN, port: 41641 })).arrived).toBe(false);
      expect(await tcpConnects(net.router, net.wan, WAN_HOST, 443)).toBe(false);
    });

    it('loads with iptables-restore --noflush and ip6tables-restore --noflush, leaving the admin\'s policies', async () => {
      const file = await render(net, 'iptables');
      await net.router.sh(`${ipt(4)}-restore --noflush ${file} && ${ipt(6)}-restore --noflush ${file}`);
      const save = await net.router.sh(`${ipt(4)}-save -t filter`);
      expect(save).toMatch(/^:INPUT DROP /m);
      expect(save).toMatch(/^:OUTPUT DROP /m);
      expect(save).toContain('-A INPUT -p udp -m udp --dport 41641 -m comment --comment "tailscale wireguard-in[41641]" -j ACCEPT');
    });

    portProbes(() => net);
  });

  describe('ufw commands against the real ufw, default deny incoming and outgoing', () => {
    let net: Router;
    let ufw: UfwHost;
    beforeAll(async () => {
      net = await createRouter();
      ufw = await startUfwHost(net.router);
      await ufw.ufw('default', 'deny', 'incoming');
      await ufw.ufw('default', 'deny', 'outgoing');
      await ufw.ufw('--force', 'enable');
    });
    afterAll(async () => {
      await ufw?.destroy();
      await net?.destroy();
    });

    it('before the commands ufw drops WireGuard and HTTPS (what passes below is the snippet\'s)', async () => {
      expect((await probeUdp(net.wan, net.router, { src: WAN_HOST, dst: ROUTER_WAN, port: 41641 })).arrived).toBe(false);
      expect(await tcpConnects(net.router, net.wan, WAN_HOST, 443)).toBe(false);
    });

    it('every rendered command succeeds, and ufw lists each rule with its comment', async () => {
      const rendered = await tsfw<{ commands: string[][] }>(net.router, ['render', '--for', 'ufw', '-c', cfg.path, '--json']);
      const commands = rendered.json?.commands ?? [];
      expect(commands.length).toBe(7);
      for (const [file, ...args] of commands) {
        const run = await ufw.exec(file!, args);
        expect(run.exitCode, `${[file, ...args].join(' ')}: ${run.stderr}${run.stdout}`).toBe(0);
      }
      const status = await ufw.ufw('status', 'verbose');
      expect(status).toContain("# tailscale wireguard-in[41641]");
      expect(status).toContain("# tailscale https");
    });

    portProbes(() => net);
  });

  describe('firewall-cmd commands against the real firewalld, output rejected by an admin policy', () => {
    let net: Router;
    let fw: Firewalld;
    beforeAll(async () => {
      net = await createRouter();
      fw = await startFirewalld(net.router);
      // The admin's outbound default-deny: a HOST -> ANY policy after any other (priority 100), neighbour discovery allowed.
      const pol = '--policy=admin-out-reject';
      await fw.cmd('--permanent', '--new-policy=admin-out-reject');
      await fw.cmd('--permanent', pol, '--add-ingress-zone=HOST');
      await fw.cmd('--permanent', pol, '--add-egress-zone=ANY');
      await fw.cmd('--permanent', pol, '--add-protocol=ipv6-icmp');
      await fw.cmd('--permanent', pol, '--set-priority=100');
      await fw.cmd('--permanent', pol, '--set-target=REJECT');
      await fw.cmd('--reload');
    });
    afterAll(async () => {
      await fw?.destroy();
      await net?.destroy();
    });

    it('before the commands firewalld rejects WireGuard and HTTPS (what passes below is the snippet\'s)', async () => {
      expect((await probeUdp(net.wan, net.router, { src: WAN_HOST, dst: ROUTER_WAN, port: 41641 })).arrived).toBe(false);
      expect(await tcpConnects(net.router, net.wan, WAN_HOST, 443)).toBe(false);
    });

    it('every rendered command succeeds, ending with the reload that loads them', async () => {
      const rendered = await tsfw<{ commands: string[][] }>(net.router, ['render', '--for', 'firewalld', '-c', cfg.path, '--json']);
      const commands = rendered.json?.commands ?? [];
      expect(commands.at(-1)).toEqual(['firewall-cmd', '--reload']);
      for (const [file, ...args] of commands) {
        const run = await fw.exec(file!, args, { reject: false });
        expect(run.exitCode, `${[file, ...args].join(' ')}: ${run.stderr}${run.stdout}`).toBe(0);
      }
      expect(await fw.cmd('--list-ports')).toContain('41641/udp');
    });

    portProbes(() => net);
  });

  describe('nftables include in the admin\'s own inet table', () => {
    let net: Router;
    beforeAll(async () => {
      net = await createRouter();
      const include = await render(net, 'nftables');
      const conf = join(dir, 'admin.nft');
      writeFileSync(conf, `table inet admin {
  include "${include}"
  chain input {
    type filter hook input priority filter; policy drop;
    ct state established,related accept
    iifname "lo" accept
    meta l4proto ipv6-icmp accept
    jump tailscale-in
  }
  chain output {
    type filter hook output priority filter; policy drop;
    oifname "lo" accept
    meta l4proto ipv6-icmp accept
    jump tailscale-out
  }
}
`);
      await net.router.sh(`nft -f ${conf}`);
    });
    afterAll(async () => {
      await net?.destroy();
    });

    it('the included chains hold exactly the rendered rules', async () => {
      const listed = await net.router.sh('nft list chain inet admin tailscale-out');
      expect(listed).toContain('udp sport 41642 accept comment "tailscale wireguard-out[41642]"');
      expect(listed).toContain('tcp dport 443 accept comment "tailscale https"');
    });

    portProbes(() => net);

    it('--json carries the requirements and the data form; misplaced options are usage errors (64)', async () => {
      const aws = await tsfw<{ target: string; requirements: { id: string }[]; terraform: { resource: Record<string, unknown> } }>(net.router, ['render', '--for', 'aws', '-c', cfg.path, '--json']);
      expect(aws.exitCode).toBe(0);
      expect(aws.json?.requirements.map((r) => r.id)).toEqual(['wireguard-in[41641]', 'wireguard-in[41642]', 'wireguard-out[41641]', 'wireguard-out[41642]', 'stun', 'https', 'http']);
      expect(Object.keys(aws.json?.terraform.resource ?? {})).toEqual(['aws_vpc_security_group_ingress_rule', 'aws_vpc_security_group_egress_rule']);
      const ufw = await tsfw<{ commands: string[][] }>(net.router, ['render', '--for', 'ufw', '-c', cfg.path, '--json']);
      expect(ufw.json?.commands[0]).toEqual(['ufw', 'allow', 'in', 'proto', 'udp', 'to', 'any', 'port', '41641', 'comment', 'tailscale wireguard-in[41641]']);
      for (const args of [['--for', 'aws', '--zone', 'public'], ['--for', 'ufw', '--priority', '200'], ['--for', 'azure', '--priority', '5'], ['--for', 'pf']]) {
        const run = await tsfw(net.router, ['render', ...args, '-c', cfg.path]);
        expect(run.exitCode, args.join(' ')).toBe(64);
        expect(run.stderr.split('\n').filter(Boolean).length, run.stderr).toBeLessThanOrEqual(2);
        expect(run.stdout).toBe('');
      }
    });
  });
});
