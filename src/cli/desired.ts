import { discoverFacts } from '../discovery/discover.js';
import type { ResolvedFacts } from '../discovery/facts.js';
import type { Mode, Ruleset } from '../model/types.js';
import { rememberedRulesetFor } from '../profiles/ruleset-memo.js';
import type { CommandContext } from './context.js';

/** The desired ruleset and the discovered facts behind it: the one way commands build desired state. */
export async function desiredFor(ctx: CommandContext, mode: Mode = ctx.config.mode): Promise<{ ruleset: Ruleset; facts: ResolvedFacts }> {
  const facts = await discoverFacts(ctx.config, { runner: ctx.runner });
  for (const [key, fact] of Object.entries(facts)) {
    if (fact.note && fact.source !== 'config') ctx.log.debug({ key, source: fact.source, note: fact.note }, 'discovery');
  }
  return { ruleset: await rememberedRulesetFor(ctx.config, mode, facts, ctx.memo), facts };
}
