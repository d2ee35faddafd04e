import type { Profile } from './schema.js';

/** One built-in profile as the build validated it: the exact YAML text and the result. */
export interface PrecompiledProfile {
  readonly text: string;
  readonly profile: Profile;
}

/** Built-in profiles by name (rules/<name>.yaml). */
export type PrecompiledProfiles = Readonly<Record<string, PrecompiledProfile>>;

// Replaced by scripts/bundle.mjs (esbuild `define`) with what `precompileProfiles` returned at
// build time; absent from the per-module build and from tests.
declare const TSFW_PRECOMPILED_PROFILES: PrecompiledProfiles | undefined;

/**
 * The profiles the bundle carries, so a pass needs no YAML parse and no profile validation. Used
 * only while the file's text is the text the build saw: an edited rules/*.yaml is parsed again.
 */
export const BUILT_IN_PROFILES: PrecompiledProfiles | undefined =
  typeof TSFW_PRECOMPILED_PROFILES === 'undefined' ? undefined : TSFW_PRECOMPILED_PROFILES;
