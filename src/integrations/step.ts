import type { Ruleset } from '../model/types.js';
import { integrationAction } from './decide.js';
import { readIntegrationRecord, writeIntegrationRecord } from './record.js';
import type { IntegrationRecord } from './record.js';
import type { Integration, IntegrationChange, Manager } from './types.js';

/** A minimal logger (the shape of log/logger.ts), so this module does not depend on the log setup. */
interface StepLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/**
 * The integrations step of a convergence pass (ConvergeOptions.integrations), for the CLI and the
 * daemon alike: each manager is ensured or undone as integrationAction says, the record in
 * `runDir` follows every real change, and each change is logged. A manager that fails is logged
 * and left for the next pass; the others still run.
 */
export function integrationsStep(runDir: string, integrations: readonly Integration[], log: StepLog): (desired: Ruleset, dryRun: boolean) => Promise<readonly IntegrationChange[]> {
  return async (desired, dryRun) => {
    const record: Record<Manager, IntegrationRecord[Manager]> = { ...readIntegrationRecord(runDir) };
    const changes: IntegrationChange[] = [];
    let dirty = false;
    for (const integration of integrations) {
      const m = integration.manager;
      const recorded = record[m];
      const setting = desired.wants?.managers[m] ?? 'off';
      // Only ask whether the manager runs when its answer matters: mode on, integration auto.
      const active = desired.mode === 'on' && setting === 'auto' && desired.wants !== undefined && await integration.active();
      const action = integrationAction(desired.mode, setting, active, recorded.length);
      if (action === 'none') continue;
      try {
        const outcome = action === 'ensure' && desired.wants
          ? await integration.ensure(desired.wants, recorded, dryRun)
          : await integration.undo(recorded, dryRun);
        changes.push(...outcome.changes);
        // A record that shrank without a change (an item the admin took over) is written too.
        if (!dryRun && (outcome.changes.length > 0 || JSON.stringify(outcome.record) !== JSON.stringify(recorded))) {
          record[m] = outcome.record;
          dirty = true;
          for (const c of outcome.changes) log.info({ manager: m, op: c.op, kind: c.kind, value: c.value, permanent: c.permanent }, 'integration change');
        }
      } catch (err) {
        log.warn({ manager: m, action, err }, 'integration failed: left for the next pass');
      }
    }
    if (dirty) writeIntegrationRecord(runDir, record);
    return changes;
  };
}
