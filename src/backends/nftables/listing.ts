import type { NftBaseSpec, NftExpr } from './json.js';

/**
 * The one reader of `nft -j list …` output (a single table or the whole ruleset): tables, their
 * chains and rules, as listed. The backend (tsfw's table) and doctor (every table) both build on
 * it, so a change in nft's JSON is handled in one place.
 */

export interface ListedRule {
  readonly handle: number;
  readonly expr: readonly NftExpr[];
  readonly comment?: string;
}

export interface ListedChain {
  readonly family: string;
  readonly table: string;
  readonly name: string;
  /** hook, priority, type and policy; absent on regular chains. */
  readonly base?: NftBaseSpec;
  readonly rules: readonly ListedRule[];
}

export interface ListedTable {
  readonly family: string;
  readonly name: string;
  readonly chains: readonly ListedChain[];
  /** Sets, maps, flowtables, … in the table, as `kind name`. */
  readonly otherObjects: readonly string[];
}

/** nft printed something that is not a JSON listing (a newer or broken nft, or another program). */
export class NftListingError extends Error {
  constructor(text: string) {
    const shown = text.trim().split('\n', 1)[0]?.slice(0, 60) ?? '';
    super(`nft -j list printed no JSON listing${shown ? `: ${JSON.stringify(shown)}` : ' (empty output)'}`);
    this.name = 'NftListingError';
  }
}

type Body = Record<string, unknown>;
type MutableTable = { family: string; name: string; chains: Map<string, ListedChain & { rules: ListedRule[] }>; otherObjects: string[] };

function listedItems(text: string): Body[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new NftListingError(text);
  }
  const items = (doc as { nftables?: unknown } | null)?.nftables;
  if (!Array.isArray(items)) throw new NftListingError(text);
  return items.filter((i): i is Body => typeof i === 'object' && i !== null);
}

function baseSpec(body: Body): NftBaseSpec | undefined {
  if (body.hook === undefined) return undefined;
  return {
    type: body.type as NftBaseSpec['type'],
    hook: String(body.hook),
    prio: Number(body.prio),
    policy: (body.policy as NftBaseSpec['policy']) ?? 'accept',
  };
}

/** Parses `nft -j list table|ruleset`; throws NftListingError on anything else. */
export function parseNftListing(text: string): ListedTable[] {
  const tables = new Map<string, MutableTable>();
  const key = (family: unknown, table: unknown) => `${String(family)} ${String(table)}`;
  for (const item of listedItems(text)) {
    const [kind, raw] = Object.entries(item)[0] ?? [];
    if (!kind || typeof raw !== 'object' || raw === null || kind === 'metainfo') continue;
    const body = raw as Body;
    if (kind === 'table') {
      tables.set(key(body.family, body.name), { family: String(body.family), name: String(body.name), chains: new Map(), otherObjects: [] });
      continue;
    }
    const table = tables.get(key(body.family, body.table));
    if (!table) continue;
    if (kind === 'chain') {
      const base = baseSpec(body);
      table.chains.set(String(body.name), { family: table.family, table: table.name, name: String(body.name), rules: [], ...(base ? { base } : {}) });
    } else if (kind === 'rule') {
      table.chains.get(String(body.chain))?.rules.push({
        handle: Number(body.handle),
        expr: Array.isArray(body.expr) ? (body.expr as NftExpr[]) : [],
        ...(typeof body.comment === 'string' ? { comment: body.comment } : {}),
      });
    } else {
      table.otherObjects.push(`${kind} ${String(body.name ?? '?')}`);
    }
  }
  return [...tables.values()].map((t) => ({ family: t.family, name: t.name, chains: [...t.chains.values()], otherObjects: t.otherObjects }));
}
