import { describe, expect, it } from 'vitest';
import type { Action, Family, Match } from '../../src/model/types.js';
import { rulesetFrom } from '../helpers/configs.js';

/**
 * The default profile must yield exactly the rules of docs/ruleset.md, in that order, per family.
 * Asserted on the expanded model (ids, families, matches, actions), not on rendered text, so a
 * renderer bug cannot hide a profile bug or the other way round.
 */

const TS0 = { name: 'tailscale0', negate: false };
const NOT_TS0 = { name: 'tailscale0', negate: true };
const CGNAT = { family: 'ip', addr: '100.64.0.0', len: 10 } as const;
const CHROMEOS = { family: 'ip', addr: '100.115.92.0', len: 23 } as const;
const ULA = { family: 'ip6', addr: 'fd7a:115c:a1e0::', len: 48 } as const;
const MARK = { value: 0x40000, mask: 0xff0000 };

interface Expected {
  readonly id: string;
  readonly match: Match;
  readonly action: Action;
  readonly only?: Family;
}

/** docs/ruleset.md line by line, with one own address per family configured so rule 1 exists. */
const SECTION_2: Readonly<Record<string, readonly Expected[]>> = {
  'ts-input': [
    { id: 'ts-input/own-address-from-lo[100.100.0.1]', only: 'ip', match: { iif: { name: 'lo', negate: false }, saddr: { family: 'ip', addr: '100.100.0.1', len: 32 } }, action: { kind: 'accept' } },
    { id: 'ts-input/own-address-from-lo[fd7a:115c:a1e0::1]', only: 'ip6', match: { iif: { name: 'lo', negate: false }, saddr: { family: 'ip6', addr: 'fd7a:115c:a1e0::1', len: 128 } }, action: { kind: 'accept' } },
    { id: 'ts-input/tunnel-accept', match: { iif: TS0 }, action: { kind: 'accept' } },
    { id: 'ts-input/wireguard-port[41641]', match: { l4proto: 'udp', dport: 41641 }, action: { kind: 'accept' } },
    { id: 'ts-input/cgnat-exempt[100.115.92.0/23]', only: 'ip', match: { iif: NOT_TS0, saddr: CHROMEOS }, action: { kind: 'return' } },
    { id: 'ts-input/cgnat-spoof', only: 'ip', match: { iif: NOT_TS0, saddr: CGNAT }, action: { kind: 'drop' } },
    { id: 'ts-input/cgnat6-spoof', only: 'ip6', match: { iif: NOT_TS0, saddr: ULA }, action: { kind: 'drop' } },
  ],
  'ts-forward': [
    { id: 'ts-forward/mark-from-tunnel', match: { iif: TS0 }, action: { kind: 'set-mark', ...MARK } },
    { id: 'ts-forward/accept-marked', match: { mark: MARK }, action: { kind: 'accept' } },
    { id: 'ts-forward/cgnat-to-tunnel', only: 'ip', match: { oif: TS0, saddr: CGNAT }, action: { kind: 'drop' } },
    { id: 'ts-forward/cgnat6-to-tunnel', only: 'ip6', match: { oif: TS0, saddr: ULA }, action: { kind: 'drop' } },
    { id: 'ts-forward/stateful-filter', match: { oif: TS0, ctState: { states: ['established', 'related'], negate: true } }, action: { kind: 'drop' } },
    { id: 'ts-forward/to-tunnel-accept', match: { oif: TS0 }, action: { kind: 'accept' } },
  ],
  'ts-prerouting': [
    { id: 'ts-prerouting/connmark-restore', match: { ctState: { states: ['established', 'related'], negate: false } }, action: { kind: 'restore-mark', mask: 0xff0000 } },
  ],
  'ts-mangle-out': [
    { id: 'ts-mangle-out/connmark-save', match: { ctState: { states: ['new'], negate: false } }, action: { kind: 'save-mark', mask: 0xff0000 } },
  ],
  'ts-postrouting': [
    { id: 'ts-postrouting/masquerade-marked', match: { mark: MARK }, action: { kind: 'masquerade' } },
  ],
};

const YAML = 'addresses: [100.100.0.1, "fd7a:115c:a1e0::1"]\nstatefulFiltering: true\n';

describe('default profile = docs/ruleset.md', () => {
  const ruleset = rulesetFrom(YAML, 'on');

  it('has the five chains, kinds and hooks, in order (the two mangle chains: connmark, mode on)', () => {
    expect(ruleset.chains.map((c) => [c.name, c.kind, c.hook])).toEqual([
      ['ts-input', 'filter', 'input'],
      ['ts-forward', 'filter', 'forward'],
      ['ts-prerouting', 'mangle', 'prerouting'],
      ['ts-mangle-out', 'mangle', 'output'],
      ['ts-postrouting', 'nat', 'postrouting'],
    ]);
  });

  for (const family of ['ip', 'ip6'] as const) {
    it(`yields exactly the §2 rules, in order, for ${family === 'ip' ? 'IPv4' : 'IPv6'}`, () => {
      for (const chain of ruleset.chains) {
        const actual = chain.rules
          .filter((r) => r.families.includes(family))
          .map((r) => ({ id: r.id, match: r.match, action: r.action }));
        const expected = (SECTION_2[chain.name] ?? [])
          .filter((e) => e.only === undefined || e.only === family)
          .map(({ id, match, action }) => ({ id, match, action }));
        expect(actual, chain.name).toEqual(expected);
      }
    });
  }

  it('pins each rule to the right families (IPv4-only rules never reach IPv6)', () => {
    const families = Object.fromEntries(ruleset.chains.flatMap((c) => c.rules.map((r) => [r.id, r.families])));
    for (const rules of Object.values(SECTION_2)) {
      for (const e of rules) expect(families[e.id], e.id).toEqual(e.only ? [e.only] : ['ip', 'ip6']);
    }
  });

  it('without addresses or stateful filtering (the shipped defaults) has no rule 1 and no stateful rule', () => {
    const ids = rulesetFrom('', 'on').chains.flatMap((c) => c.rules.map((r) => r.id));
    expect(ids).toEqual([
      'ts-input/tunnel-accept',
      'ts-input/wireguard-port[41641]',
      'ts-input/cgnat-exempt[100.115.92.0/23]',
      'ts-input/cgnat-spoof',
      'ts-input/cgnat6-spoof',
      'ts-forward/mark-from-tunnel',
      'ts-forward/accept-marked',
      'ts-forward/cgnat-to-tunnel',
      'ts-forward/cgnat6-to-tunnel',
      'ts-forward/to-tunnel-accept',
      'ts-prerouting/connmark-restore',
      'ts-mangle-out/connmark-save',
      'ts-postrouting/masquerade-marked',
    ]);
  });

  it('nodivert wants the same chains as on except the connmark ones (auto = mode on only); off wants none', () => {
    const connmarkChains = new Set(['ts-prerouting', 'ts-mangle-out']);
    expect(rulesetFrom(YAML, 'nodivert').chains).toEqual(ruleset.chains.filter((c) => !connmarkChains.has(c.name)));
    expect(rulesetFrom(`${YAML}connmark: on\n`, 'nodivert').chains).toEqual(ruleset.chains);
    expect(rulesetFrom(`${YAML}connmark: off\n`, 'on').chains).toEqual(ruleset.chains.filter((c) => !connmarkChains.has(c.name)));
    expect(rulesetFrom(YAML, 'off').chains).toEqual([]);
  });
});
