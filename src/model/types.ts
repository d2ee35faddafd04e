/**
 * The backend-neutral ruleset model. Rule profiles expand into it; every backend renders it.
 * Plain readonly data: easy to compare, print and snapshot.
 */

/** Address families tsfw manages. Names follow nft's `ip` / `ip6`. */
export type Family = 'ip' | 'ip6';
export const FAMILIES = ['ip', 'ip6'] as const satisfies readonly Family[];

/** The three netfilter modes, as in Tailscale. */
export type Mode = 'on' | 'nodivert' | 'off';
export const MODES = ['on', 'nodivert', 'off'] as const satisfies readonly Mode[];

/** Netfilter hooks a tsfw chain can be diverted from. */
export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
export const HOOKS = ['prerouting', 'input', 'forward', 'output', 'postrouting'] as const satisfies readonly Hook[];

/** `filter` chains decide; `nat` chains rewrite addresses (masquerade); `mangle` chains edit packets (MSS). */
export type ChainKind = 'filter' | 'nat' | 'mangle';

/** `ipv6-icmp` carries no ports; profiles pin it to the ip6 family (neighbour discovery). */
export type L4Proto = 'tcp' | 'udp' | 'ipv6-icmp';
export type CtState = 'established' | 'related' | 'new' | 'invalid' | 'untracked';

/** An interface name match; `negate` matches every other interface. Always exact, never a prefix. */
export interface IfaceMatch {
  readonly name: string;
  readonly negate: boolean;
}

/** A prefix match; the family is that of the prefix. */
export interface PrefixMatch {
  readonly family: Family;
  /** Canonical network address, e.g. `100.64.0.0`. */
  readonly addr: string;
  readonly len: number;
}

/** `mark & mask == value`. */
export interface MarkMatch {
  readonly value: number;
  readonly mask: number;
}

export interface CtStateMatch {
  readonly states: readonly CtState[];
  /** true: matches packets whose state is none of `states`. */
  readonly negate: boolean;
}

/** All conditions are ANDed; an absent key matches everything. */
export interface Match {
  readonly iif?: IfaceMatch;
  readonly oif?: IfaceMatch;
  readonly saddr?: PrefixMatch;
  readonly daddr?: PrefixMatch;
  readonly l4proto?: L4Proto;
  readonly sport?: number;
  readonly dport?: number;
  readonly mark?: MarkMatch;
  readonly ctState?: CtStateMatch;
  /** `syn`: TCP SYN set and RST clear (the only packets that carry an MSS option). Needs l4proto tcp. */
  readonly tcpFlags?: 'syn';
}

export type Action =
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'return' }
  /** mark = (mark & ~mask) | value: sets tsfw's bits, keeps everyone else's. */
  | { readonly kind: 'set-mark'; readonly value: number; readonly mask: number }
  | { readonly kind: 'masquerade' }
  /** TCP MSS clamped to the route's MTU (path MTU); not a verdict, evaluation goes on. */
  | { readonly kind: 'clamp-mss' }
  /**
   * Connmark restore: when the connection's mark has bits under `mask`, the packet's bits under
   * `mask` become the connection's; every other packet-mark bit stays. Not a verdict.
   */
  | { readonly kind: 'restore-mark'; readonly mask: number }
  /**
   * Connmark save: when the packet's mark has bits under `mask`, the connection's bits under
   * `mask` become the packet's; every other connection-mark bit stays. Not a verdict.
   */
  | { readonly kind: 'save-mark'; readonly mask: number };

export type ActionKind = Action['kind'];

/** One rule. `id` is stable across runs; it is written into the backend's rule comment. */
export interface Rule {
  readonly id: string;
  /** Families the rule applies to (an address match pins it to one). */
  readonly families: readonly Family[];
  readonly match: Match;
  readonly action: Action;
}

/** A regular chain of tsfw's own (`ts-input`, …) and where mode `on` diverts traffic into it. */
export interface Chain {
  readonly name: string;
  readonly kind: ChainKind;
  readonly hook: Hook;
  readonly rules: readonly Rule[];
}

/**
 * What the host's other firewall managers (firewalld, ufw, Docker) must let through for tsfw's
 * rules to take effect: the tunnel interface and the WireGuard UDP ports (src/integrations/).
 */
export interface ManagerWants {
  readonly tunnel: string;
  readonly ports: readonly number[];
  /** The config's `integrations` section: `auto` (act while that manager is active) or `off`. */
  readonly managers: Readonly<Record<'firewalld' | 'ufw' | 'docker', 'auto' | 'off'>>;
}

/** Everything tsfw wants to exist for one config. */
export interface Ruleset {
  readonly mode: Mode;
  readonly families: readonly Family[];
  readonly chains: readonly Chain[];
  /** Absent in rulesets built without a config (tests, fakes): no other manager is asked for anything. */
  readonly wants?: ManagerWants;
}
