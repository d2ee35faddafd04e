import type { Config } from '../config/schema.js';
import type { CommandRunner } from '../exec/runner.js';
import { discoverAddresses } from './addresses.js';
import { resolveFacts } from './facts.js';
import type { DiscoveredFacts, Fact, ResolvedFacts } from './facts.js';
import { discoverPorts, nodeProcFs } from './ports.js';
import type { ProcFs } from './ports.js';

/** The seams discovery reads through: the one command runner and /proc. */
export interface DiscoveryDeps {
  readonly runner: CommandRunner;
  /** How the tunnel's addresses are read (default: `ip -j addr`); the daemon reuses a read its watcher vouches for. */
  readonly addresses?: (iface: string) => Promise<Fact<string>>;
  /** How `ports: auto` is answered (default: a full scan); the daemon reuses one while its sockets stay (ports.ts). */
  readonly ports?: () => Fact<number>;
  readonly procFs?: ProcFs;
  readonly proc?: string;
}

/**
 * Discovers what the config leaves to `auto` (and nothing else), then resolves it: the one place
 * CLI commands and the daemon get the facts desired() needs. A failed read of the addresses
 * becomes a note (no rule), never a failed command.
 */
export async function discoverFacts(config: Config, deps: DiscoveryDeps): Promise<ResolvedFacts> {
  const found: { addresses?: Fact<string>; ports?: Fact<number> } = {};
  if (config.addresses === 'auto') {
    try {
      found.addresses = await (deps.addresses ?? ((iface) => discoverAddresses(deps.runner, iface)))(config.interface);
    } catch (error) {
      found.addresses = { values: [], source: 'none', note: `cannot read addresses: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  if (config.ports === 'auto') found.ports = deps.ports ? deps.ports() : discoverPorts(deps.procFs ?? nodeProcFs, deps.proc);
  return resolveFacts(config, found satisfies DiscoveredFacts);
}
