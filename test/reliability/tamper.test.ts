import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';
import { Rng, runSeed, sequenceCount } from '../helpers/reliability.js';
import { runTamperSequences } from '../helpers/tamper.js';

/**
 * The long random-tampering property (`make reliability`): hundreds of random sequences of edits
 * to tsfw's and the admin's objects, each followed by ONE reconcile that must land exactly on the
 * golden state and leave every foreign object (handles included) unchanged. TSFW_SEED replays.
 */
describe('reliability: random tampering, long run (nftables)', () => {
  let ns: Netns;
  let cfg: TempConfig;
  const seed = runSeed();
  beforeAll(async () => {
    ns = await createNetns('tsfwrel');
    cfg = tempConfig({ backend: 'nftables' });
  });
  afterAll(async () => {
    await ns?.destroy();
    cfg?.remove();
  });

  it(`300 random edit sequences, each repaired by one reconcile (seed ${seed})`, async () => {
    const { edits, repaired } = await runTamperSequences(ns, cfg.path, new Rng(seed), sequenceCount(300));
    process.stdout.write(`tamper: seed ${seed}: ${edits} edits, ${repaired} sequences needed a repair\n`);
    expect(repaired).toBeGreaterThan(0);
  }, 1_800_000);
});
