import type { BackendName, ConcreteBackend } from '../config/schema.js';
import type { IptTableDump } from '../backends/iptables/parse.js';
import type { HostAddress, HostRoute } from './parse-ip.js';
import type { NftRuleset } from './parse-ruleset.js';
import type { UfwView } from './checks/ufw.js';

/**
 * Doctor works in three steps: gather facts (effectful, facts.ts), evaluate checks (pure, one
 * file per topic under checks/), print. The facts are plain data, so every check is a unit test
 * away from a captured host.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One finding: a one-line message and, unless ok, the exact fix (a command or config snippet). */
export interface Check {
  readonly id: string;
  readonly status: CheckStatus;
  readonly message: string;
  readonly fix: string | null;
}

/** A probed program: its first output line, or why it could not run. */
export interface ToolFact {
  readonly binary: string;
  readonly available: boolean;
  /** `nft --version` / `iptables --version` first line. */
  readonly output?: string;
  readonly error?: string;
}

/** Something that could not be read; checks that need it say so instead of guessing. */
export interface Unreadable {
  readonly error: string;
}

export interface DoctorFacts {
  readonly configuredBackend: BackendName;
  /** What `auto` resolved to (or the configured backend). */
  readonly backend: ConcreteBackend;
  readonly tools: readonly ToolFact[];
  /** `nft -c -j -f -` of what apply would write; undefined when not applicable. */
  readonly checkTransaction?: { readonly ok: boolean; readonly detail: string };
  /** `nft -j list ruleset`, every table (tsfw's included). */
  readonly ruleset: NftRuleset | Unreadable;
  /** iptables-legacy-save, when legacy tables exist (they are invisible to nft). */
  readonly legacy?: LegacyDump;
  /** iptables-nft-save per family: the comment text (tsfw's tags) that the nft listing does not show. */
  readonly xtablesSaves?: readonly LegacyDump[];
  /** Cheap CLI probes: firewall-cmd --state, ufw status (first line), when installed. */
  readonly clis: Readonly<Record<string, string>>;
  /** firewalld's zones as its D-Bus API shows them; absent when firewalld does not answer on the bus. */
  readonly firewalld?: FirewalldFacts | Unreadable;
  /** ufw's files (rules, policies, enabled), when ufw is installed. */
  readonly ufw?: UfwView;
  readonly addresses: readonly HostAddress[] | Unreadable;
  /** Names of every link (with or without addresses). */
  readonly links: readonly string[] | Unreadable;
  readonly routes: readonly HostRoute[] | Unreadable;
  /** /proc/sys/net values by path relative to /proc/sys/net (e.g. `ipv4/ip_forward`). */
  readonly sysctl: Readonly<Record<string, string | undefined>>;
}

/** Narrowing helper for the `X | Unreadable` facts. */
export function isUnreadable(value: unknown): value is Unreadable {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && 'error' in value;
}

/** An iptables-save dump (legacy, or nft for the tags) of one family, parsed by the backend's own parser. */
export interface LegacyDump {
  readonly family: 'ip' | 'ip6';
  readonly tables: readonly IptTableDump[];
}

/** One firewalld zone's settings that decide whether tailnet traffic passes. */
export interface FirewalldZoneFacts {
  /** `default`, `ACCEPT`, `DROP` or `%%REJECT%%`. */
  readonly target: string;
  /** `41641/udp`, or a range `41000-42000/udp`. */
  readonly ports: readonly string[];
  readonly services: readonly string[];
}

/** firewalld's view of the tunnel and the WAN interfaces, in its runtime and permanent layers. */
export interface FirewalldFacts {
  readonly defaultZone: string;
  /** The zone each layer binds the tunnel to ('' when unbound: the default zone applies). */
  readonly tunnelZone: Readonly<Record<'runtime' | 'permanent', string>>;
  /** The runtime zones of the interfaces with a default route (else the default zone). */
  readonly wanZones: readonly string[];
  /** Settings of those zones (and the tunnel's) per layer. */
  readonly zones: Readonly<Record<'runtime' | 'permanent', Readonly<Record<string, FirewalldZoneFacts>>>>;
  /** The ports of the services those zones name (firewalld's runtime definitions). */
  readonly servicePorts: Readonly<Record<string, readonly string[]>>;
}
