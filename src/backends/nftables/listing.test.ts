import { describe, expect, it } from 'vitest';
import { NftListingError, parseNftListing } from './listing.js';

describe('parseNftListing', () => {
  it('reads tables, chains, rules and other objects of a listing', () => {
    const text = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { table: { family: 'inet', name: 'tsfw', handle: 1 } },
        { chain: { family: 'inet', table: 'tsfw', name: 'ts-input', handle: 2 } },
        { chain: { family: 'inet', table: 'tsfw', name: 'tsfw-filter-input', handle: 3, type: 'filter', hook: 'input', prio: -10, policy: 'accept' } },
        { rule: { family: 'inet', table: 'tsfw', chain: 'ts-input', handle: 4, comment: 'tsfw:ts-input/x', expr: [{ accept: null }] } },
        { set: { family: 'inet', table: 'tsfw', name: 'admins' } },
      ],
    });
    const [table] = parseNftListing(text);
    expect(table?.chains.map((c) => [c.name, c.base?.hook, c.rules.length])).toEqual([['ts-input', undefined, 1], ['tsfw-filter-input', 'input', 0]]);
    expect(table?.chains[0]?.rules[0]).toEqual({ handle: 4, comment: 'tsfw:ts-input/x', expr: [{ accept: null }] });
    expect(table?.otherObjects).toEqual(['set admins']);
  });

  it.each([
    ['not JSON', 'Error: syntax error'],
    ['JSON without a listing', '{"foo": 1}'],
    ['a listing that is not a list', '{"nftables": {"table": 1}}'],
    ['null', 'null'],
    ['empty output', ''],
  ])('refuses %s with one line naming nft', (_what, text) => {
    expect(() => parseNftListing(text)).toThrow(NftListingError);
    try {
      parseNftListing(text);
    } catch (error) {
      expect((error as Error).message).toMatch(/^nft -j list printed no JSON listing/);
      expect((error as Error).message).not.toContain('\n');
    }
  });
});
