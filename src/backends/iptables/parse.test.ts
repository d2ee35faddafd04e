import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Config } from '../../config/schema.js';
import { rulesetFor } from '../../profiles/load.js';
import { IncompatibleTableError, parseIptablesSave, ruleFrom, ruleLine, taggedJumps, tokenize } from './parse.js';
import { desiredIptTables } from './render.js';

/** Captured from real iptables-save runs (Debian 12, iptables 1.8.9) in a test namespace. */
const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/iptables/${name}`, import.meta.url), 'utf8');

describe('parseIptablesSave on captured output', () => {
  it('reads both tables of a legacy dump with policies, counters, comments and targets', () => {
    const tables = parseIptablesSave(fixture('legacy4-converged.save'));
    expect(tables.map((t) => t.table)).toEqual(['filter', 'nat']);
    const filter = tables[0]!;
    expect(filter.chains.map((c) => [c.name, c.policy])).toEqual([
      ['INPUT', 'ACCEPT'], ['FORWARD', 'ACCEPT'], ['OUTPUT', 'ACCEPT'], ['ts-forward', undefined], ['ts-input', undefined],
    ]);
    const [jump] = taggedJumps(filter.chains.find((c) => c.name === 'INPUT'));
    expect(jump).toEqual({ chain: 'INPUT', spec: '-m comment --comment "tsfw:jump" -j ts-input', comment: 'tsfw:jump', target: 'ts-input', packets: 4, bytes: 336 });
    const nat = tables[1]!;
    const postrouting = nat.chains.find((c) => c.name === 'POSTROUTING')!;
    expect(postrouting.rules.map((r) => [r.comment, r.target])).toEqual([['tsfw:jump', 'ts-postrouting'], [undefined, 'MASQUERADE']]);
  });

  it('lists exactly the lines the renderer writes for a converged system (both families)', () => {
    const desired = desiredIptTables(rulesetFor(Config.parse({ connmark: 'off' }), 'on'));
    for (const [family, file] of [['ip', 'legacy4-converged.save'], ['ip6', 'legacy6-converged.save']] as const) {
      const seen = parseIptablesSave(fixture(file));
      for (const want of desired.filter((t) => t.family === family)) {
        const chains = seen.find((t) => t.table === want.table)!.chains;
        for (const chain of want.chains) {
          expect(chains.find((c) => c.name === chain.name)!.rules.map(ruleLine)).toEqual(chain.rules.map((r) => r.line));
        }
      }
    }
  });

  it('unquotes escaped comments and keeps the spec verbatim for -D', () => {
    const [filter] = parseIptablesSave(fixture('nft-filter-drifted.save'));
    const docker = filter!.chains.find((c) => c.name === 'DOCKER-USER')!.rules[0]!;
    expect(docker.comment).toBe('an "admin" note');
    expect(docker.target).toBe('ts-forward');
    expect(docker.spec).toBe('-m comment --comment "an \\"admin\\" note" -j ts-forward');
    expect(filter!.chains.find((c) => c.name === 'INPUT')!.policy).toBe('DROP');
    expect(taggedJumps(filter!.chains.find((c) => c.name === 'INPUT'))).toHaveLength(2);
  });

  it('refuses a table iptables-nft-save says it cannot show', () => {
    expect(() => parseIptablesSave(fixture('nft-filter-incompatible.save'))).toThrow(IncompatibleTableError);
    expect(() => parseIptablesSave("# Table `nat' contains incompatible base-chains, use 'nft' tool to list them.\n")).toThrow(/table nat/);
  });

  it('reads output without counters and an empty dump', () => {
    const [t] = parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ts-input\nCOMMIT\n');
    expect(t!.chains[0]!.rules[0]).toMatchObject({ spec: '-j ts-input', target: 'ts-input', packets: 0 });
    expect(parseIptablesSave('')).toEqual([]);
  });
});

describe('tokenize', () => {
  it('splits on blanks, honours quotes and backslash escapes, keeps empty quoted words', () => {
    expect(tokenize('-m comment --comment "a \\"b\\" c" -j X')).toEqual(['-m', 'comment', '--comment', 'a "b" c', '-j', 'X']);
    expect(tokenize('--comment ""')).toEqual(['--comment', '']);
  });
});

describe('ruleFrom', () => {
  /** The tokenizing reading every spec once went through: the first comment, the last target. */
  const reference = (spec: string) => {
    const tokens = tokenize(spec);
    let comment: string | undefined;
    let target: string | undefined;
    for (let i = 0; i < tokens.length - 1; i++) {
      if (tokens[i] === '--comment' && comment === undefined) comment = tokens[i + 1];
      if (tokens[i] === '-j' || tokens[i] === '-g') target = tokens[i + 1];
    }
    return { comment, target };
  };

  it('finds the same comment and target without tokenizing an unquoted spec', () => {
    const specs = [
      '-j ACCEPT', '-g ts-input', '-s 192.0.2.1/32', '-s 192.0.2.1/32 -p tcp -m tcp --dport 22 -j ACCEPT',
      '-m comment --comment tsfw:jump -j ts-input', '-j MARK --set-xmark 0x40000/0xff0000', '-m comment --comment a -m comment --comment b -g X',
      '-j DNAT --to-destination 192.0.2.10:80', '-m set --match-set x-j src -j RETURN', '-i eth0 -j', '--comment',
      ...['legacy4-converged.save', 'nft-mixed.save', 'nft-nat.save'].flatMap((f) => fixture(f).split('\n').filter((l) => l.includes('-A ') && !l.includes('"')).map((l) => l.replace(/^(\[\d+:\d+\] )?-A \S+ /, ''))),
    ];
    for (const spec of specs) {
      const rule = ruleFrom('X', spec, 0, 0);
      expect({ comment: rule.comment, target: rule.target }, spec).toEqual(reference(spec));
    }
  });
});
