import type { Config } from '../config/schema.js';
import { discoverFacts } from '../discovery/discover.js';
import { factsKey } from '../discovery/facts.js';
import type { ResolvedFacts } from '../discovery/facts.js';
import type { CommandRunner } from '../exec/runner.js';
import type { Logger } from '../log/logger.js';
import type { Ruleset } from '../model/types.js';
import { rulesetFor } from '../profiles/load.js';

/**
 * The daemon's desired state with `auto` keys re-discovered on every pass, so a changed address
 * or tailscaled port is planned in the pass that sees it (the old rule goes in the same
 * transaction that adds the new one). Logs each change of the discovered facts once.
 */
export interface DiscoveredDesired {
  desired(config: Config): Promise<Ruleset>;
  /** The facts of the last pass (undefined before the first). */
  last(): ResolvedFacts | undefined;
}

export function createDiscoveredDesired(runner: CommandRunner, log: Logger): DiscoveredDesired {
  let last: ResolvedFacts | undefined;
  return {
    async desired(config) {
      const facts = await discoverFacts(config, { runner });
      if (!last || factsKey(last) !== factsKey(facts)) {
        log.info({ addresses: facts.addresses, ports: facts.ports }, 'discovered addresses and ports');
      }
      last = facts;
      return rulesetFor(config, config.mode, facts);
    },
    last: () => last,
  };
}
