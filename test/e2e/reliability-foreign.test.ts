import { describe, it } from 'vitest';
import { runForeignCase } from '../helpers/foreign.js';
import { Rng, runSeed, sequenceCount } from '../helpers/reliability.js';

/** CI-sized: random admin rulesets stay byte-identical through apply, mode changes, off and cleanup. */
describe('reliability: random foreign rulesets stay byte-identical', () => {
  const seed = runSeed();
  for (const backend of ['nftables', 'iptables-nft'] as const) {
    it(`${backend}: apply / nodivert / on / off / cleanup leave them untouched (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      for (let i = 0; i < sequenceCount(3); i++) await runForeignCase(backend, rng, i);
    }, 300_000);
  }
});
