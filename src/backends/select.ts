import type { Config, ConcreteBackend } from '../config/schema.js';
import { existsSync } from 'node:fs';
import type { CommandRunner } from '../exec/runner.js';
import { detectBackend } from './iptables/detect.js';
import type { DetectProbe } from './iptables/detect.js';

/** Why a backend was chosen: shown by `status` and `--json` so detection never guesses silently. */
export interface BackendChoice {
  readonly backend: ConcreteBackend;
  readonly reason: string;
  readonly evidence: readonly string[];
  readonly warnings: readonly string[];
}

/**
 * Resolves `backend: auto` from evidence on the host (see iptables/detect.ts); explicit choices
 * are taken as given. `probe` lets tests replace the /proc checks.
 */
export async function chooseBackend(
  config: Config,
  runner: CommandRunner,
  probe: Partial<Omit<DetectProbe, 'runner'>> = {},
): Promise<BackendChoice> {
  if (config.backend !== 'auto') {
    return { backend: config.backend, reason: 'set in config', evidence: [], warnings: [] };
  }
  return detectBackend({ runner, exists: probe.exists ?? existsSync, ...(probe.procNet ? { procNet: probe.procNet } : {}) });
}

export { createBackend } from './factory.js';
