import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNftablesBackend } from '../../src/backends/nftables/backend.js';
import type { NftBackend } from '../../src/backends/nftables/backend.js';
import type { NftState } from '../../src/backends/nftables/parse.js';
import { desiredNftChains } from '../../src/backends/nftables/render.js';
import type { NftOptions } from '../../src/backends/nftables/render.js';
import type { DriftItem } from '../../src/backends/types.js';
import { parseConfigText } from '../../src/config/parse.js';
import type { CommandRunner } from '../../src/exec/runner.js';
import type { Ruleset } from '../../src/model/types.js';
import { rulesetFor } from '../../src/profiles/load.js';
import { converge } from '../../src/reconcile/converge.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';

/**
 * Real kernel, in-process backend: the golden `on` state is disturbed the ways other programs
 * and admins disturb it, and one convergence pass must restore exactly the rendered state and
 * name what had drifted.
 */

const { config } = parseConfigText('backend: nftables', 'test');
const opts: NftOptions = { table: config.nftables.table, priorities: config.nftables.priorities };
const T = `inet ${opts.table}`;

/** Chains as data without handles or counters: what "exactly the golden state" means. */
function shape(chains: NftState['chains'] | ReturnType<typeof desiredNftChains>) {
  return chains
    .map((c) => ({ name: c.name, base: c.base, rules: c.rules.map((r) => ({ expr: r.expr, comment: r.comment })) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe('nftables converge from messy kernel states', () => {
  let ns: Netns;
  let backend: NftBackend;
  const desired: Ruleset = rulesetFor(config, 'on');

  const nft = (...args: string[]) => ns.exec('nft', args);
  /** The handle of tsfw's rule with this id, read from the kernel. */
  const handleOf = async (chain: string, id: string) => {
    const state = await backend.observe();
    const rule = state.chains.find((c) => c.name === chain)?.rules.find((r) => r.comment === `tsfw:${id}`);
    expect(rule, `rule ${id} in ${chain}`).toBeDefined();
    return String(rule!.handle);
  };
  /** One pass: must change, must report `drift`, must land on the golden state. */
  const expectRepaired = async (drift: Partial<DriftItem>) => {
    const result = await converge(backend, desired);
    expect(result.changed).toBe(true);
    expect(result.drift).toContainEqual(expect.objectContaining(drift));
    const after = await backend.observe();
    expect(after.exists).toBe(true);
    expect(shape(after.chains)).toEqual(shape(desiredNftChains(desired, opts)));
    expect(backend.plan(desired, after).ops).toEqual([]);
    expect((await converge(backend, desired)).changed).toBe(false);
  };

  beforeAll(async () => {
    ns = await createNetns('tsfwc');
    backend = createNftablesBackend(ns.runner, opts);
  });
  afterAll(async () => {
    await ns?.destroy();
  });
  beforeEach(async () => {
    await converge(backend, desired);
    expect(backend.plan(desired, await backend.observe()).ops).toEqual([]);
  });

  it('from empty → creates the table and every chain, reporting the table missing', async () => {
    await nft('delete', 'table', 'inet', opts.table);
    await expectRepaired({ kind: 'missing', detail: `table ${T} is missing` });
  });

  it('after `nft flush ruleset` → everything is back', async () => {
    await nft('flush', 'ruleset');
    await expectRepaired({ kind: 'missing', detail: `table ${T} is missing` });
  });

  it('a flushed ts-forward → refilled; the first missing rule is named', async () => {
    await nft('flush', 'chain', 'inet', opts.table, 'ts-forward');
    await expectRepaired({ kind: 'missing', chain: 'ts-forward', rule: 'ts-forward/mark-from-tunnel' });
  });

  it('one deleted rule (cgnat-spoof) → restored in its place', async () => {
    await nft('delete', 'rule', 'inet', opts.table, 'ts-input', 'handle', await handleOf('ts-input', 'ts-input/cgnat-spoof'));
    await expectRepaired({ kind: 'missing', chain: 'ts-input', rule: 'ts-input/cgnat-spoof' });
  });

  it('a duplicated rule → the copy is gone', async () => {
    await nft('add', 'rule', 'inet', opts.table, 'ts-input', 'iifname', 'tailscale0', 'counter', 'accept', 'comment', '"tsfw:ts-input/tunnel-accept"');
    await expectRepaired({ kind: 'unexpected', chain: 'ts-input', detail: 'chain ts-input has duplicated rules' });
  });

  it('reordered rules (the CGNAT drop moved to the top) → original order', async () => {
    const handle = await handleOf('ts-input', 'ts-input/cgnat-spoof');
    await nft('insert', 'rule', 'inet', opts.table, 'ts-input', 'iifname', '!=', 'tailscale0', 'ip', 'saddr', '100.64.0.0/10',
      'counter', 'drop', 'comment', '"tsfw:ts-input/cgnat-spoof"');
    await nft('delete', 'rule', 'inet', opts.table, 'ts-input', 'handle', handle);
    await expectRepaired({ kind: 'misordered', chain: 'ts-input' });
  });

  it('a foreign rule inserted at the top of ts-forward → removed (tsfw owns that chain)', async () => {
    await nft('insert', 'rule', 'inet', opts.table, 'ts-forward', 'ip', 'saddr', '203.0.113.5', 'accept');
    await expectRepaired({ kind: 'unexpected', chain: 'ts-forward', detail: expect.stringContaining('has a rule tsfw did not write') });
  });

  it('a divert base chain re-registered at another priority → re-created at the configured one', async () => {
    const chain = 'tsfw-filter-input';
    await nft('flush', 'chain', 'inet', opts.table, chain);
    await nft('delete', 'chain', 'inet', opts.table, chain);
    await nft('add', 'chain', 'inet', opts.table, chain, '{ type filter hook input priority 50; policy accept; }');
    await nft('add', 'rule', 'inet', opts.table, chain, 'jump', 'ts-input', 'comment', `"tsfw:${chain}/divert-ts-input"`);
    const result = await converge(backend, desired, { dryRun: true });
    expect(result.actions).toContainEqual(expect.objectContaining({ op: 'replace-chain', chain }));
    await expectRepaired({ kind: 'changed', chain });
    expect((await backend.observe()).chains.find((c) => c.name === chain)?.base?.prio).toBe(opts.priorities.input);
  });

  it('a deleted divert base chain → registered again', async () => {
    await nft('flush', 'chain', 'inet', opts.table, 'tsfw-filter-forward');
    await nft('delete', 'chain', 'inet', opts.table, 'tsfw-filter-forward');
    await expectRepaired({ kind: 'missing', chain: 'tsfw-filter-forward' });
  });

  it('without an nft binary: off with nothing to remove is a no-op, on reports the missing tool', async () => {
    await nft('delete', 'table', 'inet', opts.table);
    const noNft: CommandRunner = { run: (file, args, o) => ns.runner.run(file === 'nft' ? 'nft-not-installed' : file, args, o) };
    const bare = createNftablesBackend(noNft, opts);
    expect(await converge(bare, rulesetFor(config, 'off'))).toMatchObject({ changed: false, actions: [] });
    await expect(converge(bare, desired)).rejects.toMatchObject({ name: 'ExecError', kind: 'not-found' });
  });

  it('a counter-only difference is not drift', async () => {
    // A datagram to the WireGuard port over loopback is counted by ts-input/wireguard-port.
    await ns.exec('bash', ['-c', 'echo x > /dev/udp/127.0.0.1/41641']);
    const state = await backend.observe();
    expect(state.chains.flatMap((c) => c.rules).some((r) => r.packets > 0)).toBe(true);
    expect(backend.plan(desired, state).ops).toEqual([]);
  });
});
