import { readdirSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Config } from '../config/schema.js';
import { readBoundedFile, UnreadableFileError } from '../fsx/read-bounded.js';
import { describeIssues } from '../config/errors.js';
import { concreteConfig, resolveFacts } from '../discovery/facts.js';
import type { ResolvedFacts } from '../discovery/facts.js';
import { desiredRuleset } from '../model/desired.js';
import type { Mode, Ruleset } from '../model/types.js';
import { expandProfile, ProfileError } from './expand.js';
import { BUILT_IN_PROFILES } from './precompiled.js';
import type { PrecompiledProfile, PrecompiledProfiles } from './precompiled.js';
import { RULES_DIR } from './rules-dir.js';
import { Profile } from './schema.js';

export { RULES_DIR } from './rules-dir.js';

/** Parses and validates one profile document. Pure; `label` names it in errors. */
export function parseProfile(text: string, label: string): Profile {
  let raw: unknown;
  try {
    raw = parseYaml(text, { uniqueKeys: true });
  } catch (error) {
    throw new ProfileError([`${label}: invalid YAML: ${(error as Error).message.split('\n', 1)[0]}`]);
  }
  const result = Profile.safeParse(raw);
  if (!result.success) throw new ProfileError(describeIssues(result.error.issues).map((l) => `${label}: ${l}`));
  return result.data;
}

const cache = new Map<string, Profile>();

/**
 * Reads a built-in profile from rules/<name>.yaml (cached: they ship with tsfw). The build's
 * precompiled form stands in for parsing when the file still holds the text it was made from.
 */
export function loadProfile(
  name: string,
  dir: string = RULES_DIR,
  precompiled: PrecompiledProfiles | undefined = dir === RULES_DIR ? BUILT_IN_PROFILES : undefined,
): Profile {
  const file = `${dir}${name}.yaml`;
  let profile = cache.get(file);
  if (!profile) {
    let text: string;
    try {
      text = readBoundedFile(file).toString('utf8');
    } catch (error) {
      const reason = error instanceof UnreadableFileError ? error.reason : 'cannot read';
      throw new ProfileError([`profile ${name}: ${file}: ${reason}`]);
    }
    const built = precompiled?.[name];
    profile = built !== undefined && built.text === text ? built.profile : parseProfile(text, `rules/${name}.yaml`);
    cache.set(file, profile);
  }
  return profile;
}

/** Build step (scripts/bundle.mjs): every profile in `dir` parsed and validated, with its text. */
export function precompileProfiles(dir: string = RULES_DIR): PrecompiledProfiles {
  const out: Record<string, PrecompiledProfile> = {};
  for (const entry of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const name = entry.slice(0, -'.yaml'.length);
    const text = readBoundedFile(`${dir}${entry}`).toString('utf8');
    out[name] = { text, profile: parseProfile(text, `rules/${entry}`) };
  }
  return out;
}

/**
 * The desired ruleset for a config in a mode (the config's own mode unless given), with `auto`
 * keys resolved from discovered facts (without them: no own address, the fallback port).
 */
export function rulesetFor(config: Config, mode: Mode = config.mode, facts: ResolvedFacts = resolveFacts(config)): Ruleset {
  // The mode given wins over the file's: `connmark: auto` follows the mode actually applied.
  const concrete = concreteConfig({ ...config, mode }, facts);
  const chains = config.profiles.flatMap((name) => expandProfile(loadProfile(name), concrete));
  return { ...desiredRuleset(mode, config.families, chains), wants: { tunnel: config.interface, ports: facts.ports.values, managers: config.integrations } };
}
