import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { configOf, isConverged, startTsfwDaemon } from '../helpers/daemon.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';

/**
 * A running daemon adopts new backend settings on SIGHUP exactly as the CLI does after a backend
 * switch: the new objects written in one pass, the objects of the settings it left removed, and
 * no error line (no "state still differs" loop).
 */

// Once a year (1 January, 00:00:00): no scheduled pass during a run (an hourly one fires at xx:00:00).
const YEARLY = { schedule: '0 0 0 1 1 *' };

/** tsfw's chains and tagged jumps as iptables-nft shows them, per family. */
async function iptablesOwned(ns: Netns): Promise<Record<'ip' | 'ip6', string[]>> {
  const owned = async (save: string) => {
    const r = await ns.exec(save, [], { reject: false });
    return r.stdout.split('\n').filter((l) => /^:ts-|tsfw:/.test(l));
  };
  return { ip: await owned('iptables-nft-save'), ip6: await owned('ip6tables-nft-save') };
}

async function nftTableExists(ns: Netns): Promise<boolean> {
  return (await ns.exec('nft', ['list', 'table', 'inet', 'tsfw'], { reject: false })).exitCode === 0;
}

describe('tsfw daemon switching backend settings on SIGHUP', () => {
  let ns: Netns;
  let cfg: TempConfig | undefined;
  let daemon: DaemonProcess | undefined;

  beforeAll(async () => {
    ns = await createNetns('tsfwsw');
  });
  afterEach(async () => {
    if (daemon) expect(await daemon.stop()).toBe(0);
    daemon = undefined;
    cfg?.remove();
    cfg = undefined;
    await ns.sh('nft flush ruleset');
  });
  afterAll(async () => {
    await ns?.destroy();
  });

  /** Rewrites the config, sends SIGHUP and waits (≤ 3 s) for the kernel to match it. */
  async function reloadTo(config: Parameters<TempConfig['write']>[0]): Promise<number> {
    const started = performance.now();
    cfg!.write(config);
    daemon!.signal('SIGHUP');
    const expected = configOf(JSON.stringify(config));
    for (;;) {
      if (await isConverged(ns, expected)) return performance.now() - started;
      if (performance.now() - started > 3_000) throw new Error(`not converged to ${JSON.stringify(config)} within 3 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('iptables-nft families [ip] → [ip, ip6] → backend nftables → iptables-nft [ip]: each within 3 s, nothing left of the old settings, no error line', async () => {
    cfg = tempConfig({ backend: 'iptables-nft', families: ['ip'], reconcile: YEARLY });
    daemon = await startTsfwDaemon(ns, cfg.path);
    const start = await iptablesOwned(ns);
    expect(start.ip.length).toBeGreaterThan(0);
    expect(start.ip6).toEqual([]);

    const addFamily = await reloadTo({ backend: 'iptables-nft', families: ['ip', 'ip6'], reconcile: YEARLY });
    const both = await iptablesOwned(ns);
    expect(both.ip).toEqual(start.ip);
    expect(both.ip6).toEqual(expect.arrayContaining([':ts-input - [0:0]', ':ts-forward - [0:0]', ':ts-postrouting - [0:0]']));

    const toNft = await reloadTo({ backend: 'nftables', families: ['ip', 'ip6'], reconcile: YEARLY });
    // The pass that writes the nft table is the one that removes the iptables-nft objects.
    await daemon.waitFor('iptables-nft leftovers removed', () => daemon!.logs.some((l) => l.msg === 'objects of the previous backend settings removed'));
    expect(await iptablesOwned(ns)).toEqual({ ip: [], ip6: [] });

    const back = await reloadTo({ backend: 'iptables-nft', families: ['ip'], reconcile: YEARLY });
    await daemon.waitFor('nftables leftovers removed', () => daemon!.logs.filter((l) => l.msg === 'objects of the previous backend settings removed').length >= 2);
    expect(await nftTableExists(ns)).toBe(false);
    expect(await iptablesOwned(ns)).toEqual({ ip: start.ip, ip6: [] });

    // One pass per switch, never a loop of failing passes.
    await new Promise((r) => setTimeout(r, 300));
    expect(daemon.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(daemon.state()!.passes.errors).toBe(0);
    console.log(`SIGHUP switches: +ip6 ${addFamily.toFixed(0)} ms, → nftables ${toNft.toFixed(0)} ms, → iptables-nft [ip] ${back.toFixed(0)} ms`);
  }, 60_000);

  it('dropping a family on iptables-nft removes exactly that family\'s objects', async () => {
    cfg = tempConfig({ backend: 'iptables-nft', families: ['ip', 'ip6'], reconcile: YEARLY });
    daemon = await startTsfwDaemon(ns, cfg.path);
    const before = await iptablesOwned(ns);
    expect(before.ip6.length).toBeGreaterThan(0);
    await reloadTo({ backend: 'iptables-nft', families: ['ip'], reconcile: YEARLY });
    await daemon.waitFor('ip6 leftovers removed', () => daemon!.logs.some((l) => l.msg === 'objects of the previous backend settings removed'));
    expect(await iptablesOwned(ns)).toEqual({ ip: before.ip, ip6: [] });
    expect(daemon.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
  }, 60_000);
});
