import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../config/parse.js';
import type { ManagerWants } from '../../model/types.js';
import { parseUserRules } from '../../integrations/ufw/tuples.js';
import { checkUfw } from './ufw.js';
import type { UfwView } from './ufw.js';

const config = parseConfigText('{}', 'test').config;
const wants = (ufw: 'auto' | 'off'): ManagerWants => ({ tunnel: 'tailscale0', ports: [41641], managers: { firewalld: 'auto', ufw, docker: 'auto' } });
const view = (rules: string, loaded = true, forwardPolicy = 'drop', rules6?: string): UfwView => ({
  snapshot: { installed: true, enabled: true, ipv6: rules6 !== undefined, inputPolicy: 'drop', forwardPolicy, v4: parseUserRules(rules), v6: parseUserRules(rules6 ?? '') },
  loaded, flavour: 'iptables-nft',
});
const ALL = [
  '### tuple ### allow any any 0.0.0.0/0 any 0.0.0.0/0 in_tailscale0',
  '### tuple ### allow udp 41000:42000 0.0.0.0/0 any 0.0.0.0/0 in',
  '### tuple ### route:allow any any 0.0.0.0/0 any 0.0.0.0/0 in_tailscale0 comment=74736677',
].join('\n');

describe('checkUfw', () => {
  it('fails naming ufw when it certainly drops what tsfw accepts in inet tsfw, persistent fix first', () => {
    const c = checkUfw(view(''), 'nftables', config, wants('off'))!;
    expect(c.status).toBe('fail');
    expect(c.message).toBe('ufw drops tailnet input on tailscale0 (default drop), the WireGuard port 41641/udp (default drop), traffic routed from tailscale0 (default drop): no ufw rule allows it, and tsfw\'s accept in table inet tsfw is not final for ufw\'s iptables-nft chains');
    expect(c.fix!.split('\n')).toEqual([
      'ufw allow in on tailscale0 && ufw allow 41641/udp && ufw route allow in on tailscale0   # persistent: ufw keeps these in /etc/ufw/user.rules',
      '# or let tsfw add (and on off/cleanup remove) them itself: integrations: { ufw: auto }',
      '# or backend: iptables-nft (tsfw\'s jumps then come first in ufw\'s own chains)',
    ]);
  });

  it('confirms the fix from ufw\'s rules (an admin\'s port range counts) and says ok', () => {
    expect(checkUfw(view(ALL), 'nftables', config, wants('off'))).toMatchObject({ status: 'ok', message: expect.stringContaining('ufw is active and allows tailnet input on tailscale0') });
  });

  it('reads user6.rules too where ufw handles IPv6: a rule missing there is a drop over IPv6', () => {
    const all6 = ALL.replaceAll('0.0.0.0/0', '::/0');
    expect(checkUfw(view(ALL, true, 'drop', all6), 'nftables', config, wants('off'))!.status).toBe('ok');
    const c = checkUfw(view(ALL, true, 'drop', all6.split('\n').slice(0, 2).join('\n')), 'nftables', config, wants('off'))!;
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/^ufw drops traffic routed from tailscale0 over IPv6 \(default drop\)/);
    expect(c.fix!.split('\n')[0]).toBe('ufw route allow in on tailscale0   # persistent: ufw keeps these in /etc/ufw/user.rules');
    // A config without ip6 does not ask for IPv6 rules.
    expect(checkUfw(view(ALL, true, 'drop', ''), 'nftables', { ...config, families: ['ip'] }, wants('off'))!.status).toBe('ok');
  });

  it('is ok when tsfw\'s jumps come first in ufw\'s own chains, or nothing drops, or ufw has not loaded yet', () => {
    expect(checkUfw(view(''), 'iptables-nft', config, wants('off'))!.status).toBe('ok');
    expect(checkUfw(view(''), 'iptables-legacy', config, wants('off'))!.status).toBe('fail');
    expect(checkUfw(view(ALL.split('\n').slice(0, 2).join('\n'), true, 'accept'), 'nftables', config, wants('off'))!.status).toBe('ok');
    expect(checkUfw(view('', false), 'nftables', config, wants('off'))!.status).toBe('ok');
  });

  it('has nothing to say about a disabled ufw or outside mode on', () => {
    const v = view('');
    expect(checkUfw({ ...v, snapshot: { ...v.snapshot, enabled: false } }, 'nftables', config, wants('off'))).toBeUndefined();
    expect(checkUfw(v, 'nftables', { ...config, mode: 'nodivert' }, wants('off'))).toBeUndefined();
  });
});
