import type { CommandRunner } from '../../exec/runner.js';
import type { Integration, IntegrationChange, IntegrationItem, IntegrationOutcome } from '../types.js';
import { readUfwSnapshot, UFW_PATHS } from './files.js';
import type { UfwPaths } from './files.js';
import { itemState, ownedItems, planEnsure, planUndo, ufwArgs, wantedItems } from './plan.js';
import type { UfwSnapshot } from './plan.js';

/**
 * tsfw's rules in ufw: planned from ufw's files (files.ts, plan.ts), written with one `ufw`
 * command per item (ufw has no batch form; each takes ufw's lock and runs its python), then read
 * back from the files, which are the truth for the record: ufw writes user.rules even when its
 * iptables step fails (ENABLED=yes before ufw has loaded its chains, at boot).
 */

export interface UfwIntegrationOptions {
  readonly paths?: UfwPaths;
  readonly exists?: (path: string) => boolean;
}

/** ufw takes its own lock and may wait for the xtables lock: a generous bound per command. */
const UFW_TIMEOUT_MS = 60_000;

export function createUfwIntegration(runner: CommandRunner, options: UfwIntegrationOptions = {}): Integration {
  const read = () => readUfwSnapshot(options.paths ?? UFW_PATHS, options.exists);

  /** Whether ufw's chains are loaded here: `iptables -n -L ufw-user-input` succeeds (ufw's own test). */
  async function loaded(): Promise<boolean> {
    const r = await runner.run((options.paths ?? UFW_PATHS).iptables, ['-n', '-L', 'ufw-user-input'], { allowFailure: true });
    return r.exitCode === 0;
  }

  /** Runs each command; returns the failures' messages. */
  async function runAll(items: readonly IntegrationItem[], op: 'add' | 'remove'): Promise<string[]> {
    const failures: string[] = [];
    for (const item of items) {
      const args = ufwArgs(item, op);
      const r = await runner.run('ufw', args, { allowFailure: true, timeoutMs: UFW_TIMEOUT_MS });
      if (r.exitCode !== 0) failures.push(`ufw ${args.join(' ')}: ${(r.stderr || r.stdout).trim().split('\n', 1)[0] ?? `exit ${r.exitCode}`}`);
    }
    return failures;
  }

  /** The changes the files show after a run, and the record they leave. */
  function outcome(added: readonly IntegrationItem[], removed: readonly IntegrationItem[], keep: readonly IntegrationItem[], after: UfwSnapshot, failures: readonly string[]): IntegrationOutcome {
    const present = (i: IntegrationItem) => ['ours', 'partly-ours'].includes(itemState(i, after));
    const changes: IntegrationChange[] = [
      ...added.filter(present).map((i) => ({ ...i, manager: 'ufw' as const, op: 'add' as const })),
      ...removed.filter((i) => !present(i)).map((i) => ({ ...i, manager: 'ufw' as const, op: 'remove' as const })),
    ];
    if (changes.length === 0 && failures.length > 0) throw new Error(failures.join('; '));
    return { record: ownedItems([...keep, ...added, ...removed], after), changes };
  }

  const dry = (add: readonly IntegrationItem[], remove: readonly IntegrationItem[], record: readonly IntegrationItem[]): IntegrationOutcome => ({
    record,
    changes: [
      ...add.map((i) => ({ ...i, manager: 'ufw' as const, op: 'add' as const })),
      ...remove.map((i) => ({ ...i, manager: 'ufw' as const, op: 'remove' as const })),
    ],
  });

  return {
    manager: 'ufw',
    // Installed: a disabled ufw keeps tsfw's rules (inert there) so that `ufw enable` loads them at once.
    active: () => Promise.resolve(read().installed),
    async ensure(wants, recorded, dryRun) {
      const snap = read();
      // Nothing is added to a disabled ufw; what tsfw added before stays until off or cleanup.
      const planned = snap.enabled ? planEnsure(wants, recorded, snap) : { add: [], remove: [] };
      // Adding needs ufw's chains loaded in this namespace, as `ufw status` decides "active" (at
      // boot ENABLED=yes comes first; a namespace without ufw's chains is not ufw's).
      const plan = planned.add.length > 0 && !dryRun && !await loaded() ? { ...planned, add: [] } : planned;
      // Rules with tsfw's comment are tsfw's even when the record is gone (the run dir is tmpfs;
      // user.rules survives a reboot): they are adopted, so cleanup still finds them.
      const keep = [...wantedItems(wants), ...recorded.filter((r) => !plan.remove.includes(r))];
      if (dryRun) return dry(plan.add, plan.remove, recorded);
      if (plan.add.length === 0 && plan.remove.length === 0) return { record: ownedItems(keep, snap), changes: [] };
      const failures = [...await runAll(plan.add, 'add'), ...await runAll(plan.remove, 'remove')];
      return outcome(plan.add, plan.remove, keep, read(), failures);
    },
    async undo(recorded, dryRun) {
      const snap = read();
      const remove = planUndo(recorded, snap);
      if (dryRun) return dry([], remove, recorded);
      const failures = await runAll(remove, 'remove');
      return outcome([], remove, [], read(), failures);
    },
  };
}
