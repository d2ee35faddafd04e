import { iptBinary } from '../../backends/iptables/backend.js';
import type { IptFlavour } from '../../backends/iptables/backend.js';
import { parseChainListing } from '../../backends/iptables/chain-listing.js';
import type { IptChain } from '../../backends/iptables/parse.js';
import type { CommandRunner } from '../../exec/runner.js';
import { reusable } from '../../reconcile/freshness.js';
import type { Freshness } from '../../reconcile/freshness.js';
import { FAMILIES } from '../../model/types.js';
import type { ManagerWants } from '../../model/types.js';
import type { Integration, IntegrationChange, IntegrationItem, IntegrationOutcome } from '../types.js';
import { hasDockerUser, planDocker, restoreScript, ruleOf, wantedRules } from './plan.js';
import type { DockerView, DockerUserRule } from './plan.js';

/**
 * The Docker integration's effects: it lists DOCKER-USER (and, where that exists, FORWARD) of the
 * filter tables of both iptables flavours, chain by chain: a save would read every rule of the
 * table, 20,000 foreign ones included, on every pass. Legacy is asked only where its filter table
 * exists (naming a legacy table creates it). Edits go to DOCKER-USER with one
 * `iptables-restore --noflush` commit per table. "Active" means a DOCKER-USER chain exists in this
 * network namespace: that is where dockerd's FORWARD rules are, whatever its socket path. In the
 * daemon, the iptables-nft reads of the last pass are reused while `nft monitor` is live and has
 * seen no change in `ip filter` / `ip6 filter` (every change there, dockerd's and tsfw's own, is
 * an nft event), for at most REUSE_MAX_AGE_MS; legacy has no events and is read every pass.
 */

export interface DockerIntegrationOptions {
  /** A file's text, or undefined when it cannot be read (the /proc/net/*_tables_names probe). */
  readonly readText: (path: string) => string | undefined;
  readonly procNet?: string;
  /** The daemon's `nft monitor` on `ip`/`ip6` `filter` (freshness.ts); absent: read every pass. */
  readonly iptFilter?: Freshness;
}

/** Builds the Docker integration over the (namespaced) runner. */
export function createDockerIntegration(runner: CommandRunner, options: DockerIntegrationOptions): Integration {
  const procNet = options.procNet ?? '/proc/net';

  /** One chain of filter, as a save would show it; absent when there is no such chain (or iptables cannot show it). */
  const listChain = async (flavour: IptFlavour, family: (typeof FAMILIES)[number], chain: string): Promise<IptChain | undefined> => {
    const r = await runner.run(`${family === 'ip' ? 'iptables' : 'ip6tables'}-${flavour}`, ['-w', '-t', 'filter', '-v', '-S', chain], { allowFailure: true });
    return r.exitCode === 0 ? parseChainListing(r.stdout, chain) : undefined;
  };

  /** What the plan reads of one table: DOCKER-USER first, so a host without Docker pays one call per table. */
  const readView = async (flavour: IptFlavour, family: (typeof FAMILIES)[number]): Promise<DockerView> => {
    const dockerUser = await listChain(flavour, family, 'DOCKER-USER');
    const forward = dockerUser ? await listChain(flavour, family, 'FORWARD') : undefined;
    return { flavour, family, filter: { table: 'filter', chains: [forward, dockerUser].filter((c): c is IptChain => c !== undefined) } };
  };

  /** Whether the legacy filter table exists in this namespace (listed in /proc/net/ip{,6}_tables_names). */
  const legacyFilter = (family: (typeof FAMILIES)[number]): boolean =>
    (options.readText(`${procNet}/${family === 'ip' ? 'ip' : 'ip6'}_tables_names`) ?? '').split('\n').includes('filter');

  // Both families at once: two reads that do not depend on each other (one process each on a
  // host without Docker, on every CLI run).
  const readFlavour = (flavour: IptFlavour): Promise<DockerView[]> =>
    Promise.all(FAMILIES.filter((family) => flavour !== 'legacy' || legacyFilter(family)).map((family) => readView(flavour, family)));
  const nftViews = reusable(() => readFlavour('nft'), options.iptFilter);
  const readViews = async (): Promise<DockerView[]> => [...await nftViews.get(), ...await readFlavour('legacy')];

  /** Views read by active() for the ensure that follows in the same pass. */
  let fresh: DockerView[] | undefined;

  const run = async (views: readonly DockerView[], wanted: readonly DockerUserRule[], recorded: readonly IntegrationItem[], dryRun: boolean): Promise<IntegrationOutcome> => {
    const plan = planDocker(views, wanted, recorded);
    const changes: IntegrationChange[] = [];
    if (dryRun) return { record: recorded, changes: plan.edits.flatMap((e) => e.changes) };
    // What tsfw writes now is not what was read: the next pass reads again.
    if (plan.edits.length > 0) nftViews.forget();
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
