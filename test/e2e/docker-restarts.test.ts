import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempConfig, tsfw } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { cliEnv, startTsfwDaemon } from '../helpers/daemon.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { createDockerd } from '../helpers/docker.js';
import type { Dockerd } from '../helpers/docker.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';

/**
 * Docker's start-up burst under the daemon: every dockerd start deletes and re-inserts its FORWARD
 * jumps at the top (above tsfw's on the iptables backends). Three restarts in a row: forwarding
 * works again after each, no error-level log line, no anti-fight backoff.
 */

/** Restarts per case: three (the acceptance); TSFW_DOCKER_RESTARTS runs more by hand. */
const RESTARTS = Number(process.env.TSFW_DOCKER_RESTARTS ?? 3);

/** The log's numeric level for `error` (src/log/logger.ts). */
const ERROR = 50;

describe('dockerd restarts under the tsfw daemon', () => {
  let router: Router;
  let dockerd: Dockerd | undefined;
  let daemon: DaemonProcess | undefined;
  let cfg: TempConfig | undefined;

  beforeAll(async () => {
    router = await createRouter();
    // dockerd turns forwarding on itself, so it sets FORWARD policy DROP: the harder case.
    await router.router.sh('sysctl -qw net.ipv4.ip_forward=0');
    dockerd = createDockerd(router.router);
    await dockerd.start();
  });
  const runDir = mkdtempSync(join(tmpdir(), 'tsfw-run-'));
  afterEach(async () => {
    if (daemon) expect(await daemon.stop()).toBe(0);
    daemon = undefined;
    // Each case starts from Docker's rules only: nothing of tsfw's in any backend or in DOCKER-USER.
    if (cfg) {
      const run = await tsfw(router.router, ['cleanup', '--all-backends', '-c', cfg.path], cliEnv(runDir));
      expect(run.exitCode, run.stderr).toBe(0);
      expect(await dockerUser()).toEqual(['-A DOCKER-USER -j RETURN']);
    }
    cfg?.remove();
    cfg = undefined;
  });
  afterAll(async () => {
    await dockerd?.destroy();
    await router?.destroy();
    rmSync(runDir, { recursive: true, force: true });
  });

  async function dockerUser(): Promise<string[]> {
    const r = await router.router.exec('iptables-nft-save', ['-t', 'filter'], { reject: false });
    return r.stdout.split('\n').filter((l) => l.startsWith('-A DOCKER-USER'));
  }

  async function forwardingWithin(ms: number): Promise<number> {
    const started = performance.now();
    for (;;) {
      const toLan = await probeUdp(router.peer, router.lan, { src: ADDR.peer, dst: ADDR.lanHost, port: 5311, waitMs: 300 });
      const fromLan = toLan.arrived && await probeUdp(router.lan, router.peer, { src: ADDR.lanHost, dst: ADDR.peer, port: 5312, waitMs: 300 });
      if (toLan.arrived && fromLan && fromLan.arrived) return performance.now() - started;
      if (performance.now() - started > ms) throw new Error(`tailnet forwarding not back within ${ms} ms\n${dockerd!.log().split('\n').slice(-5).join('\n')}`);
    }
  }

  async function firstForward(): Promise<string | undefined> {
    const r = await router.router.exec('iptables-nft-save', ['-t', 'filter'], { reject: false });
    return r.stdout.split('\n').find((l) => l.startsWith('-A FORWARD'));
  }

  for (const backend of ['iptables-nft', 'nftables'] as const) {
    it(`${backend}: three restarts in a row, forwarding back after each, no error line, no backoff`, async () => {
      cfg = tempConfig({ backend, mode: 'on' });
      daemon = await startTsfwDaemon(router.router, cfg.path, {}, { runDir });
      await forwardingWithin(5_000);
      const times: number[] = [];
      for (let i = 0; i < RESTARTS; i++) {
        await dockerd!.restart();
        times.push(await forwardingWithin(15_000));
        if (backend === 'iptables-nft') {
          const end = Date.now() + 15_000;
          while ((await firstForward()) !== '-A FORWARD -m comment --comment "tsfw:jump" -j ts-forward') {
            if (Date.now() > end) throw new Error(`tsfw's jump not first again: ${await firstForward()}`);
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      }
      console.log(backend, 'forwarding back after each restart (ms, two probes included)', times.map(Math.round), 'repairs', daemon.state()?.repairs.total);
      // nftables: tsfw's two DOCKER-USER rules, added once and kept by Docker across its restarts.
      const added = daemon.logs.filter((l) => l.msg === 'integration change').map((l) => `${String(l.op)} ${String(l.value)}`);
      expect(added).toEqual(backend === 'nftables' ? ['add iptables-nft ip in tailscale0', 'add iptables-nft ip out tailscale0'] : []);
      expect((await dockerUser()).length).toBe(backend === 'nftables' ? 3 : 1);
      const errors = daemon.logs.filter((l) => typeof l.level === 'number' && l.level >= ERROR);
      expect(errors.map((l) => JSON.stringify(l))).toEqual([]);
      const state = daemon.state()!;
      expect(state.backoff.active).toBe(false);
      expect(state.backoff.episodes).toBe(0);
      expect(state.passes.errors).toBe(0);
      expect(daemon.logs.filter((l) => l.msg === 'repairs keep being undone: backing off')).toEqual([]);
    });
  }
});
