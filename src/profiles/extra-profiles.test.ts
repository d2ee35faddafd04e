import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/parse.js';
import { ConfigError } from '../config/errors.js';
import { tracePacket } from '../model/trace.js';
import { rulesetFor } from './load.js';
import { ConcreteMatch } from './schema.js';

const LOCKDOWN = `
profiles: [tailscale, lockdown]
lockdown:
  managementPorts:
    - { interface: lan0, port: 22 }
`;

function ruleset(yaml: string) {
  return rulesetFor(parseConfigText(yaml, 'test').config);
}

describe('lockdown profile', () => {
  const rs = ruleset(LOCKDOWN);
  const chain = rs.chains.find((c) => c.name === 'ts-lockdown-input');

  it('has its own input chain, evaluated after ts-input, ending in the drop', () => {
    expect(rs.chains.map((c) => c.name)).toEqual(['ts-input', 'ts-forward', 'ts-prerouting', 'ts-mangle-out', 'ts-postrouting', 'ts-lockdown-input']);
    expect(chain?.hook).toBe('input');
    expect(chain?.rules.map((r) => r.id)).toEqual([
      'ts-lockdown-input/established',
      'ts-lockdown-input/loopback',
      'ts-lockdown-input/tunnel',
      'ts-lockdown-input/icmpv6',
      'ts-lockdown-input/wireguard-port[41641]',
      'ts-lockdown-input/management-port[lan0/tcp/22]',
      'ts-lockdown-input/drop-rest',
    ]);
    expect(chain?.rules.at(-1)).toMatchObject({ match: {}, action: { kind: 'drop' } });
    expect(chain?.rules.find((r) => r.id.endsWith('/icmpv6'))?.families).toEqual(['ip6']);
  });

  it('WAN traffic to an unlisted port → drop by drop-rest', () => {
    const r = tracePacket(rs, 'input', { iif: 'wan0', src: '198.51.100.2', dst: '198.51.100.1', proto: 'tcp', dport: 8080 });
    expect(r).toMatchObject({ verdict: 'drop', rule: 'ts-lockdown-input/drop-rest' });
  });

  it('the listed management port only on its interface', () => {
    const ssh = { src: '192.0.2.2', dst: '192.0.2.1', proto: 'tcp', dport: 22 } as const;
    expect(tracePacket(rs, 'input', { ...ssh, iif: 'lan0' }).rule).toBe('ts-lockdown-input/management-port[lan0/tcp/22]');
    expect(tracePacket(rs, 'input', { ...ssh, iif: 'wan0' }).verdict).toBe('drop');
    expect(tracePacket(rs, 'input', { ...ssh, iif: 'lan0', proto: 'udp' }).verdict).toBe('drop');
  });

  it('tailnet traffic, the WireGuard port, replies and loopback are accepted', () => {
    expect(tracePacket(rs, 'input', { iif: 'tailscale0', src: '100.100.0.2', dst: '100.100.0.1', proto: 'tcp', dport: 8080 }).rule)
      .toBe('ts-input/tunnel-accept');
    expect(tracePacket(rs, 'input', { iif: 'wan0', src: '198.51.100.2', dst: '198.51.100.1', proto: 'udp', dport: 41641 }).verdict)
      .toBe('accept');
    expect(tracePacket(rs, 'input', { iif: 'wan0', src: '198.51.100.2', dst: '198.51.100.1', proto: 'tcp', dport: 50000, ctState: 'established' }).rule)
      .toBe('ts-lockdown-input/established');
    expect(tracePacket(rs, 'input', { iif: 'lo', src: '127.0.0.1', dst: '127.0.0.1', proto: 'tcp', dport: 5432 }).rule)
      .toBe('ts-lockdown-input/loopback');
    expect(tracePacket(rs, 'input', { iif: 'wan0', src: '2001:db8:2::2', dst: '2001:db8:2::1', proto: 'ipv6-icmp' }).rule)
      .toBe('ts-lockdown-input/icmpv6');
  });

  it('a spoofed CGNAT source still meets the anti-spoof drop first', () => {
    const r = tracePacket(rs, 'input', { iif: 'lan0', src: '100.100.0.99', dst: '192.0.2.1', proto: 'tcp', dport: 22 });
    expect(r.rule).toBe('ts-input/cgnat-spoof');
  });

  it('validates management ports', () => {
    expect(() => parseConfigText('lockdown: { managementPorts: [{ interface: "eth 0", port: 22 }] }', 'c')).toThrow(ConfigError);
    expect(() => parseConfigText('lockdown: { managementPorts: [{ interface: eth0, port: 0 }] }', 'c'))
      .toThrow(/lockdown\.managementPorts\[0\]\.port/);
    expect(() => parseConfigText('lockdown: { managementPorts: [{ interface: eth0, port: 22, proto: icmp }] }', 'c'))
      .toThrow(/proto/);
  });
});

describe('required-ports profile', () => {
  const rs = ruleset('profiles: [tailscale, required-ports]\nports: [41641, 41642]\n');

  it('adds exactly one output chain and one input chain', () => {
    const out = rs.chains.find((c) => c.name === 'ts-required-out');
    const inp = rs.chains.find((c) => c.name === 'ts-required-in');
    expect(out?.hook).toBe('output');
    expect(inp?.hook).toBe('input');
    expect(out?.rules.map((r) => r.id)).toEqual([
      'ts-required-out/wireguard-out[41641]',
      'ts-required-out/wireguard-out[41642]',
      'ts-required-out/stun',
      'ts-required-out/https',
      'ts-required-out/http',
    ]);
    expect(inp?.rules.map((r) => r.id)).toEqual(['ts-required-in/wireguard-in[41641]', 'ts-required-in/wireguard-in[41642]']);
  });

  it('accepts exactly the listed outbound ports', () => {
    const out = (proto: 'tcp' | 'udp', dport: number, sport = 40000) =>
      tracePacket(rs, 'output', { oif: 'wan0', src: '198.51.100.1', dst: '203.0.113.5', proto, sport, dport }).verdict;
    expect([out('udp', 3478), out('tcp', 443), out('tcp', 80), out('udp', 9999, 41642)]).toEqual(['accept', 'accept', 'accept', 'accept']);
    expect([out('udp', 443), out('tcp', 3478), out('tcp', 22), out('udp', 53)]).toEqual(['continue', 'continue', 'continue', 'continue']);
  });
});

describe('profile rule language', () => {
  it('refuses a port match on ipv6-icmp', () => {
    expect(ConcreteMatch.safeParse({ l4proto: 'ipv6-icmp', dport: '22' }).success).toBe(false);
    expect(ConcreteMatch.safeParse({ l4proto: 'ipv6-icmp' }).success).toBe(true);
  });
});
