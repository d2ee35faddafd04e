import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig, tsfw } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { cliEnv } from '../helpers/daemon.js';
import { createDockerd } from '../helpers/docker.js';
import type { Dockerd } from '../helpers/docker.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The real dockerd beside tsfw on the test router: what Docker 20.10 does to FORWARD (policy
 * DROP when it turns ip_forward on itself, its jumps re-inserted at the top on every start), and
 * whether tailnet ↔ LAN forwarding passes with each tsfw backend in mode on.
 */

type Backend = 'nftables' | 'iptables-nft' | 'iptables-legacy';

async function forwardLines(router: Router, save: string): Promise<string[]> {
  const r = await router.router.exec(save, ['-t', 'filter'], { reject: false });
  return r.stdout.split('\n').filter((l) => l.startsWith(':FORWARD') || l.startsWith('-A FORWARD'));
}

describe('dockerd beside tsfw', () => {
  let router: Router;
  let dockerd: Dockerd | undefined;
  let cfg: TempConfig | undefined;
  const runDir = mkdtempSync(join(tmpdir(), 'tsfw-run-'));

  beforeAll(async () => {
    router = await createRouter();
  });
  afterEach(async () => {
    cfg?.remove();
    cfg = undefined;
  });
  afterAll(async () => {
    await dockerd?.destroy();
    await router?.destroy();
    rmSync(runDir, { recursive: true, force: true });
  });

  async function applyOn(backend: Backend, docker: 'auto' | 'off'): Promise<void> {
    cfg = tempConfig({ backend, integrations: { docker } });
    const run = await tsfw(router.router, ['apply', '--mode', 'on', '-c', cfg.path, '--no-save'], cliEnv(runDir));
    expect(run.exitCode, run.stderr).toBe(0);
  }

  async function forwarding(): Promise<{ toLan: boolean; fromLan: boolean }> {
    const toLan = await probeUdp(router.peer, router.lan, { src: ADDR.peer, dst: ADDR.lanHost, port: 5301 });
    const fromLan = await probeUdp(router.lan, router.peer, { src: ADDR.lanHost, dst: ADDR.peer, port: 5302 });
    return { toLan: toLan.arrived, fromLan: fromLan.arrived };
  }

  it('dockerd sets FORWARD policy DROP when it turns ip_forward on itself, its jumps first in FORWARD', async () => {
    await router.router.sh('sysctl -qw net.ipv4.ip_forward=0');
    dockerd = createDockerd(router.router);
    await dockerd.start();
    expect(await router.router.sh('sysctl -n net.ipv4.ip_forward')).toBe('1');
    const first = await forwardLines(router, 'iptables-nft-save');
    expect(first[0]).toBe(':FORWARD DROP [0:0]');
    expect(first.slice(1, 3)).toEqual(['-A FORWARD -j DOCKER-USER', '-A FORWARD -j DOCKER-ISOLATION-STAGE-1']);
  });

  /** Docker's filter table without tsfw's own lines: what must be unchanged after off. */
  async function dockerLines(save: string): Promise<string[]> {
    const r = await router.router.exec(save, ['-t', 'filter'], { reject: false });
    return r.stdout.split('\n').filter((l) => /^[:-]/.test(l) && !/ts-|tsfw:/.test(l)).map((l) => l.replace(/\[\d+:\d+\]/, ''));
  }

  async function dockerUser(save: string): Promise<string[]> {
    const r = await router.router.exec(save, ['-t', 'filter'], { reject: false });
    return r.stdout.split('\n').filter((l) => l.startsWith('-A DOCKER-USER'));
  }

  const OURS = [
    '-A DOCKER-USER -o tailscale0 -m comment --comment "tsfw:docker-out" -j ACCEPT',
    '-A DOCKER-USER -i tailscale0 -m comment --comment "tsfw:docker-in" -j ACCEPT',
    '-A DOCKER-USER -j RETURN',
  ];

  // Docker (iptables-nft, FORWARD policy DROP) and each tsfw backend: without the integration only
  // iptables-nft forwards (its ts-forward accept is in Docker's own FORWARD chain); with it, all do.
  const expectations = { nftables: { alone: false, rules: true }, 'iptables-nft': { alone: true, rules: false }, 'iptables-legacy': { alone: false, rules: true } } as const;
  for (const backend of ['nftables', 'iptables-nft', 'iptables-legacy'] as const) {
    it(`${backend}: forwarding ${expectations[backend].alone ? 'passes' : 'is dropped'} with integrations.docker off; with auto it passes, and off restores DOCKER-USER exactly`, async () => {
      const before = await dockerLines('iptables-nft-save');
      await applyOn(backend, 'off');
      expect(await forwarding()).toEqual({ toLan: expectations[backend].alone, fromLan: expectations[backend].alone });
      await applyOn(backend, 'auto');
      expect(await dockerUser('iptables-nft-save')).toEqual(expectations[backend].rules ? OURS : ['-A DOCKER-USER -j RETURN']);
      expect(await forwarding()).toEqual({ toLan: true, fromLan: true });
      const off = await tsfw(router.router, ['apply', '--mode', 'off', '-c', cfg!.path, '--no-save'], cliEnv(runDir));
      expect(off.exitCode, off.stderr).toBe(0);
      expect(await dockerLines('iptables-nft-save')).toEqual(before);
      expect(await dockerUser('iptables-nft-save')).toEqual(['-A DOCKER-USER -j RETURN']);
    });
  }

  it('IPv6 forwarding is untouched by Docker 20.10 (no ip6tables rules without --ip6tables)', async () => {
    await applyOn('nftables', 'off');
    expect((await probeUdp(router.peer, router.lan, { src: ADDR.peer6, dst: ADDR.lanHost6, port: 5303 })).arrived).toBe(true);
    expect(await dockerUser('ip6tables-nft-save')).toEqual([]);
    await tsfw(router.router, ['apply', '--mode', 'off', '-c', cfg!.path, '--no-save'], cliEnv(runDir));
  });

  it('dockerd on iptables-legacy: tsfw iptables-legacy needs no rule; nftables gets them in the legacy DOCKER-USER', async () => {
    await dockerd!.destroy();
    // The iptables-nft dockerd's chains stay behind when it stops: remove them, so only the legacy Docker counts.
    await router.router.sh('nft delete table ip filter; nft delete table ip nat');
    dockerd = createDockerd(router.router, { flavour: 'legacy' });
    await router.router.sh('sysctl -qw net.ipv4.ip_forward=0');
    await dockerd.start();
    expect((await forwardLines(router, 'iptables-legacy-save'))[0]).toBe(':FORWARD DROP [0:0]');
    await applyOn('iptables-legacy', 'auto');
    expect(await dockerUser('iptables-legacy-save')).toEqual(['-A DOCKER-USER -j RETURN']);
    expect(await forwarding()).toEqual({ toLan: true, fromLan: true });
    await applyOn('nftables', 'auto');
    expect(await dockerUser('iptables-legacy-save')).toEqual(OURS);
    expect(await forwarding()).toEqual({ toLan: true, fromLan: true });
    expect((await tsfw(router.router, ['apply', '--mode', 'off', '-c', cfg!.path, '--no-save'], cliEnv(runDir))).exitCode).toBe(0);
    expect(await dockerUser('iptables-legacy-save')).toEqual(['-A DOCKER-USER -j RETURN']);
  });
});
