import { describe, expect, it } from 'vitest';
import { nftFixture as fixture } from '../../../test/helpers/fixtures.js';
import { jumpTargets, parseNftTable } from './parse.js';

describe('parseNftTable on captured nft 1.0.6 output', () => {
  const everything = parseNftTable(fixture('on-everything.list.json'), 'tsfw');

  it('reads the table, every chain in order and each base chain registration', () => {
    expect(everything.exists).toBe(true);
    expect(everything.chains.map((c) => c.name)).toEqual([
      'ts-input', 'ts-forward', 'ts-clamp', 'ts-postrouting', 'tsfw-filter-input', 'tsfw-filter-forward', 'tsfw-mangle-forward', 'tsfw-nat-postrouting',
    ]);
    expect(everything.chains.find((c) => c.name === 'tsfw-mangle-forward')?.base).toEqual({ type: 'filter', hook: 'forward', prio: -150, policy: 'accept' });
    expect(everything.chains.find((c) => c.name === 'ts-input')?.base).toBeUndefined();
    expect(everything.chains.find((c) => c.name === 'tsfw-nat-postrouting')?.base).toEqual({ type: 'nat', hook: 'postrouting', prio: 90, policy: 'accept' });
    expect(everything.chains.find((c) => c.name === 'tsfw-filter-forward')?.base).toEqual({ type: 'filter', hook: 'forward', prio: -10, policy: 'accept' });
    expect(everything.otherObjects).toEqual([]);
  });

  it('splits counters out of the rule and zeroes them, so a busy rule still compares equal', () => {
    const rule = everything.chains[0]!.rules.find((r) => r.comment === 'tsfw:ts-input/wireguard-port[41641]');
    expect(rule).toMatchObject({ packets: 2, bytes: 60 });
    expect(rule?.expr).toContainEqual({ counter: { packets: 0, bytes: 0 } });
    expect(JSON.stringify(rule?.expr)).not.toContain('"packets":2');
    const idle = everything.chains[0]!.rules.find((r) => r.comment === 'tsfw:ts-input/tunnel-accept');
    expect(idle).toMatchObject({ packets: 0, bytes: 0 });
  });

  it('keeps every comment (they carry the rule ids) and each handle', () => {
    const input = everything.chains[0]!.rules;
    expect(input.map((r) => r.comment)).toEqual([
      'tsfw:ts-input/own-address-from-lo[100.100.0.1]',
      'tsfw:ts-input/own-address-from-lo[fd7a:115c:a1e0::1]',
      'tsfw:ts-input/tunnel-accept',
      'tsfw:ts-input/wireguard-port[41641]',
      'tsfw:ts-input/wireguard-port[41642]',
      'tsfw:ts-input/cgnat-exempt[100.115.92.0/23]',
      'tsfw:ts-input/cgnat-exempt[100.127.0.0/16]',
      'tsfw:ts-input/cgnat-spoof',
      'tsfw:ts-input/cgnat6-exempt[fd7a:115c:a1e0:ab12::/64]',
      'tsfw:ts-input/cgnat6-spoof',
    ]);
    const handles = everything.chains.flatMap((c) => c.rules.map((r) => r.handle));
    expect(handles.every((h) => Number.isInteger(h) && h > 0)).toBe(true);
    expect(new Set(handles).size).toBe(handles.length);
  });

  it('reports the admin\'s set as a foreign object and keeps the admin\'s chains and uncommented rules', () => {
    const admin = parseNftTable(fixture('nodivert-admin.list.json'), 'tsfw');
    expect(admin.otherObjects).toEqual(['set admin-allow']);
    const chain = admin.chains.find((c) => c.name === 'admin-input');
    expect(chain?.base).toEqual({ type: 'filter', hook: 'input', prio: 0, policy: 'accept' });
    expect(chain?.rules.map((r) => r.comment)).toEqual([undefined, 'admin: trusted hosts']);
    expect(jumpTargets(chain?.rules ?? [])).toEqual(new Set(['ts-input']));
    expect(admin.chains.find((c) => c.name === 'admin-helper')?.rules).toHaveLength(1);
  });

  it('ignores objects of other tables and reports a table that is not there as absent', () => {
    expect(parseNftTable(fixture('on-ip.list.json'), 'other')).toEqual({ exists: false, chains: [], otherObjects: [] });
    expect(parseNftTable('{"nftables":[{"metainfo":{"version":"1.0.6"}}]}', 'tsfw').exists).toBe(false);
  });

  it('lists single-family rules with the nfproto match the renderer writes', () => {
    const ip6 = parseNftTable(fixture('on-ip6.list.json'), 'tsfw');
    const tunnel = ip6.chains[0]!.rules.find((r) => r.comment === 'tsfw:ts-input/tunnel-accept');
    expect(tunnel?.expr).toContainEqual({ match: { op: '==', left: { meta: { key: 'nfproto' } }, right: 'ipv6' } });
  });
});
