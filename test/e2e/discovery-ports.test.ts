import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig, tsfwJson } from '../helpers/cli.js';
import type { ConvergeReport, TempConfig } from '../helpers/cli.js';
import { startTsfwDaemon } from '../helpers/daemon.js';
import { createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { listenUdp, probeUdp, sendUdp } from '../helpers/udp.js';
import type { UdpListener } from '../helpers/udp.js';

/**
 * `ports: auto` with real packets on iptables-nft under the admin's INPUT policy DROP: a stand-in
 * tailscaled (node started through a symlink named `tailscaled`, so /proc/<pid>/comm says so)
 * holds a UDP socket; tsfw accepts exactly that port, and follows it when tailscaled restarts
 * on another port under a running daemon with the default schedule.
 */

const WAN_HOST = '198.51.100.2';
const ROUTER_WAN = '198.51.100.1';

describe('ports: auto (default config) on iptables-nft, real packets', () => {
  let net: Router;
  let cfg: TempConfig;
  let dir: string;
  let tailscaled: UdpListener | undefined;
  const standIn = (port: number) => listenUdp(net.router, port, 4, join(dir, 'tailscaled'));
  const input = async () => (await net.router.exec('iptables-nft-save', ['-t', 'filter'])).stdout.split('\n').filter((l) => l.startsWith('-A ts-input '));
  /** Sends to the stand-in and reports whether it received the datagram. */
  const reaches = async (listener: UdpListener, port: number) => {
    const data = `probe-${port}-${Date.now()}`;
    await sendUdp(net.wan, { src: WAN_HOST, dst: ROUTER_WAN, port, data });
    const end = Date.now() + 500;
    while (Date.now() < end) {
      if (listener.received.some((r) => r.data === data)) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return false;
  };

  beforeAll(async () => {
    net = await createRouter();
    dir = mkdtempSync(join(tmpdir(), 'tsfw-standin-'));
    symlinkSync(process.execPath, join(dir, 'tailscaled'));
    await net.router.sh('iptables-nft -w -P INPUT DROP');
    cfg = tempConfig({ backend: 'iptables-nft' });
  });
  afterAll(async () => {
    await tailscaled?.close();
    await net?.destroy();
    cfg?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('WAN → the port tailscaled holds is accepted; no tsfw rule accepts 41641; status names the source', async () => {
    tailscaled = await standIn(45678);
    expect(await reaches(tailscaled, 45678)).toBe(false); // policy DROP, before tsfw
    expect((await tsfwJson<ConvergeReport>(net.router, ['apply', '-c', cfg.path])).changed).toBe(true);
    expect(await reaches(tailscaled, 45678)).toBe(true);
    expect((await input()).filter((l) => l.includes('--dport'))).toEqual([
      '-A ts-input -p udp -m udp --dport 45678 -m comment --comment "tsfw:ts-input/wireguard-port[45678]" -j ACCEPT',
    ]);
    expect((await probeUdp(net.wan, net.router, { src: WAN_HOST, dst: ROUTER_WAN, port: 41641 })).arrived).toBe(false);
    const status = await tsfwJson<{ discovered: { ports: { values: number[]; source: string } } }>(net.router, ['status', '--json', '-c', cfg.path]);
    expect(status.discovered.ports).toMatchObject({ values: [45678], source: 'tailscaled' });
  });

  it('restarted on 45999 under a running daemon (default schedule): 45999 accepted within 15 s, 45678 no longer', async () => {
    const daemon = await startTsfwDaemon(net.router, cfg.path);
    try {
      await tailscaled!.close();
      const started = Date.now();
      tailscaled = await standIn(45999);
      let rules: string[] = [];
      while (Date.now() - started < 15_000) {
        rules = (await input()).filter((l) => l.includes('--dport'));
        if (rules.length === 1 && rules[0]!.includes('--dport 45999')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(rules).toEqual(['-A ts-input -p udp -m udp --dport 45999 -m comment --comment "tsfw:ts-input/wireguard-port[45999]" -j ACCEPT']);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(await reaches(tailscaled, 45999)).toBe(true);
      const old = await listenUdp(net.router, 45678);
      try {
        expect(await reaches(old, 45678)).toBe(false);
      } finally {
        await old.close();
      }
    } finally {
      await daemon.stop();
    }
  });
});
