import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../config/parse.js';
import { ExecError } from '../../exec/errors.js';
import type { Mode } from '../../model/types.js';
import { rulesetFor } from '../../profiles/load.js';
import { converge } from '../../reconcile/converge.js';
import { createNftablesBackend } from '../nftables/backend.js';
import { renderCreateCommands } from '../nftables/render.js';
import { createFakeNftables } from './fake-nftables.js';
import type { FakeNftables } from './fake-nftables.js';

const T = { family: 'inet', table: 't' };
const table = { add: { table: { family: 'inet', name: 't' } } };
const chain = (name: string, base?: { type: string; hook: string; prio: number; policy?: string }) => ({ add: { chain: { ...T, name, ...base } } });
const rule = (chainName: string, expr: unknown[], comment?: string) => ({ add: { rule: { ...T, chain: chainName, expr, ...(comment ? { comment } : {}) } } });
const input = { type: 'filter', hook: 'input', prio: 0, policy: 'accept' };

/** A fake with table t: regular chain c (one accept rule) and base chain b jumping to it. */
function seeded(): FakeNftables {
  const fake = createFakeNftables();
  expect(fake.transact([table, chain('c'), chain('b', input), rule('b', [{ jump: { target: 'c' } }]), rule('c', [{ accept: null }], 'x')])).toEqual({ ok: true });
  return fake;
}

function expectRejected(fake: FakeNftables, commands: unknown[], error: RegExp): void {
  const before = fake.dump();
  const listed = JSON.stringify(fake.listTable('inet', 't'));
  const result = fake.transact(commands);
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error).toMatch(error);
  expect(fake.dump()).toBe(before);
  expect(JSON.stringify(fake.listTable('inet', 't'))).toBe(listed);
}

describe('fake nft: the kernel refuses the whole transaction', () => {
  const cases: Array<[string, unknown[], RegExp]> = [
    ['deleting a missing chain', [{ delete: { chain: { ...T, name: 'zz' } } }], /No such file/],
    ['flushing a missing chain', [{ flush: { chain: { ...T, name: 'zz' } } }], /No such file/],
    ['adding a rule to a missing chain', [rule('zz', [{ accept: null }])], /No such file/],
    ['a jump to a missing chain', [rule('c', [{ jump: { target: 'zz' } }])], /No such file/],
    ['a jump to a base chain', [chain('d'), rule('d', [{ jump: { target: 'b' } }])], /not supported/],
    ['deleting a chain that still has rules', [{ flush: { chain: { ...T, name: 'b' } } }, { delete: { chain: { ...T, name: 'c' } } }], /busy/],
    ['deleting a chain that is still jumped to', [{ flush: { chain: { ...T, name: 'c' } } }, { delete: { chain: { ...T, name: 'c' } } }], /busy/],
    ['re-adding a base chain with another hook', [chain('b', { ...input, hook: 'forward' })], /not supported/],
    ['re-adding a base chain with another priority', [chain('b', { ...input, prio: -10 })], /not supported/],
    ['turning a regular chain into a base chain', [chain('c', input)], /not supported/],
    ['creating an existing chain', [{ create: { chain: { ...T, name: 'c' } } }], /File exists/],
    ['a chain in a missing table', [{ add: { chain: { family: 'ip', table: 'nope', name: 'c' } } }], /No such file/],
    ['deleting a missing table', [{ delete: { table: { family: 'ip', name: 'nope' } } }], /No such file/],
    ['a reference to a missing set', [rule('c', [{ match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: '@nope' } }, { accept: null }])], /No such file/],
    ['an unknown statement', [rule('c', [{ frobnicate: null }])], /unknown statement/],
    ['a malformed match', [rule('c', [{ match: { op: '=~', left: { meta: { key: 'mark' } }, right: 1 } }])], /malformed match/],
    ['an unknown verb', [{ frob: { table: { family: 'inet', name: 'x' } } }], /unknown command/],
    ['masquerade reached from a filter chain', [chain('n'), rule('n', [{ masquerade: null }]), rule('b', [{ jump: { target: 'n' } }])], /masquerade/],
    ['a jump loop', [chain('d'), rule('c', [{ jump: { target: 'd' } }]), rule('d', [{ jump: { target: 'c' } }])], /loop/],
    ['deleting a rule by a stale handle', [{ delete: { rule: { ...T, chain: 'c', handle: 999 } } }], /No such file/],
  ];
  it.each(cases)('%s', (_name, commands, error) => {
    const fake = seeded();
    // Valid commands before the bad one are dropped too.
    expectRejected(fake, [chain('before-the-error'), ...commands], error);
  });

  it('accepts what the kernel accepts: flush then delete, delete + re-create a base chain, same-spec re-add', () => {
    const fake = seeded();
    const b = { ...T, name: 'b' };
    expect(fake.transact([chain('b', input), chain('c'), table])).toEqual({ ok: true });
    expect(fake.transact([{ flush: { chain: b } }, { delete: { chain: b } }, chain('b', { ...input, prio: -10 }), rule('b', [{ jump: { target: 'c' } }])])).toEqual({ ok: true });
    expect(fake.dump()).toContain('chain b type filter hook input prio -10 policy accept');
    expect(fake.transact([{ flush: { chain: b } }, { flush: { chain: { ...T, name: 'c' } } }, { delete: { chain: { ...T, name: 'c' } } }])).toEqual({ ok: true });
    expect(fake.dump()).not.toContain('chain c');
    expect(fake.transact([{ delete: { table: { family: 'inet', name: 't' } } }])).toEqual({ ok: true });
    expect(fake.dump()).toBe('');
  });
});

describe('fake nft: rule positions and listing', () => {
  it('appends, inserts before a handle or index, replaces and deletes by handle', () => {
    const fake = seeded();
    const handles = () => (fake.listTable('inet', 't')!.nftables as Array<{ rule?: { chain: string; handle: number; comment?: string } }>)
      .flatMap((o) => (o.rule?.chain === 'c' ? [o.rule] : []));
    expect(fake.transact([rule('c', [{ drop: null }], 'y')])).toEqual({ ok: true });
    const [x, y] = handles();
    expect(fake.transact([{ insert: { rule: { ...T, chain: 'c', handle: y!.handle, expr: [{ return: null }], comment: 'z' } } }])).toEqual({ ok: true });
    expect(handles().map((r) => r.comment)).toEqual(['x', 'z', 'y']);
    expect(fake.transact([{ insert: { rule: { ...T, chain: 'c', expr: [{ accept: null }], comment: 'top' } } }])).toEqual({ ok: true });
    expect(fake.transact([{ add: { rule: { ...T, chain: 'c', index: 0, expr: [{ accept: null }], comment: 'after-top' } } }])).toEqual({ ok: true });
    expect(fake.transact([{ replace: { rule: { ...T, chain: 'c', handle: x!.handle, expr: [{ drop: null }], comment: 'x2' } } }])).toEqual({ ok: true });
    expect(fake.transact([{ delete: { rule: { ...T, chain: 'c', handle: y!.handle } } }])).toEqual({ ok: true });
    expect(handles().map((r) => r.comment)).toEqual(['top', 'after-top', 'x2', 'z']);
  });

  it('lists like nft: metainfo, table, sets, chains, then rules, with handles from one counter', () => {
    const fake = seeded();
    expect(fake.transact([{ add: { set: { ...T, name: 's', type: 'ipv4_addr', elem: ['192.0.2.1'] } } }])).toEqual({ ok: true });
    const kinds = fake.listTable('inet', 't')!.nftables.map((o) => Object.keys(o as object)[0]);
    expect(kinds).toEqual(['metainfo', 'table', 'set', 'chain', 'chain', 'rule', 'rule']);
    const handles = fake.listTable('inet', 't')!.nftables.slice(2).map((o) => Object.values(o as object)[0].handle);
    expect(new Set(handles).size).toBe(handles.length);
    expect(fake.listTable('inet', 'missing')).toBeUndefined();
  });

  it('dumps sorted, without handles or counter values', () => {
    const a = createFakeNftables();
    const b = createFakeNftables();
    a.transact([table, chain('z'), chain('a'), rule('z', [{ counter: { packets: 5, bytes: 300 } }, { accept: null }])]);
    b.transact([table, chain('a'), chain('unused'), { delete: { chain: { ...T, name: 'unused' } } }, chain('z'), rule('z', [{ counter: { packets: 0, bytes: 0 } }, { accept: null }])]);
    expect(a.dump()).toBe(b.dump());
    expect(a.dump()).toBe('table inet t\n  chain a\n  chain z\n    {"comment":null,"expr":[{"counter":{"bytes":0,"packets":0}},{"accept":null}]}\n');
  });
});

describe('fake nft as a CommandRunner', () => {
  it('answers list for a missing table the way the backend expects, and throws typed errors unless allowed', async () => {
    const fake = createFakeNftables();
    const listed = await fake.run('nft', ['-j', 'list', 'table', 'inet', 'tsfw'], { allowFailure: true });
    expect(listed.exitCode).toBe(1);
    expect(listed.stderr).toMatch(/No such file or directory/);
    await expect(fake.run('nft', ['-j', '-f', '-'], { input: JSON.stringify({ nftables: [{ delete: { table: { family: 'inet', name: 'tsfw' } } }] }) }))
      .rejects.toBeInstanceOf(ExecError);
    await expect(fake.run('iptables', ['-S'])).rejects.toThrow(/cannot run iptables/);
    await expect(fake.run('nft', ['list', 'ruleset'])).rejects.toThrow(/unsupported invocation/);
    expect(fake.writes).toBe(0);
  });

  it('runs the real nftables backend: converge from empty equals the rendered document, then nothing to do', async () => {
    const { config } = parseConfigText('addresses: [100.100.0.1]\nstatefulFiltering: true\n', 'test');
    for (const mode of ['on', 'nodivert'] as Mode[]) {
      const fake = createFakeNftables();
      const backend = createNftablesBackend(fake, config.nftables);
      const desired = rulesetFor(config, mode);
      const first = await converge(backend, desired);
      expect(first.changed).toBe(true);
      expect(fake.writes).toBe(1);
      const golden = createFakeNftables();
      expect(golden.transact(renderCreateCommands(desired, config.nftables))).toEqual({ ok: true });
      expect(fake.dump()).toBe(golden.dump());
      const second = await converge(backend, desired);
      expect(second.changed).toBe(false);
      expect(fake.writes).toBe(1);
      // Reads are JSON `list` documents on `nft -j -f -` too; only one call carried a change.
      expect(fake.calls.every((c) => c === 'nft -j -f -')).toBe(true);
    }
  });

  it('a rejected apply leaves the state unchanged and surfaces as an error', async () => {
    const { config } = parseConfigText('', 'test');
    const fake = createFakeNftables();
    const backend = createNftablesBackend(fake, config.nftables);
    await converge(backend, rulesetFor(config, 'on'));
    const before = fake.dump();
    const state = await backend.observe();
    const plan = backend.plan(rulesetFor(config, 'nodivert'), state);
    // A racing writer removed a chain the plan deletes: the kernel refuses the whole document.
    expect(fake.transact([{ flush: { chain: { family: 'inet', table: 'tsfw', name: 'tsfw-filter-input' } } }, { delete: { chain: { family: 'inet', table: 'tsfw', name: 'tsfw-filter-input' } } }])).toEqual({ ok: true });
    const raced = fake.dump();
    expect(raced).not.toBe(before);
    await expect(backend.apply(plan)).rejects.toBeInstanceOf(ExecError);
    expect(fake.dump()).toBe(raced);
  });
});
