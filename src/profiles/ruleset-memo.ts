import type { Config } from '../config/schema.js';
import type { ResolvedFacts } from '../discovery/facts.js';
import { BUILD_ID, readMemo, writeMemo } from '../fsx/memo.js';
import type { MemoPlace } from '../fsx/memo.js';
import { readBoundedFile } from '../fsx/read-bounded.js';
import { runDirFrom } from '../fsx/run-dir.js';
import type { Mode, Ruleset } from '../model/types.js';
import { RULES_DIR } from './rules-dir.js';

/** The memo file of the last expanded ruleset (src/fsx/memo.ts says when it is trusted). */
export const RULESET_MEMO = 'ruleset.memo.json';

/**
 * rulesetFor, remembered: expansion is a pure function of the config, the mode, the resolved facts
 * and the profiles' text, so a converged `tsfw reconcile` with nothing changed reads the ruleset
 * the previous run expanded instead of filling and checking every rule again. The key holds all
 * of them (the profile files are read each time: an edited profile is a miss); a profile that
 * cannot be read is left to rulesetFor, which reports it.
 */
export async function rememberedRulesetFor(
  config: Config,
  mode: Mode,
  facts: ResolvedFacts,
  memo: MemoPlace = { runDir: runDirFrom(process.env), build: BUILD_ID },
): Promise<Ruleset> {
  let key: string | undefined;
  try {
    const texts = config.profiles.map((name) => readBoundedFile(`${RULES_DIR}${name}.yaml`).toString('utf8'));
    key = JSON.stringify([config, mode, facts, texts]);
  } catch {
    key = undefined;
  }
  const remembered = key === undefined ? undefined : (readMemo(memo, RULESET_MEMO, key) as Ruleset | undefined);
  if (remembered !== undefined) return remembered;
  // A miss imports the expansion (and the profile schemas) now: a hit never loads them.
  const { rulesetFor } = await import('./load.js');
  const ruleset = rulesetFor(config, mode, facts);
  if (key !== undefined) writeMemo(memo, RULESET_MEMO, key, ruleset);
  return ruleset;
}
