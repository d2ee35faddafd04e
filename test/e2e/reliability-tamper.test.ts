import { afterAll, beforeAll, describe, it } from 'vitest';
import { tempConfig } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';
import { Rng, runSeed, sequenceCount } from '../helpers/reliability.js';
import { runTamperSequences } from '../helpers/tamper.js';

/**
 * CI-sized part of the random-tampering property (the long run is test/reliability/tamper.test.ts):
 * random edits of tsfw's and the admin's nft objects, then one reconcile lands on the golden state
 * and leaves the admin's objects exactly as they were. TSFW_SEED replays a failing run.
 */
describe('reliability: random tampering, one reconcile repairs (nftables)', () => {
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

  it(`random edit sequences land on the golden state, foreign objects untouched (seed ${seed})`, async () => {
    await runTamperSequences(ns, cfg.path, new Rng(seed), sequenceCount(25));
  }, 300_000);
});
