import { backendSpec, buildBackend, retiredBy } from '../backends/factory.js';
import type { BackendSpec } from '../backends/factory.js';
import { removeRetired } from '../backends/leftovers.js';
import { chooseBackend } from '../backends/select.js';
import type { Backend } from '../backends/types.js';
import type { Config } from '../config/schema.js';
import type { CommandRunner } from '../exec/runner.js';
import type { Logger } from '../log/logger.js';

/**
 * The daemon's backend: chosen and built through the one factory, rebuilt when a reload changes
 * anything it is built from, and what the old settings left behind removed in the next pass
 * (under the lock), exactly as a CLI backend switch does.
 */
export interface ActiveBackend {
  readonly backend: Backend;
  readonly spec: BackendSpec;
  /** Re-chooses for `config`; true when the daemon switched to other settings. */
  adopt(config: Config): Promise<boolean>;
  /** Removes the objects of settings left behind; call holding the lock. Failures retry next time. */
  removeRetired(): Promise<void>;
}

export async function createActiveBackend(config: Config, runner: CommandRunner, log: Logger): Promise<ActiveBackend> {
  const choose = async (c: Config) => {
    const choice = await chooseBackend(c, runner);
    for (const warning of choice.warnings) log.warn({ backend: choice.backend }, warning);
    log.info({ backend: choice.backend, reason: choice.reason, evidence: choice.evidence }, 'backend chosen');
    const spec = backendSpec(choice.backend, c);
    return { spec, backend: buildBackend(spec, runner) };
  };
  let current = await choose(config);
  let retired: BackendSpec[] = [];
  return {
    get backend() {
      return current.backend;
    },
    get spec() {
      return current.spec;
    },
    async adopt(c) {
      const next = await choose(c);
      if (next.spec.key === current.spec.key) return false;
      const old = retiredBy(current.spec, next.spec);
      if (old) retired.push(old);
      log.info({ from: current.spec.key, to: next.spec.key }, 'backend settings changed: switching in the next pass');
      current = next;
      return true;
    },
    async removeRetired() {
      const pending = retired;
      retired = [];
      for (const old of pending) {
        const result = await removeRetired(old, runner);
        if (result.status === 'failed') retired.push(old);
        log.info({ backend: old.name, status: result.status, actions: result.actions.length, ...(result.note ? { note: result.note } : {}) }, 'objects of the previous backend settings removed');
      }
    },
  };
}
