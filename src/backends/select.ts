import type { Config, ConcreteBackend } from '../config/schema.js';
import type { CommandRunner } from '../exec/runner.js';
import { createNftablesBackend } from './nftables/backend.js';
import type { Backend } from './types.js';

/** Why a backend was chosen: shown by `status` and `--json` so detection never guesses silently. */
export interface BackendChoice {
  readonly backend: ConcreteBackend;
  readonly reason: string;
  readonly evidence: readonly string[];
  readonly warnings: readonly string[];
}

/** Resolves `backend: auto` from evidence on the host; explicit choices are taken as given. */
export async function chooseBackend(config: Config, _runner: CommandRunner): Promise<BackendChoice> {
  if (config.backend !== 'auto') {
    return { backend: config.backend, reason: 'set in config', evidence: [], warnings: [] };
  }
  return { backend: 'nftables', reason: 'auto: default (no iptables detection yet)', evidence: [], warnings: [] };
}

/** Builds the backend object for a concrete choice. */
export function createBackend(name: ConcreteBackend, config: Config, runner: CommandRunner): Backend {
  switch (name) {
    case 'nftables':
      return createNftablesBackend(runner, { table: config.nftables.table, priorities: config.nftables.priorities }) as Backend;
    case 'iptables-nft':
    case 'iptables-legacy':
      throw new Error(`backend ${name} is not implemented yet`);
  }
}
