import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/parse.js';
import { concreteConfig } from '../discovery/facts.js';
import type { Chain, Rule } from '../model/types.js';
import { expandProfile, ProfileError } from './expand.js';
import { loadProfile, parseProfile } from './load.js';

const tailscale = loadProfile('tailscale');

function expand(yaml: string): Chain[] {
  return expandProfile(tailscale, concreteConfig(parseConfigText(yaml, 'test').config));
}

function rules(yaml: string, chain: string): readonly Rule[] {
  return expand(yaml).find((c) => c.name === chain)?.rules ?? [];
}

function ids(yaml: string, chain: string): string[] {
  return rules(yaml, chain).map((r) => r.id);
}

function byId(yaml: string, id: string): Rule | undefined {
  return expand(yaml).flatMap((c) => c.rules).find((r) => r.id === id);
}

/** The ProfileError's problems, or a failure when nothing (or something else) was thrown. */
function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProfileError) return error.problems;
    throw error;
  }
  throw new Error('expected a ProfileError');
}

describe('profile toggles', () => {
  it('cgnat.mode drop | return | off decides the anti-spoof verdicts and whether the CGNAT rules exist', () => {
    expect(byId('cgnat: { mode: drop }', 'ts-input/cgnat-spoof')?.action).toEqual({ kind: 'drop' });
    expect(byId('cgnat: { mode: drop }', 'ts-forward/cgnat-to-tunnel')?.action).toEqual({ kind: 'drop' });
    expect(byId('cgnat: { mode: return }', 'ts-input/cgnat-spoof')?.action).toEqual({ kind: 'return' });
    expect(byId('cgnat: { mode: return }', 'ts-forward/cgnat-to-tunnel')?.action).toEqual({ kind: 'return' });
    expect(ids('cgnat: { mode: off }', 'ts-input')).toEqual(['ts-input/tunnel-accept', 'ts-input/wireguard-port[41641]']);
    expect(ids('cgnat: { mode: off }', 'ts-forward')).not.toContain('ts-forward/cgnat-to-tunnel');
  });

  it('cgnat range and exemptions come from the config, one exemption rule each, before the spoof rule', () => {
    const yaml = 'cgnat: { range: 100.64.0.0/12, exempt: [100.65.0.0/16, 100.66.1.0/24] }';
    expect(ids(yaml, 'ts-input').slice(2)).toEqual([
      'ts-input/cgnat-exempt[100.65.0.0/16]', 'ts-input/cgnat-exempt[100.66.1.0/24]', 'ts-input/cgnat-spoof', 'ts-input/cgnat6-spoof',
    ]);
    expect(byId(yaml, 'ts-input/cgnat-spoof')?.match.saddr).toEqual({ family: 'ip', addr: '100.64.0.0', len: 12 });
    expect(ids('cgnat: { exempt: [] }', 'ts-input')).not.toContain('ts-input/cgnat-exempt[100.115.92.0/23]');
  });

  it('cgnat.range6 and exempt6: IPv6-only rules with the same mode, exemptions before the drop', () => {
    const yaml = 'cgnat: { mode: return, range6: "fd7a:115c:a1e0::/48", exempt6: ["fd7a:115c:a1e0:ab12::/64"] }';
    expect(ids(yaml, 'ts-input').slice(-2)).toEqual(['ts-input/cgnat6-exempt[fd7a:115c:a1e0:ab12::/64]', 'ts-input/cgnat6-spoof']);
    expect(byId(yaml, 'ts-input/cgnat6-spoof')).toMatchObject({ families: ['ip6'], action: { kind: 'return' }, match: { iif: { name: 'tailscale0', negate: true } } });
    expect(byId(yaml, 'ts-forward/cgnat6-to-tunnel')).toMatchObject({ families: ['ip6'], action: { kind: 'return' }, match: { oif: { name: 'tailscale0', negate: false } } });
    expect(expand('cgnat: { mode: off }').flatMap((c) => c.rules).some((r) => r.id.includes('cgnat6'))).toBe(false);
  });

  it('acceptTunnelInput switches the tunnel accept rule only', () => {
    expect(ids('acceptTunnelInput: false', 'ts-input')).toEqual(ids('', 'ts-input').filter((id) => id !== 'ts-input/tunnel-accept'));
    expect(ids('acceptTunnelInput: true', 'ts-input')).toContain('ts-input/tunnel-accept');
  });

  it('ports: one UDP accept per port, in config order; none when the list is empty', () => {
    expect(rules('ports: [443, 41641]', 'ts-input').filter((r) => r.id.startsWith('ts-input/wireguard-port')))
      .toEqual([443, 41641].map((port) => ({
        id: `ts-input/wireguard-port[${port}]`,
        families: ['ip', 'ip6'],
        match: { l4proto: 'udp', dport: port },
        action: { kind: 'accept' },
      })));
    expect(ids('ports: []', 'ts-input').some((id) => id.includes('wireguard-port'))).toBe(false);
  });

  it('snat switches masquerade; statefulFiltering adds its drop before the final accept', () => {
    expect(ids('snat: false', 'ts-postrouting')).toEqual([]);
    expect(ids('snat: true', 'ts-postrouting')).toEqual(['ts-postrouting/masquerade-marked']);
    expect(ids('statefulFiltering: false', 'ts-forward')).not.toContain('ts-forward/stateful-filter');
    expect(ids('statefulFiltering: true', 'ts-forward').slice(-2)).toEqual(['ts-forward/stateful-filter', 'ts-forward/to-tunnel-accept']);
  });

  it('addresses: one loopback accept per address, pinned to its family, dropped when the family is off', () => {
    const yaml = (families: string) => `families: ${families}\naddresses: [100.100.0.1, "fd7a:115c:a1e0::1", 2001:db8::/64]`;
    const own = (families: string) => rules(yaml(families), 'ts-input').filter((r) => r.id.includes('own-address'));
    expect(own('[ip, ip6]').map((r) => [r.id, r.families])).toEqual([
      ['ts-input/own-address-from-lo[100.100.0.1]', ['ip']],
      ['ts-input/own-address-from-lo[fd7a:115c:a1e0::1]', ['ip6']],
      ['ts-input/own-address-from-lo[2001:db8::/64]', ['ip6']],
    ]);
    expect(own('[ip]').map((r) => r.id)).toEqual(['ts-input/own-address-from-lo[100.100.0.1]']);
    expect(own('[ip6]').map((r) => r.families)).toEqual([['ip6'], ['ip6']]);
    expect(own('[ip6]')[1]?.match.saddr).toEqual({ family: 'ip6', addr: '2001:db8::', len: 64 });
  });

  it('families [ip6] removes the IPv4-only rules and narrows every other rule', () => {
    const all = expand('families: [ip6]').flatMap((c) => c.rules);
    expect(all.filter((r) => r.id.includes('cgnat')).map((r) => r.id)).toEqual(['ts-input/cgnat6-spoof', 'ts-forward/cgnat6-to-tunnel']);
    expect(all.every((r) => r.families.length === 1 && r.families[0] === 'ip6')).toBe(true);
  });

  it('interface and marks are filled from the config', () => {
    const yaml = 'interface: wg0\nmarks: { subnetRoute: 0x100, mask: 0xf00 }';
    expect(byId(yaml, 'ts-forward/mark-from-tunnel')).toMatchObject({
      match: { iif: { name: 'wg0', negate: false } },
      action: { kind: 'set-mark', value: 0x100, mask: 0xf00 },
    });
    expect(byId(yaml, 'ts-forward/accept-marked')?.match.mark).toEqual({ value: 0x100, mask: 0xf00 });
    expect(byId(yaml, 'ts-input/cgnat-spoof')?.match.iif).toEqual({ name: 'wg0', negate: true });
  });
});

const profileWith = (rule: string) => `profile: test
description: a profile under test
chains:
  - name: ts-test
    kind: filter
    hook: input
    rules:
      - id: first
        why: a valid rule before the broken one
        action: accept
${rule}`;

describe('invalid profiles give a ProfileError naming the rule', () => {
  const config = parseConfigText('', 'test').config;
  const expandText = (rule: string) => () => expandProfile(parseProfile(profileWith(rule), 'rules/test.yaml'), concreteConfig(config));

  it('a template naming no config value', () => {
    const problems = problemsOf(expandText('      - id: broken\n        why: typo\n        match: { iif: "{interfase}" }\n        action: accept\n'));
    expect(problems).toEqual(['test: chains[0].rules[1] (broken).match.iif: template {interfase} is not a config value']);
  });

  it('forEach over something that is not a list', () => {
    const problems = problemsOf(expandText('      - id: loop\n        why: bad\n        forEach: interface\n        action: accept\n'));
    expect(problems[0]).toMatch(/^test: chains\[0\]\.rules\[1\] \(loop\)\.forEach: interface is not a list/);
  });

  it('an unknown key in a rule or a match', () => {
    expect(problemsOf(expandText('      - id: extra\n        why: x\n        verdict: accept\n        action: accept\n')))
      .toEqual(['rules/test.yaml: chains[0].rules[1].verdict: unknown key']);
    expect(problemsOf(expandText('      - id: extra\n        why: x\n        match: { iff: lo }\n        action: accept\n')))
      .toEqual(['rules/test.yaml: chains[0].rules[1].match.iff: unknown key']);
  });

  it('a bad action, and a set-mark outside its mask', () => {
    const bad = problemsOf(expandText('      - id: rejecting\n        why: x\n        action: reject\n'));
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatch(/^test: chains\[0\]\.rules\[1\] \(rejecting\)\.action: must be accept, drop, return, masquerade/);
    const mark = problemsOf(expandText('      - id: marking\n        why: x\n        action: { setMark: 0x100, mask: 0xf0 }\n'));
    expect(mark[0]).toMatch(/^test: chains\[0\]\.rules\[1\] \(marking\)\.action: setMark must lie inside a non-zero mask/);
  });

  it('a concrete match that is invalid after filling (bad CIDR, port without l4proto, bad interface)', () => {
    expect(problemsOf(expandText('      - id: cidr\n        why: x\n        match: { saddr: 100.64.0.1/10 }\n        action: drop\n'))[0])
      .toMatch(/^test: chains\[0\]\.rules\[1\] \(cidr\)\.match\.saddr: host bits set/);
    expect(problemsOf(expandText('      - id: port\n        why: x\n        match: { dport: 53 }\n        action: drop\n'))[0])
      .toMatch(/^test: chains\[0\]\.rules\[1\] \(port\)\.match: a port match needs l4proto/);
    expect(problemsOf(expandText('      - id: iface\n        why: x\n        match: { iif: "eth0;" }\n        action: drop\n'))[0])
      .toMatch(/^test: chains\[0\]\.rules\[1\] \(iface\)\.match\.iif: "eth0;" must be 1-15 characters/);
  });

  it('a bad rule id or chain name fails when the profile is parsed', () => {
    expect(problemsOf(expandText('      - id: Bad_Id\n        why: x\n        action: accept\n'))[0])
      .toMatch(/^rules\/test\.yaml: chains\[0\]\.rules\[1\]\.id: must be lowercase/);
    expect(problemsOf(() => parseProfile(profileWith('').replace('ts-test', 'input'), 'rules/test.yaml'))[0])
      .toMatch(/^rules\/test\.yaml: chains\[0\]\.name: must be "ts-"/);
  });
});
