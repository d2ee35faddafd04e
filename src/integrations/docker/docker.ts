import { iptBinary } from '../../backends/iptables/backend.js';
import type { IptFlavour } from '../../backends/iptables/backend.js';
import { parseIptablesSave } from '../../backends/iptables/parse.js';
import type { CommandRunner } from '../../exec/runner.js';
import { FAMILIES } from '../../model/types.js';
import type { ManagerWants } from '../../model/types.js';
import type { Integration, IntegrationChange, IntegrationItem, IntegrationOutcome } from '../types.js';
import { hasDockerUser, planDocker, restoreScript, ruleOf, wantedRules } from './plan.js';
import type { DockerView, DockerUserRule } from './plan.js';

/**
 * The Docker integration's effects: it reads the filter tables of both iptables flavours (legacy
 * only where x_tables is loaded, as backend detection does) and edits DOCKER-USER with one
 * `iptables-restore --noflush` commit per table. "Active" means a DOCKER-USER chain exists in this
 * network namespace: that is where dockerd's FORWARD rules are, whatever its socket path.
 */

export interface DockerIntegrationOptions {
  /** Whether a file exists (the /proc/net/*_tables_names probe). */
  readonly exists: (path: string) => boolean;
  readonly procNet?: string;
}

const FLAVOURS: readonly IptFlavour[] = ['nft', 'legacy'];

/** Builds the Docker integration over the (namespaced) runner. */
export function createDockerIntegration(runner: CommandRunner, options: DockerIntegrationOptions): Integration {
  const procNet = options.procNet ?? '/proc/net';

  /** One table's filter dump; absent when the save fails (no such table is the same to Docker). */
  const readView = async (flavour: IptFlavour, family: (typeof FAMILIES)[number]): Promise<DockerView | undefined> => {
    // iptables-nft reads one table; legacy dumps all, because naming a table there creates it.
    const args = flavour === 'nft' ? ['-t', 'filter'] : [];
    const r = await runner.run(iptBinary(flavour, family, 'save'), args, { allowFailure: true });
    if (r.exitCode !== 0) return undefined;
    try {
      return { flavour, family, filter: parseIptablesSave(r.stdout).find((t) => t.table === 'filter') };
    } catch {
      // A table iptables cannot show (native nft rules in ip filter) is not Docker's.
      return undefined;
    }
  };

  const readViews = async (): Promise<DockerView[]> => {
    const views: DockerView[] = [];
    for (const flavour of FLAVOURS) {
      for (const family of FAMILIES) {
        if (flavour === 'legacy' && !options.exists(`${procNet}/${family === 'ip' ? 'ip' : 'ip6'}_tables_names`)) continue;
        const view = await readView(flavour, family);
        if (view) views.push(view);
      }
    }
    return views;
  };

  /** Views read by active() for the ensure that follows in the same pass. */
  let fresh: DockerView[] | undefined;

  const run = async (views: readonly DockerView[], wanted: readonly DockerUserRule[], recorded: readonly IntegrationItem[], dryRun: boolean): Promise<IntegrationOutcome> => {
    const plan = planDocker(views, wanted, recorded);
    const changes: IntegrationChange[] = [];
    if (dryRun) return { record: recorded, changes: plan.edits.flatMap((e) => e.changes) };
    const done = new Set<string>();
    for (const edit of plan.edits) {
      try {
        await runner.run(iptBinary(edit.flavour, edit.family, 'restore'), ['--noflush', '-w'], { input: restoreScript(edit) });
      } catch (error) {
        if (changes.length === 0) throw error;
        // Partly done: what was written is recorded, the rest of the old record stays.
        const kept = recorded.filter((item) => !done.has(tableKey(ruleOf(item))));
        const added = plan.record.filter((item) => done.has(tableKey(ruleOf(item))));
        return { record: [...kept, ...added], changes };
      }
      done.add(`${edit.flavour} ${edit.family}`);
      changes.push(...edit.changes);
    }
    return { record: plan.record, changes };
  };

  return {
    manager: 'docker',
    async active() {
      fresh = await readViews();
      return fresh.some(hasDockerUser);
    },
    async ensure(wants: ManagerWants, recorded, dryRun) {
      const views = fresh ?? await readViews();
      fresh = undefined;
      return run(views, wantedRules(views, wants.tunnel), recorded, dryRun);
    },
    async undo(recorded, dryRun) {
      fresh = undefined;
      return run(await readViews(), [], recorded, dryRun);
    },
  };
}

function tableKey(rule: DockerUserRule | undefined): string {
  return rule ? `${rule.flavour} ${rule.family}` : '';
}
