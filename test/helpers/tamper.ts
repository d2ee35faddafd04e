import { expect } from 'vitest';
import { tsfw } from './cli.js';
import type { ConvergeReport } from './cli.js';
import type { Netns } from './netns.js';
import { docAddress, randomNftRuleset, snapshot } from './reliability.js';
import type { Rng } from './reliability.js';

/**
 * Random tampering against a namespace where tsfw (nftables, mode on) is applied: each sequence
 * is a few random edits of tsfw's objects and of the admin's, then ONE `tsfw reconcile`, which
 * must land exactly on the golden state and leave every foreign object (handles included) as the
 * edits left it.
 */

type Edit = (ns: Netns, rng: Rng, n: number) => Promise<string | undefined>;

const OWNED_CHAINS = ['ts-input', 'ts-forward', 'ts-postrouting', 'tsfw-filter-input', 'tsfw-filter-forward', 'tsfw-nat-postrouting'];

async function tsfwTableExists(ns: Netns): Promise<boolean> {
  return (await ns.exec('nft', ['list', 'table', 'inet', 'tsfw'], { reject: false })).exitCode === 0;
}

/** Rules of a chain as [handle, text] from `nft -a list chain`. */
async function rulesOf(ns: Netns, chain: string): Promise<Array<[string, string]>> {
  const r = await ns.exec('nft', ['-a', 'list', 'chain', 'inet', 'tsfw', chain], { reject: false });
  if (r.exitCode !== 0) return [];
  return [...r.stdout.matchAll(/^\t\t(.+) # handle (\d+)$/gm)].map((m) => [m[2]!, m[1]!]);
}

async function foreignTables(ns: Netns): Promise<string[][]> {
  const { stdout } = await ns.exec('nft', ['list', 'tables']);
  return stdout.split('\n').map((l) => l.trim().split(' ').slice(1)).filter((t) => t.length === 2 && !(t[0] === 'inet' && t[1] === 'tsfw'));
}

const nft = (ns: Netns, ...args: string[]) => ns.exec('nft', args);

/** The edits; each returns a description, or undefined when it does not apply to this state. */
const EDITS: ReadonlyArray<readonly [string, Edit]> = [
  ['delete a tsfw rule', async (ns, rng) => {
    const chain = rng.pick(OWNED_CHAINS);
    const rules = await rulesOf(ns, chain);
    if (rules.length === 0) return undefined;
    const [handle] = rng.pick(rules);
    await nft(ns, 'delete', 'rule', 'inet', 'tsfw', chain, 'handle', handle);
    return `delete rule ${handle} of ${chain}`;
  }],
  ['flush a tsfw chain', async (ns, rng) => {
    const chain = rng.pick(OWNED_CHAINS);
    if ((await ns.exec('nft', ['flush', 'chain', 'inet', 'tsfw', chain], { reject: false })).exitCode !== 0) return undefined;
    return `flush ${chain}`;
  }],
  ['delete the tsfw table', async (ns) => {
    if (!(await tsfwTableExists(ns))) return undefined;
    await nft(ns, 'delete', 'table', 'inet', 'tsfw');
    return 'delete table inet tsfw';
  }],
  ['foreign rule in a tsfw chain', async (ns, rng) => {
    const chain = rng.pick(['ts-input', 'ts-forward']);
    const r = await ns.exec('nft', ['insert', 'rule', 'inet', 'tsfw', chain, 'ip', 'saddr', docAddress(rng), 'accept'], { reject: false });
    return r.exitCode === 0 ? `insert a foreign rule at the top of ${chain}` : undefined;
  }],
  ['re-register a base chain', async (ns, rng) => {
    const chain = rng.pick(['tsfw-filter-input', 'tsfw-filter-forward']);
    const hook = chain.endsWith('input') ? 'input' : 'forward';
    if ((await rulesOf(ns, chain)).length === 0 && !(await tsfwTableExists(ns))) return undefined;
    const r = await ns.exec('sh', ['-c', `nft flush chain inet tsfw ${chain} && nft delete chain inet tsfw ${chain} && nft add chain inet tsfw ${chain} '{ type filter hook ${hook} priority ${rng.pick([5, -200, 0])}; policy accept; }'`], { reject: false });
    return r.exitCode === 0 ? `re-register ${chain} at another priority` : undefined;
  }],
  ['duplicate a tsfw rule', async (ns, rng) => {
    const chain = rng.pick(['ts-input', 'ts-forward']);
    const rules = await rulesOf(ns, chain);
    if (rules.length === 0) return undefined;
    const [, text] = rng.pick(rules);
    await ns.exec('sh', ['-c', `nft 'add rule inet tsfw ${chain} ${text.replace(/'/g, '')}'`]);
    return `duplicate "${text}" at the end of ${chain}`;
  }],
  ['move a tsfw rule', async (ns, rng) => {
    const rules = await rulesOf(ns, 'ts-input');
    if (rules.length < 2) return undefined;
    const [handle, text] = rules[rules.length - 1]!;
    await ns.exec('sh', ['-c', `nft 'insert rule inet tsfw ts-input ${text.replace(/'/g, '')}' && nft delete rule inet tsfw ts-input handle ${handle}`]);
    void rng;
    return 'move the last rule of ts-input to the top';
  }],
  ['add an admin table', async (ns, rng, n) => {
    await ns.exec('nft', ['-f', '-'], { input: randomNftRuleset(rng, `t${n}`) });
    return 'add random admin tables';
  }],
  ['delete an admin table', async (ns, rng) => {
    const tables = await foreignTables(ns);
    if (tables.length === 0) return undefined;
    const [family, name] = rng.pick(tables);
    await nft(ns, 'delete', 'table', family!, name!);
    return `delete table ${family} ${name}`;
  }],
  ['add an admin rule', async (ns, rng) => {
    const tables = (await foreignTables(ns)).filter(([family]) => family !== 'ip6');
    if (tables.length === 0) return undefined;
    const [family, name] = rng.pick(tables);
    const chains = [...(await nft(ns, 'list', 'table', family!, name!)).stdout.matchAll(/chain (\S+) \{/g)].map((m) => m[1]!);
    if (chains.length === 0) return undefined;
    const chain = rng.pick(chains);
    await nft(ns, 'add', 'rule', family!, name!, chain, 'ip', 'daddr', docAddress(rng), 'counter', 'drop');
    return `add a rule to ${family} ${name} ${chain}`;
  }],
  ['admin chain inside the tsfw table', async (ns, rng, n) => {
    if (!(await tsfwTableExists(ns))) return undefined;
    const name = `admin-${n}-${rng.int(1000)}`;
    await ns.exec('sh', ['-c', `nft add chain inet tsfw ${name} && nft add rule inet tsfw ${name} ip saddr ${docAddress(rng)} counter accept`]);
    return `add the admin's chain ${name} inside inet tsfw`;
  }],
];

/** Runs `count` random sequences; throws with the seed and the edits of the first failure. */
export async function runTamperSequences(ns: Netns, config: string, rng: Rng, count: number): Promise<{ edits: number; repaired: number }> {
  const applied = await tsfw<ConvergeReport>(ns, ['apply', '-c', config, '--no-save', '--json']);
  expect(applied.exitCode, applied.stderr).toBe(0);
  const golden = (await snapshot(ns)).owned;
  let edits = 0;
  let repaired = 0;
  for (let i = 0; i < count; i++) {
    const done: string[] = [];
    const steps = 1 + rng.int(5);
    for (let s = 0; s < steps; s++) {
      const [, edit] = rng.pick(EDITS);
      const what = await edit(ns, rng, i * 10 + s);
      if (what) done.push(what);
    }
    edits += done.length;
    const before = await snapshot(ns);
    const run = await tsfw<ConvergeReport>(ns, ['reconcile', '-c', config, '--json']);
    const after = await snapshot(ns);
    const context = `seed ${rng.seed}, sequence ${i}: ${done.join('; ')}\nstderr: ${run.stderr}`;
    expect(run.exitCode, context).toBe(0);
    expect(after.owned, `tsfw's objects not golden after one reconcile (${context})`).toBe(golden);
    expect(after.foreign, `foreign objects changed by reconcile (${context})`).toBe(before.foreign);
    if (before.owned !== golden) {
      repaired++;
      expect(run.json?.changed, context).toBe(true);
    }
  }
  return { edits, repaired };
}
