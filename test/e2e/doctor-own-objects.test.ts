import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check } from '../../src/doctor/types.js';
import { tempConfig, tsfw, tsfwJson } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';

/**
 * `tsfw doctor` on a plain namespace router after `tsfw apply` of the default config: tsfw's own
 * objects (its ts-* chains, its MARK rules, its jumps; on iptables-nft they sit in ip/ip6 filter
 * and nat beside the built-in chains) are never findings, so every check is ok and doctor exits 0.
 * tailscaled's chains of the same names, without tsfw's tags, still are.
 */

const ENV = { SSH_CONNECTION: '' };

describe.each(['iptables-nft', 'nftables'] as const)('doctor after apply on %s (plain router)', (backend) => {
  let net: Router;
  let cfg: TempConfig;
  const doctor = async () => {
    const run = await tsfw<{ checks: Check[] }>(net.router, ['doctor', '-c', cfg.path, '--json'], ENV);
    if (!run.json) throw new Error(`doctor printed no JSON (exit ${run.exitCode}): ${run.stderr}`);
    return { exitCode: run.exitCode, checks: run.json.checks };
  };

  beforeAll(async () => {
    net = await createRouter();
    cfg = tempConfig({ backend });
    await tsfwJson(net.router, ['apply', '-c', cfg.path, '--no-save'], ENV);
  });
  afterAll(async () => {
    cfg?.remove();
    await net?.destroy();
  });

  it('every check is ok (none about tsfw\'s chains, marks or rules) and doctor exits 0', async () => {
    if (backend === 'iptables-nft') {
      // tsfw's objects really are in the shared iptables tables, where the checks look.
      expect(await net.router.sh('iptables-nft-save -t filter')).toContain('-A FORWARD -m comment --comment "tsfw:jump" -j ts-forward');
      expect(await net.router.sh('iptables-nft-save -t filter')).toContain('-j MARK --set-xmark 0x40000/0xff0000');
    }
    const { exitCode, checks } = await doctor();
    expect(checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(checks.map((c) => c.id)).toEqual(expect.arrayContaining(['managers', 'mark-collisions', 'other-tables-input', 'other-tables-forward', 'check-transaction']));
    expect(exitCode).toBe(0);
  });

  it.runIf(backend === 'nftables')('tailscaled-style ts-* chains without tsfw\'s tags are still reported as tailscaled\'s', async () => {
    await net.router.sh('iptables-nft -w -N ts-input && iptables-nft -w -A ts-input -i tailscale0 -j ACCEPT && iptables-nft -w -I INPUT -j ts-input');
    try {
      const { exitCode, checks } = await doctor();
      const tailscaled = checks.find((c) => c.id === 'manager-tailscaled');
      expect(tailscaled?.status).toBe('warn');
      expect(tailscaled?.message).toContain('chains ts-input in table ip filter');
      expect(exitCode).toBe(0);
    } finally {
      await net.router.sh('iptables-nft -w -D INPUT -j ts-input && iptables-nft -w -F ts-input && iptables-nft -w -X ts-input');
    }
  });

  it.runIf(backend === 'iptables-nft')('a pending change is checked with iptables-restore --test and nothing is written', async () => {
    await net.router.sh('iptables-nft -w -D INPUT -m comment --comment tsfw:jump -j ts-input');
    const { checks } = await doctor();
    expect(checks.find((c) => c.id === 'check-transaction')).toMatchObject({ status: 'ok', message: expect.stringMatching(/check-only transaction of the \d+ pending change\(s\) succeeds \(.*iptables-nft-restore.* --test\)/) });
    expect(await net.router.sh('iptables-nft-save -t filter')).not.toContain('-A INPUT -m comment --comment "tsfw:jump" -j ts-input');
    await tsfwJson(net.router, ['apply', '-c', cfg.path, '--no-save'], ENV);
  });
});
