import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Config } from '../../src/config/schema.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { desiredIptTables } from '../../src/backends/iptables/render.js';
import type { Family } from '../../src/model/types.js';
import { rulesetFor } from '../../src/profiles/load.js';
import { tempConfig, tsfw, tsfwJson } from '../helpers/cli.js';
import type { ConvergeReport, TempConfig } from '../helpers/cli.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';

/**
 * The built CLI against real iptables-nft and iptables-legacy in a fresh namespace per test:
 * round-trip of the rendered rules, admin policies and rules left alone, jumps kept first,
 * nodivert removing only tsfw's tagged jumps, off leaving nothing, a second apply writing nothing.
 */

type Flavour = 'nft' | 'legacy';
const bin = (flavour: Flavour, family: Family, tool = '') => `${family === 'ip' ? 'iptables' : 'ip6tables'}-${flavour}${tool}`;

/** iptables-save without comment lines and counters: what must stay byte-identical. */
const stable = (text: string) => text.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/ \[\d+:\d+\]$/, '')).join('\n');

describe.each(['nft', 'legacy'] as const)('iptables-%s backend in a namespace', (flavour) => {
  const backend = `iptables-${flavour}` as const;
  let ns: Netns;
  let cfg: TempConfig;

  const save = async (family: Family = 'ip') => (await ns.exec(bin(flavour, family, '-save'), [])).stdout;
  const ipt = (args: string, family: Family = 'ip') => ns.sh(`${bin(flavour, family)} -w ${args}`);
  const apply = (mode: string, extra: readonly string[] = []) => tsfwJson<ConvergeReport>(ns, ['apply', '--mode', mode, '-c', cfg.path, ...extra]);
  const reconcile = () => tsfwJson<ConvergeReport>(ns, ['reconcile', '-c', cfg.path]);
  const configure = (extra: ConfigInput = {}) => cfg.write({ backend, ...extra });
  const input = async (family: Family = 'ip') => (await save(family)).split('\n').filter((l) => l.startsWith('-A INPUT '));

  beforeEach(async () => {
    ns = await createNetns('tsfwi');
    cfg = tempConfig({ backend });
  });
  afterEach(async () => {
    await ns?.destroy();
    cfg?.remove();
  });

  it('round-trips: iptables-save lists exactly the rendered lines, in order, for both families', async () => {
    const input: ConfigInput = { backend, addresses: ['100.100.0.1', '2001:db8:100::1'], statefulFiltering: true };
    configure(input);
    expect(await apply('on')).toMatchObject({ changed: true, backend });
    for (const table of desiredIptTables(rulesetFor(Config.parse(input), 'on'))) {
      const text = (await ns.exec(bin(flavour, table.family, '-save'), ['-t', table.table])).stdout;
      for (const chain of table.chains) {
        expect(text.split('\n').filter((l) => l.startsWith(`-A ${chain.name} `)), `${table.family} ${chain.name}`).toEqual(chain.rules.map((r) => r.line));
        expect(text).toContain(`-A ${chain.builtin} -m comment --comment "tsfw:jump" -j ${chain.name}`);
      }
    }
  });

  it('a second apply writes nothing: changed false and byte-identical iptables-save output', async () => {
    await apply('on');
    const before = [await save('ip'), await save('ip6')].map(stable);
    const again = await apply('on');
    expect(again.changed).toBe(false);
    expect(again.actions).toEqual([]);
    expect([await save('ip'), await save('ip6')].map(stable)).toEqual(before);
  });

  it("the admin's INPUT DROP policy survives apply, reconcile and off", async () => {
    await ipt('-P INPUT DROP');
    await ipt('-P FORWARD DROP', 'ip6');
    for (const step of [() => apply('on'), () => reconcile(), () => apply('nodivert'), () => apply('off')]) {
      await step();
      expect(await save('ip')).toMatch(/^:INPUT DROP /m);
      expect(await save('ip6')).toMatch(/^:FORWARD DROP /m);
    }
  });

  it('a rule inserted above the jump is moved back below it by tsfw reconcile (first), left alone in preserve', async () => {
    await apply('on');
    await ipt('-I INPUT 1 -s 203.0.113.7/32 -j ACCEPT');
    const fixed = await reconcile();
    expect(fixed.changed).toBe(true);
    expect(fixed.actions).toContainEqual(expect.objectContaining({ op: 'move-jump', family: 'ip', table: 'filter', chain: 'INPUT', rules: ['ts-input'] }));
    expect(await input()).toEqual(['-A INPUT -m comment --comment "tsfw:jump" -j ts-input', '-A INPUT -s 203.0.113.7/32 -j ACCEPT']);
    configure({ jumpPosition: 'preserve' });
    await ipt('-I INPUT 1 -s 203.0.113.8/32 -j ACCEPT');
    expect((await reconcile()).changed).toBe(false);
    expect((await input())[1]).toBe('-A INPUT -m comment --comment "tsfw:jump" -j ts-input');
  });

  it("the admin's own nodivert jump survives nodivert → on → nodivert, and each state reconciles", async () => {
    await apply('nodivert');
    expect(await input()).toEqual([]);
    await ipt('-A INPUT -i lan0 -j ts-input');
    const admin = '-A INPUT -i lan0 -j ts-input';
    expect((await reconcile()).changed).toBe(false);
    await apply('on');
    expect(await input()).toEqual(['-A INPUT -m comment --comment "tsfw:jump" -j ts-input', admin]);
    expect((await reconcile()).changed).toBe(false);
    const back = await apply('nodivert');
    // Per family: INPUT, FORWARD, nat POSTROUTING, and connmark's mangle PREROUTING and OUTPUT,
    // whose chains then go too (connmark: auto exists in mode on only).
    const perFamily = [...Array(5).fill('delete-jump'), 'delete-chain', 'delete-chain'];
    expect(back.actions.map((a) => a.op)).toEqual([...perFamily, ...perFamily]);
    expect(await input()).toEqual([admin]);
    expect((await reconcile()).changed).toBe(false);
    // off flushes the chain the admin still jumps to, keeps it, and says so; the admin's rule stays.
    const off = await apply('off');
    expect(off.warnings.some((w) => w.includes("ts-input is still the target of the admin's rule in INPUT"))).toBe(true);
    expect(await input()).toEqual([admin]);
  });

  it('off leaves no ts-* chain and no tagged jump in either family or table', async () => {
    await apply('on');
    await ipt('-A FORWARD -m comment --comment tsfw:jump -j ts-forward', 'ip6');
    const off = await apply('off');
    expect(off.changed).toBe(true);
    for (const family of ['ip', 'ip6'] as const) {
      const text = await save(family);
      expect(text).not.toMatch(/ts-(input|forward|postrouting)|tsfw:/);
    }
    expect((await apply('off')).changed).toBe(false);
  });

  it('status --json names the backend chosen by auto, with the evidence', async () => {
    await ipt('-A INPUT -s 198.51.100.9/32 -j DROP');
    cfg.write({ backend: 'auto' });
    const status = await tsfwJson<{ backend: string; backendReason: string; evidence: string[] }>(ns, ['status', '-c', cfg.path]);
    expect(status.backend).toBe(backend);
    expect(status.backendReason).toBe(`auto: ${backend} already holds rules`);
    expect(status.evidence).toContain(`${backend}: 1 rule(s) (ip 1, ip6 0)`);
  });

  it('switching backend removes tsfw objects from the one it left; cleanup --all-backends empties all', async () => {
    await apply('on');
    cfg.write({ backend: 'nftables' });
    const switched = await apply('on');
    expect(switched.actions.some((a) => a.reason.startsWith(`[${backend}] leftover`))).toBe(true);
    expect(await save('ip')).not.toMatch(/ts-input|tsfw:/);
    expect((await ns.exec('nft', ['list', 'tables'])).stdout).toContain('table inet tsfw');
    cfg.write({ backend });
    await apply('on');
    const all = await tsfwJson<{ changed: boolean; backends: { backend: string; status: string }[] }>(ns, ['cleanup', '--all-backends', '-c', cfg.path]);
    expect(all.changed).toBe(true);
    expect(all.backends.find((b) => b.backend === backend)!.status).toBe('removed');
    expect(await save('ip')).not.toMatch(/ts-input|tsfw:/);
    expect((await ns.exec('nft', ['list', 'tables'])).stdout).not.toContain('table inet tsfw');
  });

  it.runIf(flavour === 'nft')('a table iptables-nft cannot read is a hard error for that family; the other converges', async () => {
    await ns.sh("nft add table ip filter && nft add chain ip filter INPUT '{ type filter hook input priority 0; }' && nft add rule ip filter INPUT tcp option maxseg size 1400 accept");
    const run = await tsfw(ns, ['apply', '--mode', 'on', '-c', cfg.path]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/ip: .*incompatible.*\(ip6 converged\)/);
    expect((await ns.exec('nft', ['list', 'table', 'ip', 'filter'])).stdout).not.toContain('tsfw');
    expect(await save('ip6')).toContain('-A INPUT -m comment --comment "tsfw:jump" -j ts-input');
  });
});
