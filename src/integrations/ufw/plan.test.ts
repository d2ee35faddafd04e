import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ManagerWants } from '../../model/types.js';
import { setting } from './files.js';
import { itemState, ownedItems, planEnsure, planUndo, ufwArgs, wantedItems } from './plan.js';
import type { UfwSnapshot } from './plan.js';
import { hexComment, parseUserRules } from './tuples.js';

const fixture = readFileSync(new URL('../../../test/fixtures/ufw/user.rules', import.meta.url), 'utf8');
const wants: ManagerWants = { tunnel: 'tailscale0', ports: [41641, 41642], managers: { firewalld: 'auto', ufw: 'auto', docker: 'auto' } };
const snap = (v4: string, v6 = '', ipv6 = false): UfwSnapshot => ({ installed: true, enabled: true, ipv6, v4: parseUserRules(v4), v6: parseUserRules(v6) });
const tuple = (body: string, comment = 'tsfw') => `### tuple ### ${body}${comment ? ` comment=${hexComment(comment)}` : ''}\n`;

describe('ufw tuples', () => {
  it('parses ufw 0.36 tuple lines: plain, application and two-interface rules, comments decoded', () => {
    const t = parseUserRules(fixture);
    expect(t).toHaveLength(5);
    expect(t[0]).toEqual({ action: 'allow', proto: 'any', dport: 'any', dst: '0.0.0.0/0', sport: 'any', src: '0.0.0.0/0', ifaces: 'in_tailscale0', comment: 'tsfw' });
    expect(t[2]!.comment).toBe('');
    expect(t[3]).toMatchObject({ apps: ['Nginx%20Full', '-'], ifaces: 'in', comment: 'web' });
    expect(t[4]).toMatchObject({ action: 'route:allow', ifaces: 'in_tailscale0 out_lan0' });
    expect(hexComment('tsfw')).toBe('74736677');
  });

  it('reads KEY=value settings as ufw does (quotes stripped, the last one wins)', () => {
    expect(setting('ENABLED=no\n# x\nENABLED=yes\n', 'ENABLED')).toBe('yes');
    expect(setting('DEFAULT_INPUT_POLICY="DROP"', 'DEFAULT_INPUT_POLICY')).toBe('drop');
    expect(setting(undefined, 'ENABLED')).toBeUndefined();
  });
});

describe('ufw plan', () => {
  it('wants the tunnel input, one udp port each and the tunnel forwarding, as ufw commands with the tsfw comment', () => {
    const items = wantedItems(wants);
    expect(items.map((i) => ufwArgs(i, 'add').join(' '))).toEqual([
      'allow in on tailscale0 comment tsfw',
      'allow 41641/udp comment tsfw',
      'allow 41642/udp comment tsfw',
      'route allow in on tailscale0 comment tsfw',
    ]);
    expect(items.map((i) => ufwArgs(i, 'remove').join(' '))).toEqual([
      'delete allow in on tailscale0 comment tsfw',
      'delete allow 41641/udp comment tsfw',
      'delete allow 41642/udp comment tsfw',
      'route delete allow in on tailscale0 comment tsfw',
    ]);
  });

  it('adds only what is missing: a converged ufw gets no command', () => {
    expect(planEnsure(wants, [], snap(fixture)).add.map((i) => i.value)).toEqual(['41642/udp', 'tailscale0']);
    const all = wantedItems(wants).map((i) => tuple(i.kind === 'port' ? `allow udp ${i.value.split('/')[0]} 0.0.0.0/0 any 0.0.0.0/0 in` : `${i.kind === 'route-in' ? 'route:' : ''}allow any any 0.0.0.0/0 any 0.0.0.0/0 in_tailscale0`)).join('');
    expect(planEnsure(wants, wantedItems(wants), snap(all))).toEqual({ add: [], remove: [] });
  });

  it('never adds or deletes a rule the admin has (same rule, other comment or none)', () => {
    const admins = snap(tuple('allow udp 41641 0.0.0.0/0 any 0.0.0.0/0 in', '') + tuple('allow udp 41642 0.0.0.0/0 any 0.0.0.0/0 in', 'mine'));
    const port = wantedItems(wants)[1]!;
    expect(itemState(port, admins)).toBe('admins');
    expect(planEnsure(wants, [], admins).add.map((i) => i.value)).toEqual(['tailscale0', 'tailscale0']);
    expect(planUndo([port], admins)).toEqual([]);
    expect(ownedItems([port], admins)).toEqual([]);
  });

  it('with IPv6 on, an item is complete only with its user6.rules tuple too', () => {
    const v4 = tuple('allow any any 0.0.0.0/0 any 0.0.0.0/0 in_tailscale0');
    const item = wantedItems(wants)[0]!;
    expect(itemState(item, snap(v4, '', true))).toBe('partly-ours');
    expect(itemState(item, snap(v4, tuple('allow any any ::/0 any ::/0 in_tailscale0'), true))).toBe('ours');
    expect(itemState(item, snap(v4, '', false))).toBe('ours');
  });

  it('removes recorded items that are no longer wanted (a port gone from the config), and only those', () => {
    const old = { kind: 'port', value: '41700/udp', permanent: true };
    const s = snap(fixture + tuple('allow udp 41700 0.0.0.0/0 any 0.0.0.0/0 in'));
    expect(planEnsure(wants, [old], s).remove).toEqual([old]);
    expect(planUndo([old, { kind: 'port', value: '9/udp', permanent: true }], s)).toEqual([old]);
  });
});
