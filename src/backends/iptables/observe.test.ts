import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Config } from '../../config/schema.js';
import { classifyFailure } from '../../exec/errors.js';
import type { CommandResult } from '../../exec/runner.js';
import { rulesetFor } from '../../profiles/load.js';
import { observeIptFamily } from './observe.js';
import { parseIptablesSave } from './parse.js';
import { planIptables } from './plan.js';

/**
 * The per-chain read of iptables-nft against a scripted runner answering with output captured
 * from one real namespace state (test/fixtures/iptables/nft-mixed.*): the planner sees the same
 * tsfw chains and built-in chains as from the whole-table save, so it plans the same.
 */
const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/iptables/${name}`, import.meta.url), 'utf8');
const chainText = new Map<string, string>(fixture('nft-mixed.chains').split(/^## /m).slice(1).map((s) => {
  const [head, ...body] = s.split('\n');
  const [table, chain] = head!.split(' ');
  return [`-t ${table!} -w -v -S ${chain!}`, body.join('\n')];
}));
const saveText = (table: string) => `*${table}\n${fixture('nft-mixed.save').split(`*${table}\n`)[1]!.split('COMMIT\n')[0]}COMMIT\n`;
const ok = (stdout: string): CommandResult => ({ stdout, stderr: '', exitCode: 0 });

/** The captured host's config: the chains of every feature, so filter, nat and mangle all hold ts-* chains. */
const config = Config.parse({ addresses: ['100.100.0.1', '2001:db8:100::1'], statefulFiltering: true, mssClamp: true, connmark: 'on', families: ['ip'] });
const on = rulesetFor(config, 'on');

function scripted(override: (command: string) => CommandResult | Error | undefined = () => undefined) {
  const calls: string[] = [];
  const run = async (file: string, args: readonly string[]) => {
    const command = [file, ...args].join(' ');
    calls.push(command);
    const custom = override(command);
    if (custom instanceof Error) throw custom;
    if (custom) return custom;
    if (command === 'nft -j list chains ip') return ok(fixture('nft-chains-ip.json'));
    const save = /^iptables-nft-save -c -t (\w+)$/.exec(command);
    if (save) return ok(saveText(save[1]!));
    const chain = chainText.get(command.replace(/^iptables-nft /, ''));
    if (chain !== undefined) return ok(chain);
    throw classifyFailure(command, 1, `no reply scripted for ${command}`);
  };
  return { run, calls };
}

describe('observeIptFamily, iptables-nft', () => {
  it('beside another program reads only built-in and ts-* chains there, and the planner sees what a full save shows', async () => {
    const { run, calls } = scripted();
    const state = await observeIptFamily({ flavour: 'nft', run }, 'ip', on);
    expect([...calls].sort()).toEqual([
      'nft -j list chains ip',
      ...['ts-input', 'ts-forward', 'INPUT', 'FORWARD'].map((c) => `iptables-nft -t filter -w -v -S ${c}`),
      ...['ts-postrouting', 'POSTROUTING'].map((c) => `iptables-nft -t nat -w -v -S ${c}`),
      ...['ts-clamp', 'ts-prerouting', 'ts-mangle-out', 'PREROUTING', 'FORWARD', 'OUTPUT'].map((c) => `iptables-nft -t mangle -w -v -S ${c}`),
    ].sort());
    expect(calls[0]).toBe('nft -j list chains ip');
    expect(calls.some((c) => c.includes('ADMIN'))).toBe(false);
    const full = { family: 'ip' as const, tables: parseIptablesSave(fixture('nft-mixed.save')) };
    const tsfwChains = (s: typeof full) => s.tables.map((t) => ({ table: t.table, chains: t.chains.filter((c) => !c.name.startsWith('ADMIN') && (c.rules.length > 0 || c.name.startsWith('ts-'))).sort((a, b) => a.name.localeCompare(b.name)) }));
    expect(tsfwChains(state as typeof full)).toEqual(tsfwChains(full));
    const plan = planIptables(on, { families: [state] }, { jumpPosition: 'first' });
    expect(plan).toEqual(planIptables(on, { families: [full] }, { jumpPosition: 'first' }));
    expect(plan.ops).toEqual([]);
  });

  it('a drifted chain read per chain plans the same repair as from the save', async () => {
    const { run } = scripted((c) => (c === 'iptables-nft -t filter -w -v -S INPUT' ? ok('-P INPUT ACCEPT -c 0 0\n-A INPUT -p tcp -m tcp --dport 22 -c 3 180 -j ACCEPT\n') : undefined));
    const state = await observeIptFamily({ flavour: 'nft', run }, 'ip', on);
    const plan = planIptables(on, { families: [state] }, { jumpPosition: 'first' });
    expect(plan.ops.map((o) => [o.op, o.chain])).toEqual([['add-jump', 'INPUT']]);
  });

  it('falls back to the save of a table when a chain read fails (a chain gone in between prints "incompatible")', async () => {
    const gone = classifyFailure('iptables-nft', 1, "iptables v1.8.9 (nf_tables): chain `ts-forward' in table `filter' is incompatible, use 'nft' tool.");
    const { run, calls } = scripted((c) => (c.endsWith('-S ts-forward') ? gone : undefined));
    const state = await observeIptFamily({ flavour: 'nft', run }, 'ip', on);
    expect(calls).toContain('iptables-nft-save -c -t filter');
    expect(state.failure).toBeUndefined();
    expect(planIptables(on, { families: [state] }, { jumpPosition: 'first' }).ops).toEqual([]);
  });

  it('without desired state, or without nft, saves every table; absent tables are not read', async () => {
    const a = scripted();
    await observeIptFamily({ flavour: 'nft', run: a.run }, 'ip');
    expect(a.calls.filter((c) => c.startsWith('iptables')).sort()).toEqual(['filter', 'mangle', 'nat'].map((t) => `iptables-nft-save -c -t ${t}`));
    const b = scripted((c) => (c.startsWith('nft ') ? classifyFailure('nft', undefined, 'spawn nft ENOENT: No such file or directory') : undefined));
    await observeIptFamily({ flavour: 'nft', run: b.run }, 'ip', on);
    expect(b.calls.filter((c) => c.startsWith('iptables')).sort()).toEqual(['filter', 'mangle', 'nat'].map((t) => `iptables-nft-save -c -t ${t}`));
    const c = scripted((command) => (command.startsWith('nft ') ? ok('{"nftables": [{"metainfo": {}}]}') : undefined));
    expect(await observeIptFamily({ flavour: 'nft', run: c.run }, 'ip', on)).toEqual({ family: 'ip', tables: [] });
    expect(c.calls).toEqual(['nft -j list chains ip']);
  });
});
