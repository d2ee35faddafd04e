import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseChainListing, splitCounters } from './chain-listing.js';
import { parseIptablesSave } from './parse.js';
import { parseChainNames, planTableReads } from './read-plan.js';

/** Captured in one namespace state (iptables 1.8.9, nft 1.0.6): the save, the per-chain listings, the chain names. */
const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/iptables/${name}`, import.meta.url), 'utf8');
const sections = fixture('nft-mixed.chains').split(/^## /m).slice(1).map((s) => {
  const [head, ...body] = s.split('\n');
  const [table, chain] = head!.split(' ');
  return { table: table!, chain: chain!, text: body.join('\n') };
});

describe('parseChainListing on captured iptables-nft -v -S output', () => {
  it('gives exactly what the save of the same state gives, chain by chain: specs, counters, policies, comments, targets', () => {
    const saved = parseIptablesSave(fixture('nft-mixed.save'));
    expect(sections.length).toBeGreaterThan(10);
    for (const { table, chain, text } of sections) {
      const fromSave = saved.find((t) => t.table === table)!.chains.find((c) => c.name === chain);
      expect(parseChainListing(text, chain), `${table} ${chain}`).toEqual(fromSave);
    }
  });

  it('keeps counters found inside a quoted comment, and reads counters at the end of a rule without a target', () => {
    const input = parseChainListing(sections.find((s) => s.chain === 'INPUT' && s.table === 'filter')!.text, 'INPUT')!;
    expect(input.rules[1]).toMatchObject({ comment: 'say "hi" \\ -c 1 2 -j X', target: 'ACCEPT', packets: 3, bytes: 180 });
    const admin = parseChainListing(sections.find((s) => s.chain === 'ADMIN')!.text, 'ADMIN')!;
    expect(admin.rules.map((r) => [r.spec, r.packets, r.bytes])).toEqual([['-s 192.0.2.1/32', 7, 588], ['-g ts-input', 0, 0]]);
  });

  it('splits counters only outside quotes and only as -c NUMBER NUMBER', () => {
    expect(splitCounters('-c 1 2 -j X')).toEqual({ spec: '-j X', packets: 1, bytes: 2 });
    expect(splitCounters('-m comment --comment "a -c 1 2" -c 9 10 -j X')).toEqual({ spec: '-m comment --comment "a -c 1 2" -j X', packets: 9, bytes: 10 });
    expect(splitCounters('-m comment --comment "q\\" -c 1 2" -c 3 4')).toEqual({ spec: '-m comment --comment "q\\" -c 1 2"', packets: 3, bytes: 4 });
    expect(splitCounters('-s 192.0.2.1/32 -j ACCEPT')).toEqual({ spec: '-s 192.0.2.1/32 -j ACCEPT', packets: 0, bytes: 0 });
  });

  it('is undefined for a listing of another chain or none', () => {
    expect(parseChainListing('', 'ts-input')).toBeUndefined();
    expect(parseChainListing('-N ts-forward\n', 'ts-input')).toBeUndefined();
    expect(parseChainListing('-N ts-input\n', 'ts-input')).toEqual({ name: 'ts-input', rules: [] });
  });
});

describe('planTableReads', () => {
  const listed = parseChainNames(fixture('nft-chains-ip.json'))!;
  const wants = { filter: ['ts-input', 'ts-forward'], nat: ['ts-postrouting'], mangle: ['ts-clamp', 'ts-prerouting', 'ts-mangle-out'] };
  const wanted = (w: Record<string, string[]>) => (table: string) => new Set(w[table] ?? []);

  it('beside other programs\' chains in the family reads every table chain by chain: each built-in and ts-* chain present', () => {
    expect(listed.filter((c) => c.table === 'filter').map((c) => c.name).sort()).toEqual(['ADMIN', 'FORWARD', 'INPUT', 'ts-forward', 'ts-input']);
    expect(planTableReads(listed, wanted(wants))).toEqual([
      { table: 'filter', how: 'chains', chains: ['ts-input', 'ts-forward', 'INPUT', 'FORWARD'] },
      { table: 'nat', how: 'chains', chains: ['ts-postrouting', 'POSTROUTING'] },
      { table: 'mangle', how: 'chains', chains: ['ts-clamp', 'ts-prerouting', 'ts-mangle-out', 'PREROUTING', 'FORWARD', 'OUTPUT'] },
    ]);
  });

  it('saves each table when the family holds only built-in and ts-* chains (one process per table is cheaper then)', () => {
    const alone = listed.filter((c) => !c.name.startsWith('ADMIN'));
    expect(planTableReads(alone, wanted(wants)).map((r) => r.how)).toEqual(['save', 'save', 'save']);
    // A native table of the same family counts as another program's: every save would read its rules too.
    expect(planTableReads([...alone, { table: 'admin', name: 'c0' }], wanted(wants)).map((r) => r.how)).toEqual(['chains', 'chains', 'chains']);
  });

  it('saves the whole table when a ts-* chain there is not wanted (admin jumps to it decide its fate), or when desired is unknown', () => {
    const reads = planTableReads(listed, wanted({ ...wants, filter: ['ts-input'] }));
    expect(reads[0]).toEqual({ table: 'filter', how: 'save', why: 'chain ts-forward is not wanted' });
    expect(planTableReads(listed, undefined).map((r) => r.how)).toEqual(['save', 'save', 'save']);
  });

  it('saves a table with a base chain iptables does not know (the save reports it as incompatible); skips absent tables', () => {
    const odd = [...listed, { table: 'filter', name: 'mine', hook: 'input' }];
    expect(planTableReads(odd, wanted(wants))[0]).toEqual({ table: 'filter', how: 'save', why: 'chain mine is a base chain' });
    expect(planTableReads([], wanted(wants)).map((r) => r.how)).toEqual(['absent', 'absent', 'absent']);
    expect(parseChainNames('not json')).toBeUndefined();
  });
});
