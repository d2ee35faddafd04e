import type { Config } from '../config/schema.js';
import { discoverAddresses } from '../discovery/addresses.js';
import { discoverFacts } from '../discovery/discover.js';
import { createPortsProbe } from '../discovery/ports.js';
import { factsKey } from '../discovery/facts.js';
import type { Fact, ResolvedFacts } from '../discovery/facts.js';
import type { CommandRunner } from '../exec/runner.js';
import type { Logger } from '../log/logger.js';
import type { Ruleset } from '../model/types.js';
import { rulesetFor } from '../profiles/load.js';
import { reusable } from './freshness.js';
import type { Freshness, Reusable } from './freshness.js';

/**
 * The daemon's desired state with `auto` keys re-discovered on every pass, so a changed address
 * or tailscaled port is planned in the pass that sees it (the old rule goes in the same
 * transaction that adds the new one). Logs each change of the discovered facts once.
 * `ip -j addr` is skipped while the address monitor is live and has printed nothing since the
 * last read (`addresses`, freshness.ts); the ruleset is rebuilt only when the config or the
 * facts changed, so a converged pass allocates little.
 */
export interface DiscoveredDesired {
  desired(config: Config): Promise<Ruleset>;
  /** The facts of the last pass (undefined before the first). */
  last(): ResolvedFacts | undefined;
}

export function createDiscoveredDesired(runner: CommandRunner, log: Logger, addresses?: Freshness): DiscoveredDesired {
  let last: ResolvedFacts | undefined;
  // The ruleset depends on the config object (replaced on every reload) and the facts' values only.
  let built: { readonly config: Config; readonly key: string; readonly ruleset: Ruleset } | undefined;
  let reads: { readonly iface: string; readonly read: Reusable<Fact<string>> } | undefined;
  const ports = createPortsProbe(() => performance.now());
  const readAddresses = (iface: string) => {
    if (reads?.iface !== iface) reads = { iface, read: reusable(() => discoverAddresses(runner, iface), addresses) };
    return reads.read.get();
  };
  return {
    async desired(config) {
      const facts = await discoverFacts(config, { runner, addresses: readAddresses, ports });
      const key = factsKey(facts);
      if (!last || built?.key !== key) {
        log.info({ addresses: facts.addresses, ports: facts.ports }, 'discovered addresses and ports');
      }
      last = facts;
      if (built?.config !== config || built.key !== key) built = { config, key, ruleset: rulesetFor(config, config.mode, facts) };
      return built.ruleset;
    },
    last: () => last,
  };
}
