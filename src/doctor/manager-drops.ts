import type { ConcreteBackend, Config } from '../config/schema.js';
import type { CommandRunner } from '../exec/runner.js';
import { readLandscape } from '../integrations/landscape.js';
import { readUfwSnapshot, UFW_PATHS } from '../integrations/ufw/files.js';
import type { Ruleset } from '../model/types.js';
import { judgeFirewalld } from './checks/firewalld.js';
import { checkUfw } from './checks/ufw.js';
import { gatherFirewalldFacts } from './firewalld-facts.js';
import { isUnreadable } from './types.js';

/**
 * "Doctor would fail on a drop by another manager", cheaply enough for every apply and reconcile:
 * each source reads only its manager's own state (ufw: a few files, and one iptables listing
 * only when a drop is possible) and answers with doctor's own check, so apply's warning and
 * doctor's `fail` always agree. A new manager adds one source here.
 */

export interface DropContext {
  readonly config: Config;
  readonly ruleset: Ruleset;
  /** The backend tsfw writes (its accepts are final only in their own chains). */
  readonly backend: ConcreteBackend;
  readonly runner: CommandRunner;
}

/** One manager's certain drop of tailnet traffic tsfw accepts, as doctor's fail message; undefined when none. */
export type DropSource = (ctx: DropContext) => Promise<string | undefined>;

/** ufw: doctor's manager-ufw check on the files; ufw's chains are listed only when it would fail. */
export const ufwDrops: DropSource = async (ctx) => {
  const snapshot = readUfwSnapshot();
  if (!snapshot.enabled || ctx.config.mode !== 'on') return undefined;
  const flavour = readLandscape().ufw?.flavour ?? 'iptables-nft';
  const would = checkUfw({ snapshot, loaded: true, flavour }, ctx.backend, ctx.config, ctx.ruleset.wants);
  if (would?.status !== 'fail') return undefined;
  const listed = await ctx.runner.run(UFW_PATHS.iptables, ['-n', '-L', 'ufw-user-input'], { allowFailure: true });
  return listed.exitCode === 0 ? would.message : undefined;
};

/** firewalld: doctor's firewalld check on its zones over D-Bus (nothing is asked when it does not answer). */
export const firewalldDrops: DropSource = async (ctx) => {
  if (ctx.config.mode !== 'on' || !ctx.ruleset.wants) return undefined;
  const facts = await gatherFirewalldFacts(ctx.runner, ctx.config.interface);
  if (!facts || isUnreadable(facts)) return undefined;
  const would = judgeFirewalld(facts, ctx.config, ctx.ruleset.wants.ports);
  return would.status === 'fail' ? would.message : undefined;
};

export const DROP_SOURCES: readonly DropSource[] = [firewalldDrops, ufwDrops];

/** Every source's certain drop; a source that fails counts as none (this is a hint, not a check). */
export async function certainManagerDrops(ctx: DropContext, sources: readonly DropSource[] = DROP_SOURCES): Promise<string[]> {
  const found: string[] = [];
  for (const source of sources) {
    const drop = await source(ctx).catch(() => undefined);
    if (drop) found.push(drop);
  }
  return found;
}

/** apply's one warning line for all of them. */
export function dropWarning(drops: readonly string[]): string | undefined {
  return drops.length === 0 ? undefined : `tsfw doctor would fail: ${drops.join('; ')} (run tsfw doctor for the fix)`;
}
