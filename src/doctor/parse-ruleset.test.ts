import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NftExpr } from '../backends/nftables/json.js';
import { chainEnd, parseNftRuleset } from './parse-ruleset.js';
import type { ForeignChain } from './parse-ruleset.js';

/** firewalld 1.3's own table (default configuration), as `nft -j list table inet firewalld` printed it. */
const FIREWALLD = parseNftRuleset(readFileSync(new URL('../../test/fixtures/doctor/firewalld-1.3.ruleset.json', import.meta.url), 'utf8'));

function chain(name: string) {
  return FIREWALLD.tables[0]!.chains.find((c) => c.name === name)!;
}

describe('chainEnd', () => {
  it('says firewalld\'s input and forward chains end in a reject, though their policy is accept', () => {
    expect(chain('filter_FORWARD').base?.policy).toBe('accept');
    expect(chainEnd(chain('filter_FORWARD'))).toBe('ends in reject');
    expect(chainEnd(chain('filter_INPUT'))).toBe('ends in reject');
    // Its output chain ends in a jump: the policy is what applies.
    expect(chainEnd(chain('filter_OUTPUT'))).toBe('policy accept');
  });

  it('counts only an unconditional last rule: a match before the verdict leaves the policy', () => {
    const forward = chain('filter_FORWARD');
    const ending = (policy: 'accept' | 'drop', ...expr: NftExpr[]): ForeignChain => ({ ...forward, base: { ...forward.base!, policy }, rules: expr.length ? [{ handle: 1, expr }] : [] });
    expect(chainEnd(ending('accept', { counter: null }, { drop: null }))).toBe('ends in drop');
    expect(chainEnd(ending('accept', { match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'x' } }, { drop: null }))).toBe('policy accept');
    expect(chainEnd(ending('drop'))).toBe('policy drop');
  });
});
