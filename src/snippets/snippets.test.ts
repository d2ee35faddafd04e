import { describe, expect, it } from 'vitest';
import type { Chain } from '../model/types.js';
import { expandProfile } from '../profiles/expand.js';
import { loadProfile } from '../profiles/load.js';
import { concreteConfig } from '../discovery/facts.js';
import { Config } from '../config/schema.js';
import { renderAws, renderAzure } from './cloud.js';
import { renderUfw, shellQuote } from './host.js';
import { PORTS_PROFILE, portRequirements } from './ports.js';
import { printHcl } from './terraform.js';

const profile = loadProfile(PORTS_PROFILE);
const requirementsFor = (ports: number[]) =>
  portRequirements(expandProfile(profile, concreteConfig(Config.parse({ ports }))), profile);

describe('port requirements from the required-ports profile', () => {
  it('lists WireGuard in, WireGuard out from its own port, STUN, HTTPS and HTTP, inbound first', () => {
    expect(requirementsFor([41641]).map((r) => [r.id, r.direction, r.proto, r.match, r.port])).toEqual([
      ['wireguard-in[41641]', 'in', 'udp', 'dport', 41641],
      ['wireguard-out[41641]', 'out', 'udp', 'sport', 41641],
      ['stun', 'out', 'udp', 'dport', 3478],
      ['https', 'out', 'tcp', 'dport', 443],
      ['http', 'out', 'tcp', 'dport', 80],
    ]);
  });

  it('follows the configured ports, one requirement per port and direction', () => {
    const ids = requirementsFor([51820, 41642]).map((r) => r.id);
    expect(ids.slice(0, 4)).toEqual(['wireguard-in[51820]', 'wireguard-in[41642]', 'wireguard-out[51820]', 'wireguard-out[41642]']);
  });

  it('keeps the profile\'s reason for every rule', () => {
    expect(requirementsFor([41641]).every((r) => r.why.length > 10)).toBe(true);
  });

  it('refuses a rule it cannot express instead of leaving it out', () => {
    const chains: Chain[] = [{ name: 'ts-required-in', kind: 'filter', hook: 'input', rules: [
      { id: 'ts-required-in/x', families: ['ip'], match: { l4proto: 'udp', dport: 1, iif: { name: 'eth0', negate: false } }, action: { kind: 'accept' } },
    ] }];
    expect(() => portRequirements(chains, profile)).toThrow('rule ts-required-in/x is not a plain port accept');
  });
});

describe('snippet renderers', () => {
  const reqs = requirementsFor([41641]);
  const input = { requirements: reqs, families: ['ip', 'ip6'] as const, portsNote: 'n' };

  it('ufw: one allow per requirement, the source port rule says "from any port"', () => {
    const { commands } = renderUfw(input);
    expect(commands?.[1]).toEqual(['ufw', 'allow', 'out', 'proto', 'udp', 'from', 'any', 'port', '41641', 'to', 'any', 'comment', 'tailscale wireguard-out[41641]']);
    expect(commands).toHaveLength(5);
  });

  it('aws: destination-port-only rules widen WireGuard out to every UDP port, per family', () => {
    const doc = renderAws(input).terraform!;
    const egress = doc.resource.aws_vpc_security_group_egress_rule!;
    expect(egress.tailscale_wireguard_out_41641_ipv4).toMatchObject({ ip_protocol: 'udp', from_port: 0, to_port: 65535, cidr_ipv4: '0.0.0.0/0' });
    expect(egress.tailscale_wireguard_out_41641_ipv6).toMatchObject({ cidr_ipv6: '::/0' });
    expect(Object.keys(doc.resource.aws_vpc_security_group_ingress_rule!)).toEqual(['tailscale_wireguard_in_41641_ipv4', 'tailscale_wireguard_in_41641_ipv6']);
  });

  it('azure: exact source-port rule, unique priorities per direction from the base', () => {
    const rules = renderAzure({ ...input, priority: 300 }).terraform!.resource.azurerm_network_security_rule!;
    expect(rules.tailscale_wireguard_out_41641).toMatchObject({ source_port_range: '41641', destination_port_range: '*', priority: 300, direction: 'Outbound' });
    const out = Object.values(rules).filter((r) => r.direction === 'Outbound').map((r) => r.priority);
    expect(out).toEqual([300, 301, 302, 303]);
  });

  it('HCL prints whole ${…} strings as bare expressions and nested block lists as blocks', () => {
    const text = printHcl({ variable: {}, resource: { t: { n: { a: '${var.x}', b: 'lit', allow: [{ ports: ['1'] }] } } } }, []);
    expect(text).toContain('  a = var.x\n');
    expect(text).toContain('  b = "lit"\n');
    expect(text).toContain('  allow {\n    ports = ["1"]\n  }\n');
  });

  it('shellQuote leaves plain words alone and quotes the rest', () => {
    expect(shellQuote('--add-port=41641/udp')).toBe('--add-port=41641/udp');
    expect(shellQuote("it's [x]")).toBe(`'it'\\''s [x]'`);
  });
});
