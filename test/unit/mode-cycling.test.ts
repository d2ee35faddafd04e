import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNftablesBackend } from '../../src/backends/nftables/backend.js';
import { createFakeNftables } from '../../src/backends/fake/fake-nftables.js';
import type { FakeNftables } from '../../src/backends/fake/fake-nftables.js';
import type { Mode } from '../../src/model/types.js';
import { isOwnedChain } from '../../src/ownership.js';
import { converge } from '../../src/reconcile/converge.js';
import { configFrom, EVERYTHING_YAML, rulesetFrom } from '../helpers/configs.js';
import { seeded } from '../helpers/reliability.js';

/**
 * Random mode cycling on the fake kernel: between steps another program tampers with the table
 * (deletes, duplicates, reorders, edits, adds foreign objects, re-registers base chains). After
 * every converge the state must be the golden state of the mode plus the admin's objects,
 * unchanged, and a second converge must write nothing.
 */

const GOLDEN_DIR = join(import.meta.dirname, '..', 'golden', 'nftables');
const MODES: readonly Mode[] = ['on', 'nodivert', 'off'];
const T = { family: 'inet', table: 'tsfw' };

interface ListedRule { chain: string; handle: number; expr: unknown[]; comment?: string }
interface ListedChain { name: string; type?: string }

function listing(fake: FakeNftables): { chains: ListedChain[]; rules: ListedRule[] } {
  const objects = (fake.listTable('inet', 'tsfw')?.nftables ?? []) as Array<Record<string, never>>;
  return {
    chains: objects.flatMap((o) => (o.chain ? [o.chain as ListedChain] : [])),
    rules: objects.flatMap((o) => (o.rule ? [o.rule as ListedRule] : [])),
  };
}

/** Commands of the golden document for a mode (the reviewed file, not a fresh render). */
function goldenCommands(name: string): unknown[] {
  return (JSON.parse(readFileSync(join(GOLDEN_DIR, `${name}.json`), 'utf8')) as { nftables: unknown[] }).nftables;
}

/** The state a mode must land on: golden document, then the admin's surviving objects. */
function expectedDump(golden: string, mode: Mode, admin: readonly unknown[][]): string {
  const fake = createFakeNftables();
  const commands = goldenCommands(`${golden}-${mode}-ip-ip6`);
  if (admin.length > 0) {
    // The admin's jumps keep their ts-* targets alive (flushed) even in mode off.
    const targets = new Set(JSON.stringify(admin).match(/"target":"ts-[a-z-]+"/g)?.map((t) => t.slice(10, -1)) ?? []);
    commands.push({ add: { table: { family: 'inet', name: 'tsfw' } } });
    if (mode === 'off') for (const name of targets) commands.push({ add: { chain: { ...T, name } } });
  }
  expect(fake.transact(commands)).toEqual({ ok: true });
  for (const transaction of admin) expect(fake.transact(transaction)).toEqual({ ok: true });
  return fake.dump();
}

type Tamper = (fake: FakeNftables, rnd: () => number, admin: unknown[][]) => unknown[] | undefined;
const pick = <X>(rnd: () => number, items: readonly X[]): X | undefined => items[Math.floor(rnd() * items.length)];
const owned = (fake: FakeNftables) => listing(fake).chains.filter((c) => isOwnedChain(c.name));
const ruleBody = (r: ListedRule) => ({ ...T, chain: r.chain, expr: r.expr, ...(r.comment ? { comment: r.comment } : {}) });
let serial = 0;

/** Each tamper returns the commands another program runs (undefined: nothing to tamper with). */
const TAMPERS: Readonly<Record<string, Tamper>> = {
  deleteChain: (fake, rnd) => {
    const chain = pick(rnd, owned(fake));
    return chain && [{ flush: { chain: { ...T, name: chain.name } } }, { delete: { chain: { ...T, name: chain.name } } }];
  },
  deleteRule: (fake, rnd) => {
    const rule = pick(rnd, listing(fake).rules.filter((r) => isOwnedChain(r.chain)));
    return rule && [{ delete: { rule: { ...T, chain: rule.chain, handle: rule.handle } } }];
  },
  duplicateRule: (fake, rnd) => {
    const rule = pick(rnd, listing(fake).rules.filter((r) => isOwnedChain(r.chain)));
    return rule && [{ insert: { rule: { ...ruleBody(rule), handle: rule.handle } } }];
  },
  reorder: (fake, rnd) => {
    const rule = pick(rnd, listing(fake).rules.filter((r) => isOwnedChain(r.chain)));
    return rule && [{ delete: { rule: { ...T, chain: rule.chain, handle: rule.handle } } }, { add: { rule: ruleBody(rule) } }];
  },
  editRule: (fake, rnd) => {
    const rule = pick(rnd, listing(fake).rules.filter((r) => isOwnedChain(r.chain) && !JSON.stringify(r.expr).includes('masquerade')));
    const expr = rule?.expr.map((e) => (/^\{"(accept|drop|return)":null\}$/.test(JSON.stringify(e)) ? { continue: null } : e));
    return rule && [{ replace: { rule: { ...ruleBody(rule), handle: rule.handle, expr } } }];
  },
  foreignRuleInOwnedChain: (fake, rnd) => {
    const chains = owned(fake).filter((c) => !c.type);
    const chain = pick(rnd, chains);
    const target = pick(rnd, chains.filter((c) => c !== chain && c.name !== 'ts-postrouting'));
    const expr = target && rnd() < 0.5 ? [{ jump: { target: target.name } }] : [{ counter: { packets: 0, bytes: 0 } }, { drop: null }];
    return chain && [{ add: { rule: { ...T, chain: chain.name, expr } } }];
  },
  reregisterBase: (fake, rnd) => {
    const chain = pick(rnd, owned(fake).filter((c) => c.type === 'filter'));
    const rules = listing(fake).rules.filter((r) => r.chain === chain?.name);
    return chain && [
      { flush: { chain: { ...T, name: chain.name } } },
      { delete: { chain: { ...T, name: chain.name } } },
      { add: { chain: { ...T, name: chain.name, type: 'filter', hook: chain.name.endsWith('input') ? 'input' : 'forward', prio: Math.floor(rnd() * 50), policy: 'accept' } } },
      ...rules.map((r) => ({ add: { rule: ruleBody(r) } })),
    ];
  },
  deleteTable: (fake) => (fake.listTable('inet', 'tsfw') ? [{ delete: { table: { family: 'inet', name: 'tsfw' } } }] : undefined),
  adminChain: (_fake, rnd) => {
    const name = `admin-chain-${serial++}`;
    return [
      { add: { table: { family: 'inet', name: 'tsfw' } } },
      { add: { chain: { ...T, name } } },
      { add: { rule: { ...T, chain: name, expr: [{ counter: { packets: 0, bytes: 0 } }, rnd() < 0.5 ? { accept: null } : { return: null }], comment: `admin ${name}` } } },
    ];
  },
  adminSet: () => [
    { add: { table: { family: 'inet', name: 'tsfw' } } },
    { add: { set: { ...T, name: `admin-set-${serial++}`, type: 'ipv4_addr', elem: ['192.0.2.7'] } } },
  ],
  adminWiring: (fake, rnd) => {
    // The nodivert wiring an admin writes: into the filter chains, which exist in on and nodivert alike.
    const target = pick(rnd, owned(fake).filter((c) => !c.type && (c.name === 'ts-input' || c.name === 'ts-forward')));
    const name = `admin-divert-${serial++}`;
    return target && [
      { add: { chain: { ...T, name, type: 'filter', hook: target.name === 'ts-input' ? 'input' : 'forward', prio: 10, policy: 'accept' } } },
      { add: { rule: { ...T, chain: name, expr: [{ jump: { target: target.name } }] } } },
    ];
  },
  invalid: () => [{ add: { chain: { ...T, name: 'never-created' } } }, { delete: { chain: { ...T, name: 'no-such-chain' } } }],
};
const ADMIN = new Set(['adminChain', 'adminSet', 'adminWiring']);

async function cycle(seed: number, steps: number, golden: string, yaml: string): Promise<Record<string, number>> {
  const rnd = seeded(seed);
  const fake = createFakeNftables();
  const backend = createNftablesBackend(fake, configFrom(yaml).nftables);
  const admin: unknown[][] = [];
  const seen: Record<string, number> = {};
  const desiredByMode = Object.fromEntries(MODES.map((m) => [m, rulesetFrom(yaml, m)])) as Record<Mode, ReturnType<typeof rulesetFrom>>;
  for (let step = 0; step < steps; step++) {
    const where = `seed ${seed} step ${step}`;
    for (let n = Math.floor(rnd() * 3); n > 0; n--) {
      const name = pick(rnd, Object.keys(TAMPERS))!;
      const commands = TAMPERS[name]!(fake, rnd, admin);
      if (!commands) continue;
      const before = fake.dump();
      const result = fake.transact(commands);
      if (!result.ok) {
        expect(fake.dump(), `${where}: rejected ${name} changed the state`).toBe(before);
        seen.rejected = (seen.rejected ?? 0) + 1;
      }
      if (name === 'invalid') expect(result.ok, where).toBe(false);
      if (result.ok) seen[name] = (seen[name] ?? 0) + 1;
      if (result.ok && ADMIN.has(name)) admin.push(commands);
      if (result.ok && name === 'deleteTable') admin.length = 0;
    }
    const mode = pick(rnd, MODES)!;
    const desired = desiredByMode[mode];
    await converge(backend, desired);
    expect(fake.dump(), `${where}: mode ${mode}`).toBe(expectedDump(golden, mode, admin));
    const writes = fake.writes;
    const again = await converge(backend, desired);
    expect(again.changed, `${where}: second converge in ${mode}`).toBe(false);
    expect(fake.writes, `${where}: second converge wrote`).toBe(writes);
  }
  return seen;
}

describe('random mode cycling on the fake kernel', () => {
  it.each([
    [1, 'tailscale', ''],
    [2, 'tailscale', ''],
    [3, 'everything', EVERYTHING_YAML],
  ])('seed %i (%s): 500 steps always land on the golden state; admin objects survive', async (seed, golden, yaml) => {
    const seen = await cycle(seed, 500, golden, yaml);
    // The run really exercised every kind of tampering and some rejected transactions.
    for (const name of Object.keys(TAMPERS).filter((n) => n !== 'invalid')) expect(seen[name] ?? 0, name).toBeGreaterThan(0);
    expect(seen.rejected ?? 0).toBeGreaterThan(0);
  }, 60_000);
});
