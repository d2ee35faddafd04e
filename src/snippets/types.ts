import type { Family } from '../model/types.js';
import type { PortRequirement } from './ports.js';

/** What `render --for` can print, one per kind of tool. */
export const TARGETS = ['ufw', 'firewalld', 'iptables', 'nftables', 'aws', 'gcp', 'azure'] as const;
export type Target = (typeof TARGETS)[number];

/** A Terraform document as plain data: printed as HCL, or as-is as Terraform's JSON syntax. */
export type TfValue = string | number | readonly string[] | readonly TfBlock[];
export interface TfBlock {
  readonly [key: string]: TfValue;
}
export interface TfDocument {
  readonly variable: Readonly<Record<string, { readonly type: string; readonly description: string }>>;
  readonly resource: Readonly<Record<string, Readonly<Record<string, TfBlock>>>>;
}

/** One rendered snippet: the text that is printed, and the same content as data where it has a form. */
export interface Snippet {
  readonly text: string;
  /** ufw, firewalld: each command as an argv list (for Ansible or scripts). */
  readonly commands?: readonly (readonly string[])[];
  /** aws, gcp, azure: Terraform's JSON syntax of the same resources (a `*.tf.json` file). */
  readonly terraform?: TfDocument;
}

/** What the renderers need besides the requirements. */
export interface SnippetInput {
  readonly requirements: readonly PortRequirement[];
  /** The config's families: cloud rules get an IPv4 and/or an IPv6 range. */
  readonly families: readonly Family[];
  /** The header line saying where the WireGuard ports came from. */
  readonly portsNote: string;
  /** firewalld: the zone of the WAN interfaces (default: firewalld's default zone). */
  readonly zone?: string;
  /** azure: the first NSG priority; each rule takes the next (per direction). */
  readonly priority?: number;
}

/** The comment/description tag on every rendered rule: names the requirement, not tsfw's ownership tag. */
export function label(r: PortRequirement): string {
  return `tailscale ${r.id}`;
}
