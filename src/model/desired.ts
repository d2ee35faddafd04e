import type { Chain, Family, Mode, Ruleset } from './types.js';

/**
 * What should exist for a mode: `on` and `nodivert` want the same chains (only the backend's
 * diversion differs), `off` wants nothing at all.
 */
export function desiredRuleset(mode: Mode, families: readonly Family[], chains: readonly Chain[]): Ruleset {
  if (mode === 'off') return { mode, families, chains: [] };
  const names = new Set<string>();
  for (const chain of chains) {
    if (names.has(chain.name)) throw new Error(`two profiles define chain ${chain.name}`);
    names.add(chain.name);
  }
  return { mode, families, chains };
}
