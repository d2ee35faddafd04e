import { readFileSync } from 'node:fs';

/** Real `nft -j list table inet tsfw` output captured in namespaces (see test/fixtures/nftables/README.md). */
export function nftFixture(name: string): string {
  return readFileSync(new URL(`../fixtures/nftables/${name}`, import.meta.url), 'utf8');
}
