import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createNftablesBackend } from '../../src/backends/nftables/backend.js';
import type { CommandRunner } from '../../src/exec/runner.js';
import type { Family, Mode } from '../../src/model/types.js';
import { configFrom, EVERYTHING_YAML, rulesetFrom } from '../helpers/configs.js';
import { compareGolden } from '../helpers/golden.js';

/**
 * Golden renders: what `tsfw render` prints for each profile × mode × families, kept as files so
 * every change to the generated ruleset shows up in review. `UPDATE_GOLDEN=1` rewrites them.
 */

export const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'nftables');

/** Rendering is pure: a runner that fails proves nothing is executed. */
const noRunner: CommandRunner = {
  run: () => Promise.reject(new Error('render must not run commands')),
};

interface GoldenCase {
  readonly name: string;
  readonly yaml: string;
  readonly mode: Mode;
}

const FAMILY_SETS: ReadonlyArray<readonly Family[]> = [['ip', 'ip6'], ['ip'], ['ip6']];

/** Every golden case: the default profile in every mode and family set, plus everything enabled. */
export const GOLDEN_CASES: readonly GoldenCase[] = [
  ...(['on', 'nodivert', 'off'] as const).flatMap((mode) =>
    FAMILY_SETS.map((families) => ({
      name: `tailscale-${mode}-${families.join('-')}`,
      yaml: `families: [${families.join(', ')}]\n`,
      mode,
    })),
  ),
  ...(['on', 'nodivert', 'off'] as const).map((mode) => ({ name: `everything-${mode}-ip-ip6`, yaml: EVERYTHING_YAML, mode })),
];

function compare(file: string, actual: string): void {
  compareGolden(GOLDEN_DIR, file, actual, 'test/unit/golden.test.ts');
}

describe('golden nftables renders', () => {
  it.each(GOLDEN_CASES)('$name', ({ yaml, mode, name }) => {
    const config = configFrom(yaml);
    const backend = createNftablesBackend(noRunner, config.nftables);
    const desired = rulesetFrom(yaml, mode);
    compare(`${name}.nft`, backend.render(desired, 'text'));
    compare(`${name}.json`, backend.render(desired, 'json'));
  });

  it('covers every profile x mode x family set, and no golden file is orphaned', () => {
    const names = new Set(GOLDEN_CASES.map((c) => c.name));
    expect(names.size).toBe(3 * 3 + 3);
    const expected = [...names].flatMap((n) => [`${n}.json`, `${n}.nft`]).sort();
    expect(readdirSync(GOLDEN_DIR).sort()).toEqual(expected);
  });

  it('renders the same ruleset identically every time (no dependence on object key order or time)', () => {
    const config = configFrom(EVERYTHING_YAML);
    const backend = createNftablesBackend(noRunner, config.nftables);
    const a = backend.render(rulesetFrom(EVERYTHING_YAML, 'on'), 'json');
    const b = backend.render(rulesetFrom(EVERYTHING_YAML, 'on'), 'json');
    expect(a).toBe(b);
  });
});
