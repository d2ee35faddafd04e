import { describe, expect, it } from 'vitest';
import { configFrom, EVERYTHING_YAML, rulesetFrom } from '../../../test/helpers/configs.js';
import { nftFixture } from '../../../test/helpers/fixtures.js';
import type { Mode } from '../../model/types.js';
import { createFakeNftables } from '../fake/fake-nftables.js';
import type { FakeNftables } from '../fake/fake-nftables.js';
import { commandsFromListing } from '../fake/from-listing.js';
import type { Plan } from '../types.js';
import { ABSENT, parseNftTable } from './parse.js';
import type { NftState } from './parse.js';
import { nftCommands, planNft } from './plan.js';
import type { NftPiece } from './plan.js';
import { renderCreateCommands } from './render.js';

/**
 * Planner tables: observed state (captured from a real kernel, or built through the fake) ×
 * desired mode → the exact op list (each op's words and its commands). Every plan is also applied to a fake holding
 * the observed state: the kernel must accept it, and the state after it must plan to nothing.
 */

const opts = configFrom('').nftables;
const T = { family: 'inet', table: 'tsfw' };
const ref = (name: string) => ({ ...T, name });

/** A fake holding `commands` applied in one transaction each (empty list: no table). */
function fakeWith(...transactions: unknown[][]): FakeNftables {
  const fake = createFakeNftables();
  for (const commands of transactions) expect(fake.transact(commands)).toEqual({ ok: true });
  return fake;
}

function observe(fake: FakeNftables): NftState {
  const listed = fake.listTable('inet', 'tsfw');
  return listed ? parseNftTable(JSON.stringify(listed), 'tsfw') : ABSENT;
}

/** The golden state of a mode, built from the same render the golden files hold. */
function golden(mode: Mode, yaml = ''): FakeNftables {
  return fakeWith(renderCreateCommands(rulesetFrom(yaml, mode), opts));
}

/** The rule handles of one chain, in order. */
function handles(fake: FakeNftables, chain: string): Array<{ handle: number; expr: unknown[]; comment?: string }> {
  return (fake.listTable('inet', 'tsfw')?.nftables ?? [])
    .flatMap((o) => {
      const rule = (o as { rule?: { chain: string; handle: number; expr: unknown[]; comment?: string } }).rule;
      return rule && rule.chain === chain ? [rule] : [];
    });
}

/** Plans, applies to the fake (must be accepted), and checks the result is converged. */
function planAndApply(fake: FakeNftables, mode: Mode, yaml = ''): Plan<NftPiece> {
  const desired = rulesetFrom(yaml, mode);
  const plan = planNft(desired, observe(fake), opts);
  const result = fake.transact(nftCommands(plan.ops));
  expect(result, 'the kernel (fake) accepts the plan').toEqual({ ok: true });
  expect(planNft(desired, observe(fake), opts).ops, 'converged after one transaction').toEqual([]);
  return plan;
}

const ops = (plan: Plan) => plan.ops.map((a) => `${a.op}${a.chain ? ` ${a.chain}` : ''}`);
const verbs = (plan: Plan<NftPiece>) => nftCommands(plan.ops).map((c) => {
  const [verb, inner] = Object.entries(c)[0]!;
  const [kind, body] = Object.entries(inner as Record<string, { name?: string; chain?: string }>)[0]!;
  return `${verb} ${kind} ${body.chain ?? body.name}`;
});

describe('planner: converged states plan nothing', () => {
  const rows: Array<[string, string, Mode, string]> = [
    ['everything enabled, on (non-zero counters)', 'on-everything.list.json', 'on', EVERYTHING_YAML],
    ['IPv4 only, on', 'on-ip.list.json', 'on', 'families: [ip]'],
    ['IPv6 only with addresses and stateful filtering, on', 'on-ip6.list.json', 'on', 'families: [ip6]\nstatefulFiltering: true\naddresses: ["fd7a:115c:a1e0::1", 100.100.0.1]'],
    ['defaults, nodivert', 'nodivert-default.list.json', 'nodivert', ''],
    ['defaults, nodivert, admin chain and set in the table', 'nodivert-admin.list.json', 'nodivert', ''],
  ];
  it.each(rows)('%s', (_name, file, mode, yaml) => {
    const plan = planNft(rulesetFrom(yaml, mode), parseNftTable(nftFixture(file), 'tsfw'), opts);
    expect(plan).toEqual({ ops: [], drift: [], warnings: [] });
  });

  it('off with no table plans nothing', () => {
    expect(planNft(rulesetFrom('', 'off'), ABSENT, opts)).toEqual({ ops: [], drift: [], warnings: [] });
  });

  it('without the nft binary: off plans nothing silently, on says why it cannot write', () => {
    const missing = { ...ABSENT, unavailable: true };
    expect(planNft(rulesetFrom('', 'off'), missing, opts)).toEqual({ ops: [], drift: [], warnings: [] });
    expect(planNft(rulesetFrom('', 'on'), missing, opts).warnings).toEqual([
      'nft is not installed (Debian package nftables): tsfw cannot create its table',
    ]);
  });
});

describe('planner: converging from broken states', () => {
  it('from empty: the table, then each chain created and filled; the document lists every chain before any rule', () => {
    const fake = createFakeNftables();
    const plan = planAndApply(fake, 'on');
    const chains = ['ts-input', 'ts-forward', 'ts-postrouting', 'tsfw-filter-input', 'tsfw-filter-forward', 'tsfw-nat-postrouting'];
    expect(ops(plan)).toEqual(['create-table', ...chains.flatMap((c) => [`create-chain ${c}`, `fill-chain ${c}`])]);
    expect(plan.ops[0]!.pieces).toEqual([{ section: 'table', body: { add: { table: { family: 'inet', name: 'tsfw' } } } }]);
    const fill = plan.ops.find((o) => o.op === 'fill-chain' && o.chain === 'ts-input')!;
    expect(fill.pieces.map((p) => p.section)).toEqual(fill.rules!.map(() => 'rule'));
    expect(fill.pieces.map((p) => (p.body as { add: { rule: { comment: string } } }).add.rule.comment)).toEqual(fill.rules!.map((id) => `tsfw:${id}`));
    const list = verbs(plan);
    expect(list.slice(0, 1 + chains.length)).toEqual(['add table tsfw', ...chains.map((c) => `add chain ${c}`)]);
    expect(list.slice(1 + chains.length).every((v) => v.startsWith('add rule'))).toBe(true);
    expect(plan.drift).toEqual([{ kind: 'missing', family: 'inet', table: 'tsfw', detail: 'table inet tsfw is missing' }]);
    expect(fake.dump()).toBe(golden('on').dump());
  });

  it('half-applied: only the missing chains are created and filled', () => {
    const fake = fakeWith(
      [{ add: { table: { family: 'inet', name: 'tsfw' } } }],
      renderCreateCommands(rulesetFrom('', 'on'), opts).filter((c) => !JSON.stringify(c).includes('postrouting')),
    );
    const plan = planAndApply(fake, 'on');
    expect(ops(plan)).toEqual(['create-chain ts-postrouting', 'fill-chain ts-postrouting', 'create-chain tsfw-nat-postrouting', 'fill-chain tsfw-nat-postrouting']);
    expect(plan.drift.map((d) => d.detail)).toEqual(['chain ts-postrouting is missing', 'chain tsfw-nat-postrouting is missing']);
    expect(fake.dump()).toBe(golden('on').dump());
  });

  it('duplicated rule: that chain alone is flushed and refilled', () => {
    const fake = golden('on');
    const [first] = handles(fake, 'ts-forward');
    expect(fake.transact([{ add: { rule: { ...T, chain: 'ts-forward', expr: first!.expr, comment: first!.comment } } }])).toEqual({ ok: true });
    const plan = planAndApply(fake, 'on');
    expect(verbs(plan)).toEqual(['flush chain ts-forward', ...handles(golden('on'), 'ts-forward').map(() => 'add rule ts-forward')]);
    // One op says it and carries it: the flush and the refill are both pieces of fill-chain.
    expect(plan.ops.map((o) => [o.op, o.pieces.length, o.pieces[0]?.section])).toEqual([['fill-chain', 1 + handles(golden('on'), 'ts-forward').length, 'chain']]);
    expect(plan.drift).toEqual([{ kind: 'unexpected', family: 'inet', table: 'tsfw', chain: 'ts-forward', detail: 'chain ts-forward has duplicated rules' }]);
    expect(fake.dump()).toBe(golden('on').dump());
  });

  it('reordered rules: reported as misordered, refilled in profile order', () => {
    const fake = golden('on');
    const rules = handles(fake, 'ts-input');
    const last = rules.at(-1)!;
    expect(fake.transact([
      { delete: { rule: { ...T, chain: 'ts-input', handle: last.handle } } },
      { insert: { rule: { ...T, chain: 'ts-input', handle: rules[0]!.handle, expr: last.expr, comment: last.comment } } },
    ])).toEqual({ ok: true });
    const plan = planAndApply(fake, 'on');
    expect(ops(plan)).toEqual(['fill-chain ts-input']);
    expect(plan.drift.map((d) => [d.kind, d.chain])).toEqual([['misordered', 'ts-input']]);
    expect(fake.dump()).toBe(golden('on').dump());
  });

  it('foreign-edited rule (same comment, other verdict): names the rule id and restores it', () => {
    const fake = golden('on');
    const spoof = handles(fake, 'ts-input').find((r) => r.comment === 'tsfw:ts-input/cgnat-spoof')!;
    const edited = spoof.expr.map((e) => (JSON.stringify(e) === '{"drop":null}' ? { accept: null } : e));
    expect(fake.transact([{ replace: { rule: { ...T, chain: 'ts-input', handle: spoof.handle, expr: edited, comment: spoof.comment } } }])).toEqual({ ok: true });
    const plan = planAndApply(fake, 'on');
    expect(plan.drift).toEqual([{ kind: 'missing', family: 'inet', table: 'tsfw', chain: 'ts-input', rule: 'ts-input/cgnat-spoof', detail: 'rule ts-input/cgnat-spoof is missing or edited' }]);
    expect(ops(plan)).toEqual(['fill-chain ts-input']);
    expect(fake.dump()).toBe(golden('on').dump());
  });

  it('a foreign rule in a ts chain is removed with a refill; nothing else is touched', () => {
    const fake = golden('on');
    expect(fake.transact([{ insert: { rule: { ...T, chain: 'ts-forward', expr: [{ accept: null }] } } }])).toEqual({ ok: true });
    const plan = planAndApply(fake, 'on');
    expect(plan.drift).toHaveLength(1);
    expect(plan.drift[0]).toMatchObject({ kind: 'unexpected', chain: 'ts-forward' });
    expect(plan.drift[0]?.detail).toMatch(/has a rule tsfw did not write \(handle \d+\)/);
    expect(verbs(plan).filter((v) => !v.endsWith('ts-forward'))).toEqual([]);
    expect(fake.dump()).toBe(golden('on').dump());
  });

  it('a deleted rule: only its chain is refilled', () => {
    const fake = golden('on', EVERYTHING_YAML);
    const rule = handles(fake, 'ts-forward').find((r) => r.comment === 'tsfw:ts-forward/stateful-filter')!;
    expect(fake.transact([{ delete: { rule: { ...T, chain: 'ts-forward', handle: rule.handle } } }])).toEqual({ ok: true });
    const plan = planAndApply(fake, 'on', EVERYTHING_YAML);
    expect(plan.drift.map((d) => d.rule)).toEqual(['ts-forward/stateful-filter']);
    expect(ops(plan)).toEqual(['fill-chain ts-forward']);
  });

  it('base chain with the wrong priority: flush, delete and re-create in one transaction, in that order', () => {
    const fake = golden('on');
    expect(fake.transact([
      { flush: { chain: ref('tsfw-filter-input') } },
      { delete: { chain: ref('tsfw-filter-input') } },
      { add: { chain: { ...ref('tsfw-filter-input'), type: 'filter', hook: 'input', prio: 0, policy: 'accept' } } },
      { add: { rule: { ...T, chain: 'tsfw-filter-input', expr: [{ jump: { target: 'ts-input' } }], comment: 'tsfw:tsfw-filter-input/divert-ts-input' } } },
    ])).toEqual({ ok: true });
    const plan = planAndApply(fake, 'on');
    expect(nftCommands(plan.ops)).toEqual([
      { flush: { chain: ref('tsfw-filter-input') } },
      { delete: { chain: ref('tsfw-filter-input') } },
      { add: { chain: { ...ref('tsfw-filter-input'), type: 'filter', hook: 'input', prio: -10, policy: 'accept' } } },
      { add: { rule: { ...T, chain: 'tsfw-filter-input', expr: [{ jump: { target: 'ts-input' } }], comment: 'tsfw:tsfw-filter-input/divert-ts-input' } } },
    ]);
    expect(ops(plan)).toEqual(['replace-chain tsfw-filter-input', 'fill-chain tsfw-filter-input']);
    expect(plan.ops[0]!.pieces.map((p) => Object.keys(p.body)[0])).toEqual(['flush', 'delete', 'add']);
    expect(plan.drift[0]?.detail).toBe('chain tsfw-filter-input is type filter hook input priority 0 policy accept, expected type filter hook input priority -10 policy accept');
    expect(fake.dump()).toBe(golden('on').dump());
  });

  it('a ts chain re-registered as a base chain by someone else becomes a regular chain again', () => {
    const fake = golden('nodivert');
    expect(fake.transact([
      { flush: { chain: ref('ts-postrouting') } },
      { delete: { chain: ref('ts-postrouting') } },
      { add: { chain: { ...ref('ts-postrouting'), type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } } },
    ])).toEqual({ ok: true });
    const plan = planAndApply(fake, 'nodivert');
    expect(ops(plan)).toEqual(['replace-chain ts-postrouting', 'fill-chain ts-postrouting']);
    expect(fake.dump()).toBe(golden('nodivert').dump());
  });

  it('nodivert after on: the stale divert chains go (all flushed, then deleted); ts chains stay', () => {
    const fake = golden('on');
    const plan = planAndApply(fake, 'nodivert');
    const stale = ['tsfw-filter-input', 'tsfw-filter-forward', 'tsfw-nat-postrouting'];
    expect(verbs(plan)).toEqual([...stale.map((c) => `flush chain ${c}`), ...stale.map((c) => `delete chain ${c}`)]);
    expect(ops(plan)).toEqual(['delete-chain tsfw-filter-input', 'delete-chain tsfw-filter-forward', 'delete-chain tsfw-nat-postrouting']);
    expect(plan.ops.map((o) => o.pieces.map((p) => p.section))).toEqual(stale.map(() => ['flush', 'delete']));
    expect(fake.dump()).toBe(golden('nodivert').dump());
  });

  it('off beside an admin chain, with a foreign jump between two ts chains: every flush comes before any delete', () => {
    // Found by mode cycling and confirmed on a 6.x kernel: deleting ts-input while ts-forward
    // still jumped to it made the whole transaction fail with EBUSY.
    const fake = golden('on');
    expect(fake.transact([
      { add: { chain: ref('admin-x') } },
      { add: { rule: { ...T, chain: 'ts-forward', expr: [{ jump: { target: 'ts-input' } }] } } },
    ])).toEqual({ ok: true });
    const plan = planAndApply(fake, 'off');
    const list = verbs(plan);
    expect(list.findIndex((v) => v.startsWith('delete'))).toBe(list.filter((v) => v.startsWith('flush')).length);
    expect(fake.dump()).toBe('table inet tsfw\n  chain admin-x\n');
  });

  it('off with only tsfw\'s objects deletes the table in one command', () => {
    const fake = golden('on', EVERYTHING_YAML);
    const plan = planAndApply(fake, 'off');
    expect(plan.ops).toEqual([{ ...T, op: 'delete-table', reason: 'mode off', pieces: [{ section: 'delete', body: { delete: { table: { family: 'inet', name: 'tsfw' } } } }] }]);
    expect(fake.dump()).toBe('');
  });
});

describe('planner: the admin\'s objects inside tsfw\'s table are never touched', () => {
  const adminFake = () => fakeWith(commandsFromListing(nftFixture('nodivert-admin.list.json')));
  const admin = (fake: FakeNftables) => fake.dump().split('\n').filter((l) => /admin/.test(l)).join('\n');
  const mentionsAdmin = (plan: Plan<NftPiece>) => JSON.stringify(nftCommands(plan.ops)).includes('admin');

  it('nodivert: a refill of ts-input leaves the admin chain, its jump and the set alone', () => {
    const fake = adminFake();
    const before = admin(fake);
    const [rule] = handles(fake, 'ts-input');
    expect(fake.transact([{ delete: { rule: { ...T, chain: 'ts-input', handle: rule!.handle } } }])).toEqual({ ok: true });
    const plan = planAndApply(fake, 'nodivert');
    expect(ops(plan)).toEqual(['fill-chain ts-input']);
    expect(mentionsAdmin(plan)).toBe(false);
    expect(admin(fake)).toBe(before);
    expect(before).toMatch(/chain admin-input type filter hook input prio 0/);
  });

  it('on: divert chains are added beside the admin chain', () => {
    const fake = adminFake();
    const before = admin(fake);
    const plan = planAndApply(fake, 'on');
    expect(ops(plan)).toEqual(['tsfw-filter-input', 'tsfw-filter-forward', 'tsfw-nat-postrouting'].flatMap((c) => [`create-chain ${c}`, `fill-chain ${c}`]));
    expect(mentionsAdmin(plan)).toBe(false);
    expect(admin(fake)).toBe(before);
  });

  it('off: keeps the table, flushes the ts chain the admin jumps to, deletes the rest, and warns', () => {
    const fake = adminFake();
    const before = admin(fake);
    const plan = planAndApply(fake, 'off');
    expect(verbs(plan)).toEqual(['flush chain ts-input', 'flush chain ts-forward', 'flush chain ts-postrouting', 'delete chain ts-forward', 'delete chain ts-postrouting']);
    expect(ops(plan)).toEqual(['flush-chain ts-input', 'delete-chain ts-forward', 'delete-chain ts-postrouting']);
    expect(plan.warnings).toEqual([
      'table inet tsfw also holds the admin\'s chain admin-input, chain admin-helper, set admin-allow: kept the table, removed only tsfw\'s chains',
      'chain ts-input is still the target of the admin\'s jump; flushed it instead of deleting',
    ]);
    expect(mentionsAdmin(plan)).toBe(false);
    expect(admin(fake)).toBe(before);
    expect(fake.dump().split('\n').filter((l) => / chain ts/.test(l))).toEqual(['  chain ts-input']);
    expect(handles(fake, 'ts-input')).toEqual([]);
    // Off again: nothing left to do, but the admin still hears why the table stays.
    const again = planNft(rulesetFrom('', 'off'), observe(fake), opts);
    expect(again.ops).toEqual([]);
    expect(again.warnings).toHaveLength(2);
  });

  it('off with only an admin set left in the table: tsfw\'s chains go, the set and table stay', () => {
    const fake = golden('on');
    expect(fake.transact([{ add: { set: { ...T, name: 'blocklist', type: 'ipv4_addr' } } }])).toEqual({ ok: true });
    const plan = planAndApply(fake, 'off');
    expect(nftCommands(plan.ops).some((c) => 'delete' in c && 'table' in c.delete)).toBe(false);
    expect(fake.dump()).toBe('table inet tsfw\n  set blocklist {"type":"ipv4_addr"}\n');
  });
});
