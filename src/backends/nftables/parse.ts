import type { NftBaseSpec, NftExpr } from './json.js';
import { parseNftListing } from './listing.js';

/** A rule as nft lists it, with counters split out and the handle kept for positioning. */
export interface ObservedNftRule {
  readonly handle: number;
  /** Expressions with counter values zeroed, comparable to rendered ones. */
  readonly expr: readonly NftExpr[];
  readonly comment?: string;
  readonly packets: number;
  readonly bytes: number;
}

export interface ObservedNftChain {
  readonly name: string;
  readonly base?: NftBaseSpec;
  readonly rules: readonly ObservedNftRule[];
}

/** tsfw's table as the kernel has it. */
export interface NftState {
  readonly exists: boolean;
  readonly chains: readonly ObservedNftChain[];
  /** Sets, maps, flowtables, ... in the table: never tsfw's, so they keep the table alive. */
  readonly otherObjects: readonly string[];
  /** The nft binary is not installed: nothing of tsfw's can exist, and nothing can be written. */
  readonly unavailable?: boolean;
}

export const ABSENT: NftState = { exists: false, chains: [], otherObjects: [] };

/** Zeroes counter values so the same rule compares equal however many packets it has seen. */
function normalizeExpr(expr: readonly NftExpr[]): { expr: NftExpr[]; packets: number; bytes: number } {
  let packets = 0;
  let bytes = 0;
  const out = expr.map((e) => {
    const counter = e.counter as { packets?: number; bytes?: number } | null | undefined;
    if (counter && typeof counter === 'object') {
      packets += counter.packets ?? 0;
      bytes += counter.bytes ?? 0;
      return { counter: { packets: 0, bytes: 0 } };
    }
    return e;
  });
  return { expr: out, packets, bytes };
}

/** Parses `nft -j list table inet NAME` output. Unknown object kinds are kept as foreign. */
export function parseNftTable(text: string, table: string): NftState {
  const listed = parseNftListing(text).find((t) => t.name === table);
  if (!listed) return ABSENT;
  const chains = listed.chains.map((c): ObservedNftChain => ({
    name: c.name,
    ...(c.base ? { base: c.base } : {}),
    rules: c.rules.map((r) => ({ handle: r.handle, ...normalizeExpr(r.expr), ...(r.comment === undefined ? {} : { comment: r.comment }) })),
  }));
  return { exists: true, chains, otherObjects: listed.otherObjects };
}

/** Chains named by jump/goto verdicts in these rules. */
export function jumpTargets(rules: readonly ObservedNftRule[]): Set<string> {
  const targets = new Set<string>();
  for (const rule of rules) {
    for (const e of rule.expr) {
      const verdict = (e.jump ?? e.goto) as { target?: string } | undefined;
      if (verdict?.target) targets.add(verdict.target);
    }
  }
  return targets;
}
