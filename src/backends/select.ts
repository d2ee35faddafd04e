import type { Config, ConcreteBackend } from '../config/schema.js';
import { existsSync } from 'node:fs';
import type { CommandRunner } from '../exec/runner.js';
import { detectBackend } from './iptables/detect.js';
import type { DetectProbe } from './iptables/detect.js';
import { readLandscape } from '../integrations/landscape.js';
import type { ManagerLandscape } from '../integrations/landscape.js';
import { weighManagers } from './weigh.js';

/** Why a backend was chosen: shown by `status` and `--json` so detection never guesses silently. */
export interface BackendChoice {
  readonly backend: ConcreteBackend;
  readonly reason: string;
  readonly evidence: readonly string[];
  readonly warnings: readonly string[];
}

/**
 * Resolves `backend: auto` from evidence on the host (see iptables/detect.ts) weighed with the
 * firewall managers that are enabled (weigh.ts); explicit choices are taken as given. `probe`
 * lets tests replace the /proc checks and the managers' landscape.
 */
export async function chooseBackend(
  config: Config,
  runner: CommandRunner,
  probe: Partial<Omit<DetectProbe, 'runner'>> & { landscape?: ManagerLandscape } = {},
): Promise<BackendChoice> {
  if (config.backend !== 'auto') {
    return { backend: config.backend, reason: 'set in config', evidence: [], warnings: [] };
  }
  const detection = await detectBackend({ runner, exists: probe.exists ?? existsSync, ...(probe.procNet ? { procNet: probe.procNet } : {}) });
  return weighManagers(detection, probe.landscape ?? readLandscape());
}

export { createBackend } from './factory.js';
