import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../exec/runner.js';
import { rulesetFrom } from '../../../test/helpers/configs.js';
import { createFreshness } from '../../reconcile/freshness.js';
import { createNftablesBackend } from './backend.js';

const printing = (stdout: string): CommandRunner => ({ run: async () => ({ stdout, stderr: '', exitCode: 0 }) });
const opts = { table: 'tsfw', priorities: { input: -10, forward: -10, output: -10, postrouting: 90 } };

describe('nftables backend reading nft', () => {
  it.each(['garbage', '{"nftables": 5}', 'null', '', '[{"nftables": [null]}]'])('output %j is refused with one line naming what nft printed, not a TypeError', async (stdout) => {
    const backend = createNftablesBackend(printing(stdout), opts);
    await expect(backend.observe()).rejects.toThrow(/^nft list table: nft printed something that is not its JSON listing \(starts with ".*"\)$/);
  });

  it.each(['{"nftables": [{"chain": null}, 7]}', '{"nftables": []}'])('output %j with nothing of tsfw in it reads as no table', async (stdout) => {
    const backend = createNftablesBackend(printing(stdout), opts);
    expect(await backend.observe()).toMatchObject({ exists: false });
  });
});

describe('nftables backend reusing its reading (the daemon)', () => {
  const LISTING = '{"nftables": [{"table": {"family": "inet", "name": "tsfw", "handle": 1}}]}';
  const setup = (reuse = () => true) => {
    let reads = 0;
    const listTable = async () => (reads++, { stdout: LISTING, stderr: '', exitCode: 0 });
    let now = 0;
    const fresh = createFreshness(30_000, () => now);
    const writes: string[] = [];
    const runner: CommandRunner = { run: async (file, args) => (writes.push([file, ...args].join(' ')), { stdout: '', stderr: '', exitCode: 0 }) };
    const backend = createNftablesBackend(runner, opts, { listTable, fresh, reuse });
    return { backend, fresh, reads: () => reads, writes, tick: (ms: number) => (now += ms) };
  };

  it('reads every time until the monitor is live; then reuses the reading until the table changes', async () => {
    const t = setup();
    await t.backend.observe();
    await t.backend.observe();
    expect(t.reads()).toBe(2);
    t.fresh.setLive(true);
    const first = await t.backend.observe();
    expect(await t.backend.observe()).toBe(first);
    expect(t.reads()).toBe(3);
    t.fresh.changed();
    await t.backend.observe();
    expect(t.reads()).toBe(4);
    t.tick(30_000); // the safety net: never older than the max age
    await t.backend.observe();
    expect(t.reads()).toBe(5);
  });

  it('a write forgets the reading: the read back after it is a real read', async () => {
    const t = setup();
    t.fresh.setLive(true);
    const state = await t.backend.observe();
    const desired = rulesetFrom('', 'on');
    await t.backend.apply(t.backend.plan(desired, state));
    expect(t.writes).toEqual(['nft -j -f -']);
    await t.backend.observe();
    expect(t.reads()).toBe(2);
  });

  it('reads afresh whenever reuse says no (metrics want packet counters)', async () => {
    let reuse = false;
    const t = setup(() => reuse);
    t.fresh.setLive(true);
    await t.backend.observe();
    await t.backend.observe();
    expect(t.reads()).toBe(2);
    reuse = true;
    await t.backend.observe();
    expect(t.reads()).toBe(2);
  });

  it('plans once for the same desired ruleset and the same reading', async () => {
    const t = setup();
    const state = await t.backend.observe();
    const desired = rulesetFrom('', 'on');
    const plan = t.backend.plan(desired, state);
    expect(t.backend.plan(desired, state)).toBe(plan);
    expect(t.backend.plan(desired, await t.backend.observe())).not.toBe(plan);
  });
});
