/**
 * The subset of nft's JSON schema (libnftables-json(5)) tsfw reads and writes. Field order
 * follows what `nft -j list` prints, so rendered and observed rules compare as equal text.
 */

export type NftExpr = Record<string, unknown>;

/** A base chain's registration; absent on regular chains. */
export interface NftBaseSpec {
  readonly type: 'filter' | 'nat';
  readonly hook: string;
  readonly prio: number;
  readonly policy: 'accept' | 'drop';
}

export interface NftChainRef {
  readonly family: string;
  readonly table: string;
  readonly name: string;
}

export interface NftRuleSpec {
  readonly family: string;
  readonly table: string;
  readonly chain: string;
  readonly expr: readonly NftExpr[];
  readonly comment?: string;
}

/** One command of a `nft -j -f -` document. */
export type NftCommand =
  | { add: { table: { family: string; name: string } } }
  | { delete: { table: { family: string; name: string } } }
  | { add: { chain: NftChainRef & Partial<NftBaseSpec> } }
  | { delete: { chain: NftChainRef } }
  | { flush: { chain: NftChainRef } }
  | { add: { rule: NftRuleSpec } };

/** The document nft reads on stdin. Always built with JSON.stringify: malformed JSON would fall
 * back to nft's text parser and produce misleading errors. */
export function nftDocument(commands: readonly NftCommand[]): string {
  return JSON.stringify({ nftables: commands });
}

/** JSON with object keys sorted, so equal structures give equal strings whatever the key order. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
