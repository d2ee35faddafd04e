import type { ManagerWants } from '../model/types.js';

/** The firewall managers tsfw cooperates with, in the order a pass visits them. */
export const MANAGERS = ['firewalld', 'ufw', 'docker'] as const;
export type Manager = (typeof MANAGERS)[number];

/** One thing tsfw added to another manager, as recorded: enough to remove exactly that again. */
export interface IntegrationItem {
  /** The manager's own kind of object, e.g. `zone-interface`, `port`, `rule`. */
  readonly kind: string;
  /** What was added, in the manager's terms (e.g. `trusted:tailscale0`, `41641/udp`). */
  readonly value: string;
  /** Also in the manager's permanent configuration (survives its reload or restart). */
  readonly permanent: boolean;
}

/** One change a pass made (a dry run: would make) to another manager: `--json`, logs, status. */
export interface IntegrationChange extends IntegrationItem {
  readonly manager: Manager;
  readonly op: 'add' | 'remove';
}

/** What an integration did: the record after it (what tsfw now owns there) and the changes. */
export interface IntegrationOutcome {
  readonly record: readonly IntegrationItem[];
  readonly changes: readonly IntegrationChange[];
}

/** The effects for one manager; step.ts decides which of them a pass calls. */
export interface Integration {
  readonly manager: Manager;
  /** Whether the manager is in charge here now (firewalld running, ufw enabled, dockerd running). */
  active(): Promise<boolean>;
  /**
   * Adds what `wants` needs and the manager lacks, recording each addition; removes recorded items
   * no longer wanted. Never touches what it did not add. A dry run changes nothing. Throws only
   * when it changed nothing: after a partial change it resolves with the record so far.
   */
  ensure(wants: ManagerWants, recorded: readonly IntegrationItem[], dryRun: boolean): Promise<IntegrationOutcome>;
  /**
   * Removes exactly the recorded items (runtime and permanent), leaving the manager's own
   * configuration as the admin had it; what cannot be removed now stays in the record for later.
   */
  undo(recorded: readonly IntegrationItem[], dryRun: boolean): Promise<IntegrationOutcome>;
}
