import { isOwnedChain } from '../../ownership.js';
import { BUILTIN_CHAINS, IPT_TABLES } from './render.js';
import type { IptTable } from './render.js';

/**
 * Which reads show iptables-nft everything tsfw's plan needs, without reading the admin's rules.
 * `iptables-nft-save -t TABLE` converts every rule of the table (20,000 foreign rules: about
 * 200 ms); `iptables-nft -v -S CHAIN` reads one chain (a few ms whatever the rest holds), and
 * `nft -j list chains` names every chain without reading a rule. Pure: the listing in, a decision
 * per table out.
 */

/** One chain of an iptables-nft table as `nft -j list chains` names it. */
export interface ListedIptChain {
  readonly table: string;
  readonly name: string;
  /** The hook of a base chain; absent on regular chains. */
  readonly hook?: string;
}

/**
 * How to read one table: `absent` (no chain in the kernel, nothing to read), `save` (one
 * iptables-nft-save of the whole table) or `chains` (these chains one by one).
 */
export type TableRead =
  | { readonly table: IptTable; readonly how: 'absent' }
  | { readonly table: IptTable; readonly how: 'save'; readonly why: string }
  | { readonly table: IptTable; readonly how: 'chains'; readonly chains: readonly string[] };

/** The chains of one family's tables in `nft -j list chains FAMILY` output; undefined if it is no listing. */
export function parseChainNames(text: string): ListedIptChain[] | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const items = (doc as { nftables?: unknown } | null)?.nftables;
  if (!Array.isArray(items)) return undefined;
  return items.flatMap((item: { chain?: { table?: unknown; name?: unknown; hook?: unknown } }) => {
    const c = item?.chain;
    if (!c || typeof c.table !== 'string' || typeof c.name !== 'string') return [];
    return [{ table: c.table, name: c.name, ...(typeof c.hook === 'string' ? { hook: c.hook } : {}) }];
  });
}

const isBuiltin = (c: ListedIptChain) => (IPT_TABLES as readonly string[]).includes(c.table) && BUILTIN_CHAINS[c.table as IptTable].includes(c.name);

/**
 * The read of each table. Per chain only where it pays and is complete: some table of the family
 * holds chains of other programs (else one save per table is the cheaper single process; but any
 * save fetches every rule of the family, so beside 10,000 foreign rules even the save of a table
 * of tsfw's alone costs 75 ms), tsfw knows which of its chains it wants (`wanted`, per table;
 * undefined: read everything), and every ts-* chain present is wanted (a stale one is deleted
 * only if no admin rule jumps to it, which only the whole table shows). A base chain that is not a
 * built-in one makes the table one iptables-nft cannot show: the save reports that as before. Per
 * chain, tsfw reads every built-in chain present (its tagged jumps, stale ones included, can only
 * be there) and every ts-* chain.
 */
export function planTableReads(listed: readonly ListedIptChain[], wanted: ((table: IptTable) => ReadonlySet<string>) | undefined): TableRead[] {
  const foreign = listed.some((c) => !isBuiltin(c) && !isOwnedChain(c.name));
  return IPT_TABLES.map((table): TableRead => {
    const chains = listed.filter((c) => c.table === table);
    if (chains.length === 0) return { table, how: 'absent' };
    const builtins: readonly string[] = BUILTIN_CHAINS[table];
    const odd = chains.find((c) => (c.hook !== undefined) !== builtins.includes(c.name));
    if (odd) return { table, how: 'save', why: `chain ${odd.name} is ${odd.hook ? 'a base chain' : 'a regular chain with a built-in name'}` };
    if (!foreign) return { table, how: 'save', why: 'no other program has chains in this family' };
    if (!wanted) return { table, how: 'save', why: 'no desired state given' };
    const want = wanted(table);
    const stale = chains.find((c) => isOwnedChain(c.name) && !want.has(c.name));
    if (stale) return { table, how: 'save', why: `chain ${stale.name} is not wanted` };
    return { table, how: 'chains', chains: chains.filter((c) => builtins.includes(c.name) || isOwnedChain(c.name)).map((c) => c.name) };
  });
}
