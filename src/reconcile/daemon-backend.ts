import { backendSpec, buildBackend, retiredBy } from '../backends/factory.js';
import type { BackendEventScope, BackendSpec } from '../backends/factory.js';
import { removeRetired } from '../backends/leftovers.js';
import { chooseBackend } from '../backends/select.js';
import type { BackendChoice } from '../backends/select.js';
import type { NftReads } from '../backends/nftables/backend.js';
import type { Backend } from '../backends/types.js';
import type { Config } from '../config/schema.js';
import type { CommandRunner } from '../exec/runner.js';
import { landscapeKey, readLandscape } from '../integrations/landscape.js';
import type { ManagerLandscape } from '../integrations/landscape.js';
import type { Logger } from '../log/logger.js';

/**
 * The daemon's backend: chosen and built through the one factory, rebuilt when a reload changes
 * anything it is built from or, with `backend: auto`, when the host's firewall managers change
 * (ufw enabled after tsfw started: boot order), and what the old settings left behind removed in
 * the next pass (under the lock), exactly as a CLI backend switch does.
 */
export interface ActiveBackend {
  readonly backend: Backend;
  readonly spec: BackendSpec;
  /** Why this backend, with the evidence: what state.json and `tsfw status` show. */
  readonly choice: BackendChoice;
  /**
   * The events that concern this backend; with `auto` also the iptables filter tables appearing
   * or going (a manager such as ufw loading its rules), so the daemon chooses again at once.
   */
  readonly eventScope: BackendEventScope | undefined;
  /** Re-chooses for `config`; true when the daemon switched to other settings. */
  adopt(config: Config): Promise<boolean>;
  /**
   * With `backend: auto`: reads the managers' landscape (a few file reads) and, when it changed
   * since the last choice, chooses again; true when the backend changed.
   */
  reconsider(config: Config): Promise<boolean>;
  /** Removes the objects of settings left behind; call holding the lock. Failures retry next time. */
  removeRetired(): Promise<void>;
}

/** Tables whose appearance means another manager loaded iptables rules. */
const LANDSCAPE_TABLES = ['ip filter', 'ip6 filter'];

export interface ActiveBackendOptions {
  /** The managers' landscape; tests inject one. */
  readonly landscape?: () => ManagerLandscape;
  /** How an nftables backend reads its table (the daemon's session and monitor); default one nft per read. */
  readonly nftReads?: NftReads;
}

export async function createActiveBackend(config: Config, runner: CommandRunner, log: Logger, options: ActiveBackendOptions = {}): Promise<ActiveBackend> {
  const look = options.landscape ?? (() => readLandscape());
  const choose = async (c: Config) => {
    const landscape = look();
    const choice = await chooseBackend(c, runner, { landscape });
    for (const warning of choice.warnings) log.warn({ backend: choice.backend }, warning);
    log.info({ backend: choice.backend, reason: choice.reason, evidence: choice.evidence }, 'backend chosen');
    const spec = backendSpec(choice.backend, c);
    return { spec, choice, auto: c.backend === 'auto', key: landscapeKey(landscape), backend: buildBackend(spec, runner, options.nftReads) };
  };
  let current = await choose(config);
  let retired: BackendSpec[] = [];
  const switchTo = (next: typeof current): boolean => {
    if (next.spec.key === current.spec.key) {
      current = { ...next, backend: current.backend };
      return false;
    }
    const old = retiredBy(current.spec, next.spec);
    if (old) retired.push(old);
    current = next;
    return true;
  };
  return {
    get backend() {
      return current.backend;
    },
    get spec() {
      return current.spec;
    },
    get choice() {
      return current.choice;
    },
    get eventScope() {
      const scope = current.spec.eventScope;
      if (!scope || !current.auto) return scope;
      return { ...scope, tables: [...new Set([...scope.tables, ...LANDSCAPE_TABLES])] };
    },
    async adopt(c) {
      const from = current.spec.key;
      if (!switchTo(await choose(c))) return false;
      log.info({ from, to: current.spec.key }, 'backend settings changed: switching in the next pass');
      return true;
    },
    async reconsider(c) {
      if (c.backend !== 'auto' || landscapeKey(look()) === current.key) return false;
      const from = current.spec.name;
      if (!switchTo(await choose(c))) return false;
      log.warn({ from, to: current.spec.name, reason: current.choice.reason, evidence: current.choice.evidence }, 'firewall managers changed: switching backend in this pass');
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
