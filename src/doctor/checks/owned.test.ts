import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../../backends/iptables/parse.js';
import { parseNftRuleset } from '../parse-ruleset.js';
import { healthyFacts, runDoctor } from '../../../test/helpers/doctor-facts.js';
import { doctorExitCode } from '../run.js';
import type { DoctorFacts } from '../types.js';
import { ownership } from './owned.js';

/**
 * tsfw's own objects are never findings. Fixtures captured from a namespace router after
 * `tsfw apply` with `backend: iptables-nft` (default config): `nft -j list ruleset` and both
 * families' iptables-nft-save, where tsfw's `ts-*` chains and `tsfw:jump` rules live in ip/ip6
 * filter and nat beside the built-in chains.
 */

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/doctor/${name}`, import.meta.url), 'utf8');
const RULESET = parseNftRuleset(fixture('iptables-nft-on.ruleset.json'));
const SAVES = (strip = false) => (['ip', 'ip6'] as const).map((family) => {
  const text = fixture(`iptables-nft-on.${family}.save`);
  // tailscaled writes the same chain names and rules, without tsfw's comments.
  return { family, tables: parseIptablesSave(strip ? text.replace(/ -m comment --comment "tsfw:[^"]*"/g, '') : text) };
});

function doctor(over: Partial<DoctorFacts> = {}) {
  return runDoctor(healthyFacts({
    configuredBackend: 'iptables-nft',
    backend: 'iptables-nft',
    tools: ['iptables', 'iptables-nft', 'ip6tables-nft', 'iptables-nft-restore', 'ip6tables-nft-restore']
      .map((binary) => ({ binary, available: true, output: 'iptables v1.8.9 (nf_tables)' })),
    ruleset: RULESET,
    xtablesSaves: SAVES(),
    ...over,
  }), 'backend: iptables-nft\n');
}

describe('doctor: tsfw\'s own objects on iptables-nft', () => {
  it('a plain router after apply: no finding at all, exit 0', () => {
    const { checks } = doctor();
    expect(checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(doctorExitCode(checks)).toBe(0);
  });

  it('ts-* chains tagged tsfw: are tsfw\'s, not tailscaled\'s; the same chains without the tags are tailscaled\'s', () => {
    expect(doctor().byId.get('managers')?.status).toBe('ok');
    const tailscaled = doctor({ xtablesSaves: SAVES(true) }).byId.get('manager-tailscaled');
    expect(tailscaled?.status).toBe('warn');
    expect(tailscaled?.message).toContain('chains ts-input, ts-forward in table ip filter');
  });

  it('tsfw\'s MARK rules and mark matches are not collisions; another program\'s are', () => {
    expect(doctor().byId.get('mark-collisions')?.status).toBe('ok');
    const marks = doctor({ xtablesSaves: SAVES(true) }).byId.get('mark-collisions');
    expect(marks?.status).toBe('warn');
    expect(marks?.message).toContain('table ip filter chain ts-forward rule 1 uses an xtables MARK/mark extension');
  });

  it('forward: the jump into tsfw\'s chain is decided by tsfw\'s own rules, not "not understood"', () => {
    const { byId } = doctor();
    expect(byId.get('other-tables-forward')?.status).toBe('ok');
    // Without the saves the chains cannot be proven tsfw's, and the xtables MARK stays opaque.
    expect(doctor({ xtablesSaves: [] }).byId.get('other-tables-forward')?.message).toMatch(/rule 1 in chain ts-forward \(not understood\)/);
  });

  it('an admin drop in FORWARD below tsfw\'s jump does not matter; one above it does', () => {
    const withRule = (position: 'first' | 'last') => {
      const text = fixture('iptables-nft-on.ruleset.json');
      const doc = JSON.parse(text) as { nftables: Record<string, unknown>[] };
      const drop = { rule: { family: 'ip', table: 'filter', chain: 'FORWARD', handle: 999, expr: [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'tailscale0' } }, { counter: { packets: 0, bytes: 0 } }, { drop: null }] } };
      const at = doc.nftables.findIndex((i) => (i.rule as { chain?: string; family?: string } | undefined)?.chain === 'FORWARD' && (i.rule as { family: string }).family === 'ip');
      doc.nftables.splice(position === 'first' ? at : at + 1, 0, drop);
      // The save shows the same order: tsfw's jump is the first or the second FORWARD rule.
      const saves = SAVES().map((d) => (d.family !== 'ip' ? d : {
        family: d.family,
        tables: parseIptablesSave(fixture('iptables-nft-on.ip.save').replace('-A FORWARD -m comment', position === 'first' ? '-A FORWARD -i tailscale0 -j DROP\n-A FORWARD -m comment' : '-A FORWARD -m comment').replace(/(-A FORWARD -m comment --comment "tsfw:jump" -j ts-forward)/, position === 'last' ? '$1\n-A FORWARD -i tailscale0 -j DROP' : '$1')),
      }));
      return doctor({ ruleset: parseNftRuleset(JSON.stringify(doc)), xtablesSaves: saves }).byId.get('other-tables-forward');
    };
    expect(withRule('last')?.status).toBe('ok');
    expect(withRule('first')).toMatchObject({ status: 'warn', message: expect.stringMatching(/table ip filter chain FORWARD .* drops traffic routed from tailscale0 to lan0 \(rule 1 in chain FORWARD\)/) });
  });

  it('ownership: tagged jumps in built-in chains and rules in tsfw\'s chains, nothing of the admin\'s', () => {
    const own = ownership(doctor().input);
    const filter = RULESET.tables.find((t) => t.family === 'ip' && t.name === 'filter')!;
    const forward = filter.chains.find((c) => c.name === 'FORWARD')!;
    expect(own.rule('ip', 'filter', 'FORWARD', 0, forward.rules[0]!)).toBe(true);
    expect(own.chain('ip', 'filter', 'ts-forward')).toBe(true);
    expect(own.chain('ip', 'filter', 'FORWARD')).toBe(false);
    expect(own.chain('inet', 'admin', 'ts-forward')).toBe(false);
    expect(own.chain('inet', 'tsfw', 'anything')).toBe(true);
  });
});
