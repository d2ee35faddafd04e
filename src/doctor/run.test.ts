import { describe, expect, it } from 'vitest';
import { parseNftRuleset } from './parse-ruleset.js';
import { healthyFacts, runDoctor } from '../../test/helpers/doctor-facts.js';
import { doctorExitCode } from './run.js';
import type { DoctorFacts } from './types.js';

function doctor(over: Partial<DoctorFacts> = {}, yaml = '') {
  return runDoctor(healthyFacts(over), yaml);
}

/** nft -j list ruleset text for some tables (rules are nft JSON expressions). */
function nftJson(items: object[]): string {
  return JSON.stringify({ nftables: [{ metainfo: { version: '1.0.6' } }, ...items] });
}

describe('doctor checks', () => {
  it('a healthy router: every check ok, exit 0', () => {
    const { checks } = doctor();
    expect(checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(doctorExitCode(checks)).toBe(0);
  });

  it('fails when nft is too old or missing, or the check-only transaction fails (exit 1)', () => {
    expect(doctor({ tools: [{ binary: 'nft', available: true, output: 'nftables v0.9.8 (E.D.S.)' }] }).byId.get('backend-tools')?.status).toBe('fail');
    const missing = doctor({ tools: [{ binary: 'nft', available: false, error: 'nft: not installed' }] });
    expect(missing.byId.get('backend-tools')).toMatchObject({ status: 'fail', fix: 'apt-get install nftables' });
    const refused = doctor({ checkTransaction: { ok: false, detail: 'Error: Could not process rule: No such file or directory' } });
    expect(refused.byId.get('check-transaction')?.status).toBe('fail');
    expect(doctorExitCode(refused.checks)).toBe(1);
  });

  it('names another table\'s input chain whose policy drops tunnel traffic; accepts in it are understood', () => {
    const base = { family: 'inet', table: 'admin', name: 'input', type: 'filter', hook: 'input', prio: 0, policy: 'drop' };
    const dropping = parseNftRuleset(nftJson([{ table: { family: 'inet', name: 'admin' } }, { chain: base },
      { rule: { family: 'inet', table: 'admin', chain: 'input', expr: [{ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 22 } }, { accept: null }] } }]));
    const check = doctor({ ruleset: dropping }).byId.get('other-tables-input');
    expect(check?.status).toBe('warn');
    expect(check?.message).toMatch(/table inet admin chain input \(hook input, priority 0\) drops tailnet traffic in on tailscale0 \(policy drop\)/);
    expect(check?.message).toMatch(/the WireGuard port 41641\/udp on wan0 \(policy drop\)/);
    expect(check?.fix).toBe('nft insert rule inet admin input iifname "tailscale0" accept\nnft insert rule inet admin input udp dport 41641 accept');
    const accepting = parseNftRuleset(nftJson([{ table: { family: 'inet', name: 'admin' } }, { chain: base },
      { rule: { family: 'inet', table: 'admin', chain: 'input', expr: [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: { set: ['lo', 'tailscale0'] } } }, { accept: null }] } },
      { rule: { family: 'inet', table: 'admin', chain: 'input', expr: [{ match: { op: '==', left: { payload: { protocol: 'udp', field: 'dport' } }, right: { range: [41000, 42000] } } }, { counter: null }, { accept: null }] } }]));
    expect(doctor({ ruleset: accepting }).byId.get('other-tables-input')?.status).toBe('ok');
  });

  it('for iptables-nft tables, the fix is an iptables command (never native nft rules in ip filter)', () => {
    const rs = parseNftRuleset(nftJson([{ table: { family: 'ip', name: 'filter' } },
      { chain: { family: 'ip', table: 'filter', name: 'FORWARD', type: 'filter', hook: 'forward', prio: 0, policy: 'drop' } },
      { chain: { family: 'ip', table: 'filter', name: 'DOCKER-USER' } }]));
    const { byId } = doctor({ ruleset: rs });
    expect(byId.get('other-tables-forward')?.fix).toContain('iptables -t filter -I FORWARD -i tailscale0 -j ACCEPT');
    expect(byId.get('manager-docker')?.message).toMatch(/Docker is present \(chains DOCKER-USER in table ip filter\)/);
  });

  it('CGNAT preflight: address, route and gateway on non-tunnel interfaces, with the exact exempt list', () => {
    const { byId } = doctor({
      addresses: [{ ifname: 'wan0', family: 'inet', local: '100.72.1.5', prefixlen: 24 }, { ifname: 'tailscale0', family: 'inet', local: '100.100.0.1', prefixlen: 24 }],
      routes: [{ dst: 'default', gateway: '100.72.1.1', dev: 'wan0' }, { dst: '100.80.0.0/16', gateway: '192.0.2.254', dev: 'lan0' }, { dst: '100.100.0.0/24', dev: 'tailscale0' }],
    });
    const check = byId.get('cgnat-preflight');
    expect(check?.status).toBe('warn');
    expect(check?.message).toMatch(/address 100\.72\.1\.5\/24 on wan0, route 100\.80\.0\.0\/16 on lan0 inside/);
    expect(check?.message).not.toMatch(/gateway/); // 100.72.1.1 lies in the suggested 100.72.1.0/24
    expect(check?.fix).toBe('cgnat:\n  exempt:\n    - 100.115.92.0/23\n    - 100.72.1.0/24\n    - 100.80.0.0/16');
    const exempted = doctor({ addresses: [{ ifname: 'wan0', family: 'inet', local: '100.72.1.5', prefixlen: 24 }] }, 'cgnat: { exempt: [100.72.0.0/16] }');
    expect(exempted.byId.get('cgnat-preflight')?.status).toBe('ok');
  });

  it('forwarding off and strict rp_filter are warnings with sysctl fixes', () => {
    const { byId } = doctor({ sysctl: { 'ipv4/ip_forward': '0\n', 'ipv6/conf/all/forwarding': '1\n', 'ipv4/conf/all/rp_filter': '1\n', 'ipv4/conf/wan0/rp_filter': '0\n' } });
    expect(byId.get('forwarding')).toMatchObject({ status: 'warn' });
    expect(byId.get('forwarding')?.fix).toMatch(/^sysctl -w net\.ipv4\.ip_forward=1 /);
    expect(byId.get('rp-filter')?.message).toMatch(/strict rp_filter on tailscale0, wan0/);
    expect(byId.get('rp-filter')?.fix).toBe('sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.tailscale0.rp_filter=2 net.ipv4.conf.wan0.rp_filter=2');
  });

  it('mark collisions: foreign rules setting or matching bits inside the mask, not outside it', () => {
    const rule = (expr: object[]) => ({ rule: { family: 'inet', table: 'mangle', chain: 'pre', expr } });
    const mark = { meta: { key: 'mark' } };
    const rs = parseNftRuleset(nftJson([{ table: { family: 'inet', name: 'mangle' } }, { chain: { family: 'inet', table: 'mangle', name: 'pre' } },
      rule([{ mangle: { key: mark, value: { '|': [mark, 0x4000] } } }]),
      rule([{ mangle: { key: mark, value: { '|': [mark, 0x10000] } } }]),
      rule([{ match: { op: '==', left: { '&': [mark, 0xf0000] }, right: 0x20000 } }, { accept: null }])]));
    const check = doctor({ ruleset: rs }).byId.get('mark-collisions');
    expect(check?.status).toBe('warn');
    expect(check?.message).toMatch(/table inet mangle chain pre rule 2 sets mark bits 0x10000; table inet mangle chain pre rule 3 matches mark bits 0xf0000/);
    expect(check?.message).not.toMatch(/rule 1/);
  });

  it('a missing tunnel interface is a warning, not a failure', () => {
    const { byId, checks } = doctor({ links: ['lo', 'wan0'] });
    expect(byId.get('tunnel-interface')?.status).toBe('warn');
    expect(doctorExitCode(checks)).toBe(0);
  });

  it('default-drop output: lists the required ports it blocks (best effort)', () => {
    const rs = parseNftRuleset(nftJson([{ table: { family: 'inet', name: 'admin' } },
      { chain: { family: 'inet', table: 'admin', name: 'output', type: 'filter', hook: 'output', prio: 0, policy: 'drop' } },
      { rule: { family: 'inet', table: 'admin', chain: 'output', expr: [{ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: { set: [80, 443] } } }, { accept: null }] } }]));
    const check = doctor({ ruleset: rs }).byId.get('required-ports');
    expect(check?.status).toBe('warn');
    expect(check?.message).toMatch(/WireGuard out from 41641\/udp \(policy drop\), STUN out to 3478\/udp \(policy drop\)/);
    expect(check?.message).not.toMatch(/HTTPS|HTTP out/);
    expect(check?.fix).toBe('nft insert rule inet admin output udp sport 41641 accept\nnft insert rule inet admin output udp dport 3478 accept');
  });
});
