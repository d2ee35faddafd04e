import type { Config } from '../config/schema.js';

/**
 * Facts tsfw discovers on the host (the tunnel's own addresses, tailscaled's UDP ports) and how
 * `addresses: auto` / `ports: auto` resolve against them. Pure: discovery itself lives in
 * addresses.ts and ports.ts, so desired() takes these facts as plain input.
 */

/** Tailscale's default WireGuard port, used by `ports: auto` while no tailscaled is found. */
export const FALLBACK_PORT = 41641;

/** Where a list came from: the config file, the host, or the fallback. */
export type FactSource = 'config' | 'interface' | 'tailscaled' | 'fallback' | 'none';

/** One discovered (or configured) list, with its source and a note for status/doctor. */
export interface Fact<T> {
  readonly values: readonly T[];
  readonly source: FactSource;
  readonly note?: string;
}

/** What discovery found; a key is absent when the config gives an explicit list. */
export interface DiscoveredFacts {
  readonly addresses?: Fact<string>;
  readonly ports?: Fact<number>;
}

/** The lists the rules use, with their sources: explicit config wins, then discovery, then fallbacks. */
export interface ResolvedFacts {
  readonly addresses: Fact<string>;
  readonly ports: Fact<number>;
}

/** Resolves `auto` keys. Without discovered facts (validate, goldens): no address, the fallback port. */
export function resolveFacts(config: Config, found: DiscoveredFacts = {}): ResolvedFacts {
  const addresses: Fact<string> = config.addresses === 'auto'
    ? found.addresses ?? { values: [], source: 'none', note: 'not discovered' }
    : { values: config.addresses, source: 'config' };
  const ports: Fact<number> = config.ports === 'auto'
    ? found.ports ?? { values: [FALLBACK_PORT], source: 'fallback', note: 'not discovered' }
    : { values: config.ports, source: 'config' };
  return { addresses, ports };
}

/** A config with `auto` replaced by concrete values: what profile expansion reads. */
export type ConcreteConfig = Omit<Config, 'addresses' | 'ports' | 'connmark'> & {
  readonly addresses: readonly string[];
  readonly ports: readonly number[];
  /** Whether the connmark chains exist: `on`, or `auto` in mode on. */
  readonly connmark: boolean;
};

/** Whether `connmark` is in effect for this config's mode. */
export function connmarkActive(config: Pick<Config, 'connmark' | 'mode'>): boolean {
  return config.connmark === 'on' || (config.connmark === 'auto' && config.mode === 'on');
}

/** The config as profiles see it, with the resolved lists in place of `auto`. */
export function concreteConfig(config: Config, facts: ResolvedFacts = resolveFacts(config)): ConcreteConfig {
  return { ...config, addresses: facts.addresses.values, ports: facts.ports.values, connmark: connmarkActive(config) };
}

/** Text for status: `100.101.102.103/32 (interface)`, or the note when nothing was found. */
export function describeFact<T>(fact: Fact<T>): string {
  const values = fact.values.length > 0 ? fact.values.join(', ') : 'none';
  return `${values} (${fact.source}${fact.note ? `: ${fact.note}` : ''})`;
}

/** A key that changes when any discovered value changes (the daemon re-plans on a change). */
export function factsKey(facts: ResolvedFacts): string {
  return JSON.stringify([facts.addresses.values, facts.ports.values]);
}
