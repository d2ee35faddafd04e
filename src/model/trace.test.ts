import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/parse.js';
import { rulesetFor } from '../profiles/load.js';
import { tracePacket, TraceInputError } from './trace.js';
import type { TracePacket } from './trace.js';
import type { Hook } from './types.js';

/** The default profile, from the shipped rules/tailscale.yaml, with optional config YAML. */
function ruleset(yaml = '') {
  return rulesetFor(parseConfigText(yaml, 'test').config);
}

function trace(hook: Hook, packet: TracePacket, yaml = '') {
  return tracePacket(ruleset(yaml), hook, packet);
}

describe('tracePacket over the default profile', () => {
  it('from tailscale0 to the router → accept by tunnel-accept', () => {
    const r = trace('input', { iif: 'tailscale0', src: '100.100.0.2', dst: '100.100.0.1', proto: 'tcp', dport: 22 });
    expect(r).toMatchObject({ verdict: 'accept', rule: 'ts-input/tunnel-accept', diverted: true });
    expect(r.path).toEqual([{ chain: 'ts-input', rule: 'ts-input/tunnel-accept', matched: true, action: 'accept' }]);
  });

  it('a tailnet IPv6 (fd7a:115c:a1e0::/48) source on lan0 → drop by cgnat6-spoof; forwarded into the tunnel → cgnat6-to-tunnel', () => {
    expect(trace('input', { iif: 'lan0', src: 'fd7a:115c:a1e0::99', dst: '2001:db8:1::1', proto: 'udp', dport: 5001 })).toMatchObject({ verdict: 'drop', rule: 'ts-input/cgnat6-spoof' });
    expect(trace('forward', { iif: 'lan0', oif: 'tailscale0', src: 'fd7a:115c:a1e0::99', dst: '2001:db8:100::2', proto: 'udp', dport: 5001 })).toMatchObject({ verdict: 'drop', rule: 'ts-forward/cgnat6-to-tunnel' });
    expect(trace('input', { iif: 'tailscale0', src: 'fd7a:115c:a1e0::99', dst: '2001:db8:100::1', proto: 'udp', dport: 5001 })).toMatchObject({ verdict: 'accept', rule: 'ts-input/tunnel-accept' });
  });

  it('mssClamp: a forwarded SYN into the tunnel passes ts-clamp (clamp-mss is no verdict) and is then decided by ts-forward', () => {
    const r = trace('forward', { iif: 'lan0', oif: 'tailscale0', src: '192.0.2.2', dst: '100.100.0.2', proto: 'tcp', dport: 443 }, 'mssClamp: true');
    expect(r.path.slice(0, 2).map((s) => [s.rule, s.matched, s.action])).toEqual([['ts-clamp/mss-to-tunnel', true, 'clamp-mss'], ['ts-clamp/mss-from-tunnel', false, 'clamp-mss']]);
    expect(r).toMatchObject({ verdict: 'accept', rule: 'ts-forward/to-tunnel-accept' });
  });

  it('a spoofed 100.64.0.0/10 source on lan0 → drop by cgnat-spoof, after the exemption missed', () => {
    const r = trace('input', { iif: 'lan0', src: '100.100.0.99', dst: '192.0.2.1', proto: 'udp', dport: 5001 });
    expect(r.verdict).toBe('drop');
    expect(r.rule).toBe('ts-input/cgnat-spoof');
    expect(r.path.map((s) => [s.rule, s.matched])).toEqual([
      ['ts-input/tunnel-accept', false],
      ['ts-input/wireguard-port[41641]', false],
      ['ts-input/cgnat-exempt[100.115.92.0/23]', false],
      ['ts-input/cgnat-spoof', true],
    ]);
    expect(r.path[0]?.reason).toBe('iif lan0 is not tailscale0');
  });

  it('a ChromeOS-exempt source on lan0 → return, so tsfw does not decide', () => {
    const r = trace('input', { iif: 'lan0', src: '100.115.92.5', dst: '192.0.2.1' });
    expect(r).toMatchObject({ verdict: 'continue', rule: null });
    expect(r.path.at(-1)).toMatchObject({ rule: 'ts-input/cgnat-exempt[100.115.92.0/23]', matched: true, action: 'return' });
  });

  it('the WireGuard port from any interface → accept; another UDP port from the LAN → continue', () => {
    expect(trace('input', { iif: 'wan0', src: '198.51.100.2', dst: '198.51.100.1', proto: 'udp', dport: 41641 }).rule)
      .toBe('ts-input/wireguard-port[41641]');
    expect(trace('input', { iif: 'lan0', src: '192.0.2.2', dst: '192.0.2.1', proto: 'udp', dport: 41642 }).verdict)
      .toBe('continue');
    expect(trace('input', { iif: 'lan0', src: '192.0.2.2', dst: '192.0.2.1', proto: 'tcp', dport: 41641 }).verdict)
      .toBe('continue');
  });

  it('IPv6 from the LAN is never subject to the IPv4-only CGNAT rules', () => {
    const r = trace('input', { iif: 'lan0', src: '2001:db8:1::2', dst: '2001:db8:1::1' });
    expect(r.verdict).toBe('continue');
    expect(r.path.find((s) => s.rule === 'ts-input/cgnat-spoof')?.reason).toBe('rule is for ip only');
  });

  it('forward: from tailscale0 to the LAN is marked and accepted, keeping foreign mark bits', () => {
    const r = trace('forward', { iif: 'tailscale0', oif: 'lan0', src: '100.100.0.2', dst: '192.0.2.2', mark: 0x1 });
    expect(r).toMatchObject({ verdict: 'accept', rule: 'ts-forward/accept-marked', mark: 0x40001 });
    expect(r.path.map((s) => s.rule)).toEqual(['ts-forward/mark-from-tunnel', 'ts-forward/accept-marked']);
  });

  it('forward: a CGNAT source from the LAN into the tunnel → drop; a LAN source into the tunnel → accept', () => {
    expect(trace('forward', { iif: 'lan0', oif: 'tailscale0', src: '100.100.0.99', dst: '100.100.0.2' }).rule)
      .toBe('ts-forward/cgnat-to-tunnel');
    expect(trace('forward', { iif: 'lan0', oif: 'tailscale0', src: '192.0.2.2', dst: '100.100.0.2' }).rule)
      .toBe('ts-forward/to-tunnel-accept');
  });

  it('forward with statefulFiltering: only replies enter the tunnel from routed networks', () => {
    const yaml = 'statefulFiltering: true\n';
    const pkt = { iif: 'lan0', oif: 'tailscale0', src: '192.0.2.2', dst: '100.100.0.2' } as const;
    expect(trace('forward', pkt, yaml)).toMatchObject({ verdict: 'drop', rule: 'ts-forward/stateful-filter' });
    expect(trace('forward', { ...pkt, ctState: 'established' }, yaml).rule).toBe('ts-forward/to-tunnel-accept');
  });

  it('postrouting: marked traffic is masqueraded, unmarked continues, snat: false never masquerades', () => {
    const marked = { oif: 'lan0', src: '100.100.0.2', dst: '192.0.2.2', mark: 0x40000 };
    expect(trace('postrouting', marked)).toMatchObject({ verdict: 'masquerade', rule: 'ts-postrouting/masquerade-marked' });
    expect(trace('postrouting', { ...marked, mark: 0x80000 }).verdict).toBe('continue');
    expect(trace('postrouting', marked, 'snat: false\n').verdict).toBe('continue');
  });

  it('cgnat.mode return and off change the verdict for the spoofed source', () => {
    const pkt = { iif: 'lan0', src: '100.100.0.99', dst: '192.0.2.1' };
    expect(trace('input', pkt, 'cgnat: { mode: return }\n')).toMatchObject({ verdict: 'continue', rule: null });
    expect(trace('input', pkt, 'cgnat: { mode: off }\n').path.map((s) => s.rule)).not.toContain('ts-input/cgnat-spoof');
  });

  it('says when nothing is diverted (nodivert, off)', () => {
    expect(trace('input', { iif: 'tailscale0', src: '100.100.0.2', dst: '100.100.0.1' }, 'mode: nodivert\n'))
      .toMatchObject({ verdict: 'accept', diverted: false });
    const off = trace('input', { iif: 'tailscale0', src: '100.100.0.2', dst: '100.100.0.1' }, 'mode: off\n');
    expect(off).toMatchObject({ verdict: 'continue', diverted: false, path: [] });
    expect(off.notes.join()).toMatch(/mode off/);
  });

  it('rejects addresses that are not single hosts or mix families', () => {
    expect(() => trace('input', { src: '100.64.0.0/10', dst: '192.0.2.1' })).toThrow(TraceInputError);
    expect(() => trace('input', { src: '1.2.3', dst: '192.0.2.1' })).toThrow(TraceInputError);
    expect(() => trace('input', { src: '192.0.2.2', dst: '2001:db8::1' })).toThrow(/same address family/);
  });
});

describe('tracePacket through the connmark chains', () => {
  const ruleset = rulesetFor(parseConfigText('', 'test').config, 'on');
  const reply = { src: '198.51.100.2', dst: '198.51.100.1', iif: 'wan0', proto: 'udp', ctState: 'established' } as const;

  it('a reply of a marked connection gets the bits under the mask back, keeping its own bits outside it', () => {
    const result = tracePacket(ruleset, 'prerouting', { ...reply, mark: 0x1, ctMark: 0x80002 });
    expect(result).toMatchObject({ verdict: 'continue', rule: null, mark: 0x80001 });
    expect(result.path).toEqual([expect.objectContaining({ rule: 'ts-prerouting/connmark-restore', matched: true, action: 'restore-mark' })]);
  });

  it('an unmarked connection leaves the packet mark alone; a new packet is not restored', () => {
    expect(tracePacket(ruleset, 'prerouting', { ...reply, mark: 0x40001, ctMark: 0x2 }).mark).toBe(0x40001);
    expect(tracePacket(ruleset, 'prerouting', { ...reply, ctState: 'new', ctMark: 0x80000 }).mark).toBe(0);
  });

  it('the save on output decides nothing and changes no packet mark', () => {
    const result = tracePacket(ruleset, 'output', { src: '198.51.100.1', dst: '198.51.100.2', oif: 'wan0', proto: 'udp', mark: 0x80000 });
    expect(result).toMatchObject({ verdict: 'continue', mark: 0x80000 });
    expect(result.path.map((s) => s.rule)).toContain('ts-mangle-out/connmark-save');
  });
});
