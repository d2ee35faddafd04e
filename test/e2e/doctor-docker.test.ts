import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check } from '../../src/doctor/types.js';
import { tempConfig, tsfw } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { createDockerd } from '../helpers/docker.js';
import type { Dockerd } from '../helpers/docker.js';
import { createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';

/**
 * `tsfw doctor` on a router that runs dockerd (iptables-nft, FORWARD policy DROP) beside tsfw:
 * with the Docker integration in place nothing is a finding and doctor exits 0; with it off and
 * the nftables backend, Docker's policy drop of forwarded tailnet traffic is reported.
 * TSFW_CAPTURE=DIR writes the `nft -j list ruleset` of each case there (the unit fixtures).
 */

const ENV = { SSH_CONNECTION: '' };

describe('doctor beside dockerd', () => {
  let net: Router;
  let dockerd: Dockerd | undefined;
  let cfg: TempConfig | undefined;

  beforeAll(async () => {
    net = await createRouter();
    await net.router.sh('sysctl -qw net.ipv4.ip_forward=0');
    dockerd = createDockerd(net.router);
    await dockerd.start();
  });
  afterAll(async () => {
    cfg?.remove();
    await dockerd?.destroy();
    await net?.destroy();
  });

  const doctor = async () => {
    const run = await tsfw<{ checks: Check[] }>(net.router, ['doctor', '-c', cfg!.path, '--json'], ENV);
    if (!run.json) throw new Error(`doctor printed no JSON (exit ${run.exitCode}): ${run.stderr}`);
    return { exitCode: run.exitCode, checks: run.json.checks };
  };

  /** Writes the listings doctor reads to TSFW_CAPTURE (when set) as `docker-NAME.*`. */
  const capture = async (name: string) => {
    const dir = process.env.TSFW_CAPTURE;
    if (!dir) return;
    writeFileSync(`${dir}/docker-${name}.ruleset.json`, `${await net.router.sh('nft -j list ruleset')}\n`);
    writeFileSync(`${dir}/docker-${name}.ip.save`, `${await net.router.sh('iptables-nft-save')}\n`);
    writeFileSync(`${dir}/docker-${name}.ip6.save`, `${await net.router.sh('ip6tables-nft-save')}\n`);
  };

  const apply = async (backend: 'nftables' | 'iptables-nft', docker: 'auto' | 'off') => {
    cfg?.remove();
    cfg = tempConfig({ backend, integrations: { docker } });
    const run = await tsfw(net.router, ['apply', '-c', cfg.path, '--no-save'], ENV);
    expect(run.exitCode, run.stderr).toBe(0);
    await capture(`${backend}-${docker}`);
  };

  for (const backend of ['nftables', 'iptables-nft'] as const) {
    it(`${backend}, integration auto: no finding, exit 0`, async () => {
      await apply(backend, 'auto');
      const { exitCode, checks } = await doctor();
      expect(checks.filter((c) => c.status !== 'ok')).toEqual([]);
      expect(checks.find((c) => c.id === 'manager-docker')?.message).toContain('forwarded tailnet traffic passes Docker\'s FORWARD');
      expect(exitCode).toBe(0);
      if (backend === 'iptables-nft') {
        // A Docker restart without a tsfw daemon leaves tsfw's jump below Docker's: still no finding.
        await dockerd!.restart();
        expect((await net.router.sh('iptables-nft-save -t filter')).split('\n').filter((l) => l.startsWith('-A FORWARD'))[0]).toBe('-A FORWARD -j DOCKER-USER');
        await capture('iptables-nft-restarted');
        const again = await doctor();
        expect(again.checks.filter((c) => c.status !== 'ok')).toEqual([]);
      }
      expect((await tsfw(net.router, ['apply', '--mode', 'off', '-c', cfg!.path, '--no-save'], ENV)).exitCode).toBe(0);
    });
  }

  it('nftables, integration off: Docker\'s FORWARD policy drop of forwarded tailnet traffic is reported', async () => {
    await apply('nftables', 'off');
    const { checks } = await doctor();
    expect(checks.find((c) => c.id === 'manager-docker')?.status).toBe('warn');
    const forward = checks.find((c) => c.id === 'other-tables-forward');
    expect(forward?.status).not.toBe('ok');
    expect(forward?.message).toContain('table ip filter chain FORWARD');
    expect(forward?.message).toContain('policy drop');
    expect((await tsfw(net.router, ['apply', '--mode', 'off', '-c', cfg!.path, '--no-save'], ENV)).exitCode).toBe(0);
  });
});
