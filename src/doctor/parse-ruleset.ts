import type { NftBaseSpec, NftExpr } from '../backends/nftables/json.js';

/**
 * The whole host ruleset as `nft -j list ruleset` prints it: every table, including ones written
 * by iptables-nft, firewalld, Docker or fw4. Only read, never written.
 */

export interface ForeignRule {
  readonly expr: readonly NftExpr[];
  readonly comment?: string;
}

export interface ForeignChain {
  readonly family: string;
  readonly table: string;
  readonly name: string;
  /** hook, priority, type and policy; absent on regular chains. */
  readonly base?: NftBaseSpec;
  readonly rules: readonly ForeignRule[];
}

export interface ForeignTable {
  readonly family: string;
  readonly name: string;
  readonly chains: readonly ForeignChain[];
}

export interface NftRuleset {
  readonly tables: readonly ForeignTable[];
}

type Listed = Record<string, Record<string, unknown>>;

/** Parses `nft -j list ruleset`. Throws on non-JSON. */
export function parseNftRuleset(text: string): NftRuleset {
  const doc = JSON.parse(text) as { nftables?: Listed[] };
  const tables = new Map<string, { family: string; name: string; chains: Map<string, ForeignChain & { rules: ForeignRule[] }> }>();
  const key = (family: unknown, table: unknown) => `${String(family)} ${String(table)}`;
  for (const item of doc.nftables ?? []) {
    const [kind, body] = Object.entries(item)[0] ?? [];
    if (!kind || !body) continue;
    if (kind === 'table') {
      tables.set(key(body.family, body.name), { family: String(body.family), name: String(body.name), chains: new Map() });
    } else if (kind === 'chain') {
      const table = tables.get(key(body.family, body.table));
      const base: NftBaseSpec | undefined = body.hook === undefined ? undefined : {
        type: body.type as NftBaseSpec['type'],
        hook: String(body.hook),
        prio: Number(body.prio),
        policy: (body.policy as NftBaseSpec['policy']) ?? 'accept',
      };
      table?.chains.set(String(body.name), {
        family: String(body.family), table: String(body.table), name: String(body.name), rules: [], ...(base ? { base } : {}),
      });
    } else if (kind === 'rule') {
      const chain = tables.get(key(body.family, body.table))?.chains.get(String(body.chain));
      chain?.rules.push({
        expr: (body.expr as NftExpr[] | undefined) ?? [],
        ...(typeof body.comment === 'string' ? { comment: body.comment } : {}),
      });
    }
  }
  return { tables: [...tables.values()].map((t) => ({ family: t.family, name: t.name, chains: [...t.chains.values()] })) };
}

/** Every base chain of every table except `exclude` (tsfw's own table), with its table. */
export function foreignBaseChains(ruleset: NftRuleset, exclude: { family: string; name: string }): ForeignChain[] {
  return ruleset.tables
    .filter((t) => !(t.family === exclude.family && t.name === exclude.name))
    .flatMap((t) => t.chains.filter((c) => c.base !== undefined));
}

/** Tables written by iptables-nft carry its built-in table names and upper-case chain names. */
export function isXtablesTable(table: { family: string; name: string }): boolean {
  return (table.family === 'ip' || table.family === 'ip6')
    && ['filter', 'nat', 'mangle', 'raw', 'security'].includes(table.name);
}
