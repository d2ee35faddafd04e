import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Config } from '../../config/schema.js';
import type { Mode } from '../../model/types.js';
import { rulesetFor } from '../../profiles/load.js';
import type { JumpPosition } from './jumps.js';
import { parseIptablesSave } from './parse.js';
import { iptScripts, planIptables } from './plan.js';
import type { IptState } from './plan.js';
import { desiredIptTables } from './render.js';

/** Planner tables on IPv4 only (IPv6 plans the same way), from states written as iptables-save text. */
const config = Config.parse({ families: ['ip'] });
const ruleset = (mode: Mode) => rulesetFor(config, mode);
const want = desiredIptTables(ruleset('on'));
const lines = (table: string, chain: string) => want.find((t) => t.table === table)!.chains.find((c) => c.name === chain)!.rules.map((r) => r.line);

const JUMP = (target: string) => `-m comment --comment "tsfw:jump" -j ${target}`;
const ADMIN = '-s 203.0.113.7/32 -j ACCEPT';

interface TableSpec {
  readonly builtins: Record<string, readonly string[]>;
  readonly chains: Record<string, readonly string[]>;
  readonly policy?: string;
}

/** iptables-save text for one table: built-in chains with their rule specs, then user chains. */
function save(table: string, spec: TableSpec): string {
  const out = [`*${table}`];
  for (const name of Object.keys(spec.builtins)) out.push(`:${name} ${name === 'INPUT' ? spec.policy ?? 'ACCEPT' : 'ACCEPT'} [0:0]`);
  for (const name of Object.keys(spec.chains)) out.push(`:${name} - [0:0]`);
  for (const [name, rules] of Object.entries(spec.builtins)) for (const r of rules) out.push(`-A ${name} ${r}`);
  for (const rules of Object.values(spec.chains)) out.push(...rules);
  return `${out.join('\n')}\nCOMMIT\n`;
}

const tsChains = () => ({ 'ts-input': lines('filter', 'ts-input'), 'ts-forward': lines('filter', 'ts-forward') });
const convergedNat = save('nat', { builtins: { POSTROUTING: [JUMP('ts-postrouting')] }, chains: { 'ts-postrouting': lines('nat', 'ts-postrouting') } });

function state(filter: TableSpec | undefined, nat: string | undefined = convergedNat): IptState {
  const text = `${filter ? save('filter', filter) : ''}${nat ?? ''}`;
  return { families: [{ family: 'ip', tables: parseIptablesSave(text) }] };
}

function plan(mode: Mode, s: IptState, jumpPosition: JumpPosition = 'first') {
  const p = planIptables(ruleset(mode), s, { jumpPosition });
  const scripts = iptScripts(p.ops);
  const filter = scripts.find((x) => x.table === 'filter')?.script;
  return { ...p, scripts, filter, list: p.ops.map((a) => `${a.op} ${a.chain}${a.rules ? ` ${a.rules.join(',')}` : ''}`) };
}

describe('iptables planner', () => {
  it('empty host: creates every chain and puts each jump at position 1, never declaring a built-in chain', () => {
    const p = plan('on', { families: [{ family: 'ip', tables: [] }] });
    expect(p.scripts.map((s) => `${s.family} ${s.table}`)).toEqual(['ip filter', 'ip nat']);
    expect(p.filter).toBe([
      '*filter', ':ts-input - [0:0]', ':ts-forward - [0:0]',
      ...lines('filter', 'ts-input'), ...lines('filter', 'ts-forward'),
      `-I INPUT 1 ${JUMP('ts-input')}`, `-I FORWARD 1 ${JUMP('ts-forward')}`, 'COMMIT', '',
    ].join('\n'));
    expect(p.scripts.map((s) => s.script).join('')).not.toMatch(/^:[A-Z]+ /m);
    expect(p.ops.every((a) => a.family === 'ip' && (a.table === 'filter' || a.table === 'nat'))).toBe(true);
    expect(p.list).toContain('fill-chain ts-input ts-input/tunnel-accept,ts-input/wireguard-port[41641],ts-input/cgnat-exempt[100.115.92.0/23],ts-input/cgnat-spoof');
  });

  it('converged (captured legacy dump, admin MASQUERADE below the jump): no action, no script', () => {
    const text = readFileSync(new URL('../../../test/fixtures/iptables/legacy4-converged.save', import.meta.url), 'utf8');
    const p = plan('on', { families: [{ family: 'ip', tables: parseIptablesSave(text) }] });
    expect(p.ops).toEqual([]);
    expect(p.drift).toEqual([]);
    expect(p.scripts).toEqual([]);
  });

  it('half-applied: only the missing chain and jumps are written; the complete chain is not touched', () => {
    const p = plan('on', state({ builtins: { INPUT: [], FORWARD: [] }, chains: { 'ts-input': lines('filter', 'ts-input') } }));
    expect(p.list).toEqual(['create-chain ts-forward', 'fill-chain ts-forward ts-forward/mark-from-tunnel,ts-forward/accept-marked,ts-forward/cgnat-to-tunnel,ts-forward/to-tunnel-accept', 'add-jump INPUT ts-input', 'add-jump FORWARD ts-forward']);
    expect(p.filter).not.toContain(':ts-input');
    expect(p.scripts.map((s) => s.table)).toEqual(['filter']);
  });

  it('a rule edited inside ts-input: that chain is re-declared (flushed) and refilled, with the rule named', () => {
    const edited = lines('filter', 'ts-input').map((l) => l.replace('--dport 41641', '--dport 41642'));
    const p = plan('on', state({ builtins: { INPUT: [JUMP('ts-input')], FORWARD: [JUMP('ts-forward')] }, chains: { ...tsChains(), 'ts-input': edited } }));
    expect(p.list).toEqual(['fill-chain ts-input ts-input/tunnel-accept,ts-input/wireguard-port[41641],ts-input/cgnat-exempt[100.115.92.0/23],ts-input/cgnat-spoof']);
    expect(p.drift).toEqual([expect.objectContaining({ kind: 'missing', family: 'ip', table: 'filter', chain: 'ts-input', rule: 'ts-input/wireguard-port[41641]' })]);
    expect(p.filter).toBe(['*filter', ':ts-input - [0:0]', ...lines('filter', 'ts-input'), 'COMMIT', ''].join('\n'));
  });

  it('a duplicated jump: every tagged copy is deleted by spec and one comes back at position 1', () => {
    const p = plan('on', state({ builtins: { INPUT: [JUMP('ts-input'), ADMIN, JUMP('ts-input')], FORWARD: [JUMP('ts-forward')] }, chains: tsChains() }));
    // The copy in place is deleted too (-D by spec takes the first copy), so an op says so.
    expect(p.list).toEqual(['delete-jump INPUT ts-input', 'reinsert-jump INPUT ts-input']);
    expect(p.ops[0]!.reason).toBe('duplicate (position 3)');
    expect(p.ops.map((o) => o.pieces.map((x) => `${x.section}@${x.at}: ${x.body}`))).toEqual([
      [`del@3: -D INPUT ${JUMP('ts-input')}`],
      [`del@1: -D INPUT ${JUMP('ts-input')}`, `insert@1: -I INPUT 1 ${JUMP('ts-input')}`],
    ]);
    expect(p.drift.map((d) => d.kind)).toEqual(['unexpected']);
    expect(p.filter).toBe(['*filter', `-D INPUT ${JUMP('ts-input')}`, `-D INPUT ${JUMP('ts-input')}`, `-I INPUT 1 ${JUMP('ts-input')}`, 'COMMIT', ''].join('\n'));
  });

  it('a jump demoted below an admin rule: moved back in `first`, left alone in `preserve`', () => {
    const demoted = state({ builtins: { INPUT: [ADMIN, JUMP('ts-input')], FORWARD: [JUMP('ts-forward')] }, chains: tsChains() });
    const first = plan('on', demoted);
    expect(first.list).toEqual(['move-jump INPUT ts-input']);
    expect(first.drift[0]).toMatchObject({ kind: 'misordered', chain: 'INPUT', detail: 'ip filter: jump INPUT → ts-input is at position 2, expected 1' });
    expect(first.filter).toBe(['*filter', `-D INPUT ${JUMP('ts-input')}`, `-I INPUT 1 ${JUMP('ts-input')}`, 'COMMIT', ''].join('\n'));
    expect(plan('on', demoted, 'preserve').ops).toEqual([]);
  });

  it('preserve: a duplicated jump returns to the spot of its first copy', () => {
    const p = plan('on', state({ builtins: { INPUT: [ADMIN, JUMP('ts-input'), '-j DROP', JUMP('ts-input')], FORWARD: [JUMP('ts-forward')] }, chains: tsChains() }), 'preserve');
    expect(p.filter).toBe(['*filter', `-D INPUT ${JUMP('ts-input')}`, `-D INPUT ${JUMP('ts-input')}`, `-I INPUT 2 ${JUMP('ts-input')}`, 'COMMIT', ''].join('\n'));
    expect(p.list).toEqual(['reinsert-jump INPUT ts-input', 'delete-jump INPUT ts-input']);
    expect(p.ops[0]!.reason).toBe('deleted and inserted again at position 2: -D by spec cannot pick among equal copies');
  });

  it("nodivert: the admin's own jump is never touched on any path, and nodivert adds no jump", () => {
    const adminJump = state({ builtins: { INPUT: [ADMIN, '-j ts-input'], FORWARD: [] }, chains: tsChains() }, save('nat', { builtins: { POSTROUTING: [] }, chains: { 'ts-postrouting': lines('nat', 'ts-postrouting') } }));
    expect(plan('nodivert', adminJump).ops).toEqual([]);
    const on = plan('on', adminJump);
    expect(on.filter).not.toContain('-D INPUT');
    expect(on.list).toEqual(['add-jump INPUT ts-input', 'add-jump FORWARD ts-forward', 'add-jump POSTROUTING ts-postrouting']);
    const off = plan('off', adminJump);
    expect(off.filter).toBe(['*filter', '-F ts-input', '-F ts-forward', '-X ts-forward', 'COMMIT', ''].join('\n'));
    expect(off.warnings).toContain("ip filter: chain ts-input is still the target of the admin's rule in INPUT; flushed it and kept it");
  });

  it('nodivert after on: exactly the tagged jumps go, the admin rules around them stay, the chains stay', () => {
    const fromOn = state({ builtins: { INPUT: [JUMP('ts-input'), ADMIN, '-j ts-input'], FORWARD: [JUMP('ts-forward')] }, chains: tsChains() });
    const p = plan('nodivert', fromOn);
    expect(p.filter).toBe(['*filter', `-D INPUT ${JUMP('ts-input')}`, `-D FORWARD ${JUMP('ts-forward')}`, 'COMMIT', ''].join('\n'));
    expect(p.list).toEqual(['delete-jump INPUT ts-input', 'delete-jump FORWARD ts-forward', 'delete-jump POSTROUTING ts-postrouting']);
    expect(p.warnings).toEqual([]);
    const converged = state({ builtins: { INPUT: [ADMIN, '-j ts-input'], FORWARD: [] }, chains: tsChains() }, save('nat', { builtins: { POSTROUTING: [] }, chains: { 'ts-postrouting': lines('nat', 'ts-postrouting') } }));
    expect(plan('nodivert', converged).ops).toEqual([]);
  });

  it('off with an admin reference: tagged jumps go, the referenced chain is flushed and kept with a warning', () => {
    const p = plan('off', state({ builtins: { INPUT: [JUMP('ts-input')], FORWARD: [JUMP('ts-forward')] }, chains: { ...tsChains(), 'DOCKER-USER': ['-A DOCKER-USER -j ts-forward'] } }));
    expect(p.filter).toBe(['*filter', `-D INPUT ${JUMP('ts-input')}`, `-D FORWARD ${JUMP('ts-forward')}`, '-F ts-input', '-F ts-forward', '-X ts-input', 'COMMIT', ''].join('\n'));
    expect(p.list).toEqual([
      'delete-jump INPUT ts-input', 'delete-jump FORWARD ts-forward', 'delete-chain ts-input', 'flush-chain ts-forward',
      'delete-jump POSTROUTING ts-postrouting', 'delete-chain ts-postrouting',
    ]);
    expect(p.warnings).toEqual(["ip filter: chain ts-forward is still the target of the admin's rule in DOCKER-USER; flushed it and kept it"]);
    const nat = p.scripts.find((s) => s.table === 'nat')!.script;
    expect(nat).toBe(['*nat', `-D POSTROUTING ${JUMP('ts-postrouting')}`, '-F ts-postrouting', '-X ts-postrouting', 'COMMIT', ''].join('\n'));
  });

  it('off on a clean host writes nothing', () => {
    expect(plan('off', state({ builtins: { INPUT: [ADMIN] }, chains: {} }, '')).scripts).toEqual([]);
  });

  it('a family that could not be read is reported and skipped; the other is still planned', () => {
    const both = Config.parse({});
    const p = planIptables(rulesetFor(both, 'on'), {
      families: [{ family: 'ip', tables: [] }, { family: 'ip6', tables: [], failure: new Error('ip6tables-nft-save: boom') }],
    }, { jumpPosition: 'first' });
    expect(iptScripts(p.ops).map((s) => s.family)).toEqual(['ip', 'ip']);
    expect(p.failures!.map((f) => f.family)).toEqual(['ip6']);
    expect(p.warnings).toEqual(['ip6: not read, left unchanged: ip6tables-nft-save: boom']);
  });

  it('a tagged jump in a chain tsfw does not divert (OUTPUT) is removed in on', () => {
    const p = plan('on', state({ builtins: { INPUT: [JUMP('ts-input')], FORWARD: [JUMP('ts-forward')], OUTPUT: [JUMP('ts-input')] }, chains: tsChains() }));
    expect(p.filter).toBe(['*filter', `-D OUTPUT ${JUMP('ts-input')}`, 'COMMIT', ''].join('\n'));
  });
});

describe('iptables transaction: one op per change, the script ordered from the ops', () => {
  const locked = rulesetFor(Config.parse({ families: ['ip'], profiles: ['tailscale', 'lockdown'] }), 'on');
  const chainLines = desiredIptTables(locked).find((t) => t.table === 'filter')!.chains.flatMap((c) => [`:${c.name} - [0:0]`, ...c.rules.map((r) => r.line)]);
  const filterWith = (input: readonly string[]): IptState => ({ families: [{ family: 'ip', tables: parseIptablesSave([
    '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]',
    ...chainLines.filter((l) => l.startsWith(':')), ...input.map((r) => `-A INPUT ${r}`), `-A FORWARD ${JUMP('ts-forward')}`,
    ...chainLines.filter((l) => !l.startsWith(':')), 'COMMIT', '',
  ].join('\n')).concat(parseIptablesSave(convergedNat)) }] });

  it('two jumps in swapped places: two moves; -D lines follow the rules they delete, -I lines ascend', () => {
    const p = planIptables(locked, filterWith([JUMP('ts-lockdown-input'), ADMIN, JUMP('ts-input')]), { jumpPosition: 'first' });
    expect(p.ops.map((o) => `${o.op} ${o.rules![0]}: ${o.reason}`)).toEqual([
      'move-jump ts-input: back to position 1 from 3',
      'move-jump ts-lockdown-input: back to position 2 from 1',
    ]);
    expect(iptScripts(p.ops)).toEqual([{ family: 'ip', table: 'filter', script: [
      '*filter', `-D INPUT ${JUMP('ts-lockdown-input')}`, `-D INPUT ${JUMP('ts-input')}`,
      `-I INPUT 1 ${JUMP('ts-input')}`, `-I INPUT 2 ${JUMP('ts-lockdown-input')}`, 'COMMIT', '',
    ].join('\n') }]);
  });

  it('a missing first jump: it is added and the one in place comes back below it', () => {
    const p = planIptables(locked, filterWith([JUMP('ts-lockdown-input')]), { jumpPosition: 'first' });
    expect(p.ops.map((o) => `${o.op} ${o.rules![0]}`)).toEqual(['add-jump ts-input', 'move-jump ts-lockdown-input']);
    expect(iptScripts(p.ops)[0]!.script.split('\n').slice(1, -2)).toEqual([
      `-D INPUT ${JUMP('ts-lockdown-input')}`, `-I INPUT 1 ${JUMP('ts-input')}`, `-I INPUT 2 ${JUMP('ts-lockdown-input')}`,
    ]);
    expect(planIptables(locked, filterWith([JUMP('ts-input'), JUMP('ts-lockdown-input'), ADMIN]), { jumpPosition: 'first' }).ops).toEqual([]);
  });
});
