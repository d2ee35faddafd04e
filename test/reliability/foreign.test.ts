import { describe, it } from 'vitest';
import { runForeignCase } from '../helpers/foreign.js';
import { Rng, runSeed, sequenceCount } from '../helpers/reliability.js';

/** Long run (`make reliability`): 30 random admin rulesets per backend stay byte-identical. */
describe('reliability: random foreign rulesets stay byte-identical, long run', () => {
  const seed = runSeed();
  for (const backend of ['nftables', 'iptables-nft'] as const) {
    it(`${backend}: 30 random rulesets through apply / nodivert / on / off / cleanup (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      for (let i = 0; i < sequenceCount(30); i++) await runForeignCase(backend, rng, i);
    }, 1_800_000);
  }
});
