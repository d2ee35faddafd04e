import type { Family } from '../model/types.js';
import type { PortRequirement } from './ports.js';
import { describeRequirement, slug } from './ports.js';
import { printHcl } from './terraform.js';
import { label } from './types.js';
import type { Snippet, SnippetInput, TfBlock, TfDocument } from './types.js';

/**
 * `render --for aws | gcp | azure`: the required ports as Terraform resources. Pure. Cloud
 * firewalls are stateful (replies pass), so only new flows need rules. AWS security groups and GCP
 * firewall rules match destination ports only: WireGuard's outbound flow (from its own port to a
 * peer's port, which can be anything) becomes "UDP to every port"; Azure NSG rules can match the
 * source port and get the exact rule.
 */

const ANY: Record<Family, string> = { ip: '0.0.0.0/0', ip6: '::/0' };
const FAMILY_SUFFIX: Record<Family, string> = { ip: 'ipv4', ip6: 'ipv6' };

/** Terraform resource names allow letters, digits, `_` and `-`. */
const resourceName = (r: PortRequirement, family?: Family) => `tailscale_${slug(r.id).replace(/-/g, '_')}${family ? `_${FAMILY_SUFFIX[family]}` : ''}`;

/** Destination port range a destination-port-only firewall needs for this requirement. */
function dportRange(r: PortRequirement): { from: number; to: number } {
  return r.match === 'sport' ? { from: 0, to: 65535 } : { from: r.port, to: r.port };
}

function description(r: PortRequirement): string {
  const widened = r.match === 'sport' ? ' (peers listen on any port; this firewall cannot match the source port)' : '';
  return `${label(r)}: ${describeRequirement(r)}${widened}`;
}

function headerFor(tool: string, input: SnippetInput, extra: readonly string[]): string[] {
  return [`tsfw render --for ${tool}: the ports Tailscale needs, from the required-ports profile`, input.portsNote, ...extra];
}

function snippet(doc: TfDocument, header: readonly string[]): Snippet {
  return { text: printHcl(doc, header), terraform: doc };
}

/** AWS provider 5+: one `aws_vpc_security_group_{ingress,egress}_rule` per port and family. */
export function renderAws(input: SnippetInput): Snippet {
  const ingress: Record<string, TfBlock> = {};
  const egress: Record<string, TfBlock> = {};
  for (const r of input.requirements) {
    const { from, to } = dportRange(r);
    for (const family of input.families) {
      (r.direction === 'in' ? ingress : egress)[resourceName(r, family)] = {
        security_group_id: '${var.security_group_id}',
        description: description(r),
        ip_protocol: r.proto,
        from_port: from,
        to_port: to,
        [family === 'ip' ? 'cidr_ipv4' : 'cidr_ipv6']: ANY[family],
      };
    }
  }
  const doc: TfDocument = {
    variable: { security_group_id: { type: 'string', description: 'The security group of the Tailscale node' } },
    resource: {
      ...(Object.keys(ingress).length ? { aws_vpc_security_group_ingress_rule: ingress } : {}),
      ...(Object.keys(egress).length ? { aws_vpc_security_group_egress_rule: egress } : {}),
    },
  };
  return snippet(doc, headerFor('aws', input, ['security groups are stateful: replies need no rule; egress matters only where the default allow-all egress rule was removed']));
}

/** GCP: one `google_compute_firewall` per port and family (a rule holds ranges of one family only). */
export function renderGcp(input: SnippetInput): Snippet {
  const rules: Record<string, TfBlock> = {};
  for (const r of input.requirements) {
    const { from, to } = dportRange(r);
    for (const family of input.families) {
      const name = resourceName(r, family);
      rules[name] = {
        name: name.replace(/_/g, '-'),
        network: '${var.network}',
        description: description(r),
        direction: r.direction === 'in' ? 'INGRESS' : 'EGRESS',
        [r.direction === 'in' ? 'source_ranges' : 'destination_ranges']: [ANY[family]],
        allow: [{ protocol: r.proto, ports: [from === to ? String(from) : `${from}-${to}`] }],
      };
    }
  }
  const doc: TfDocument = {
    variable: { network: { type: 'string', description: 'The VPC network of the Tailscale node' } },
    resource: { google_compute_firewall: rules },
  };
  return snippet(doc, headerFor('gcp', input, ['VPC firewall rules are stateful; egress rules matter only where an egress deny rule exists']));
}

/** Azure: one `azurerm_network_security_rule` per port; `*` prefixes cover IPv4 and IPv6. */
export function renderAzure(input: SnippetInput): Snippet {
  const base = input.priority ?? 1000;
  const next = { in: base, out: base };
  const rules: Record<string, TfBlock> = {};
  for (const r of input.requirements) {
    const name = resourceName(r);
    rules[name] = {
      name: name.replace(/_/g, '-'),
      description: description(r).replace(/ \(peers listen.*\)$/, ''),
      priority: next[r.direction]++,
      direction: r.direction === 'in' ? 'Inbound' : 'Outbound',
      access: 'Allow',
      protocol: r.proto === 'udp' ? 'Udp' : 'Tcp',
      source_port_range: r.match === 'sport' ? String(r.port) : '*',
      destination_port_range: r.match === 'sport' ? '*' : String(r.port),
      source_address_prefix: '*',
      destination_address_prefix: '*',
      resource_group_name: '${var.resource_group_name}',
      network_security_group_name: '${var.network_security_group_name}',
    };
  }
  const doc: TfDocument = {
    variable: {
      resource_group_name: { type: 'string', description: 'The resource group of the network security group' },
      network_security_group_name: { type: 'string', description: 'The network security group of the Tailscale node' },
    },
    resource: { azurerm_network_security_rule: rules },
  };
  return snippet(doc, headerFor('azure', input, [`NSG rules are stateful; priorities from ${base} up, per direction (render with --priority to move them)`]));
}
