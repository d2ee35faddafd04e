import type { CommandRunner } from '../../exec/runner.js';
import { reusable } from '../../reconcile/freshness.js';
import type { Freshness } from '../../reconcile/freshness.js';
import { classifyFailure, ExecError, isMissingObject } from '../../exec/errors.js';
import type { Ruleset } from '../../model/types.js';
import { ruleIdFromComment } from '../../ownership.js';
import type { Backend, ObjectStatus, Plan, ProcessWrite } from '../types.js';
import { nftDocument } from './json.js';
import { ABSENT, parseNftTable } from './parse.js';
import type { NftState } from './parse.js';
import { nftCommands, planNft } from './plan.js';
import type { NftPiece } from './plan.js';
import { desiredNftChains, NFT_FAMILY, renderCreateCommands } from './render.js';
import type { NftOptions } from './render.js';
import { renderNftText } from './render-text.js';
import { oneShotLister } from './session.js';
import type { TableLister } from './session.js';

export type NftBackend = Backend<NftState, NftPiece>;

/** How the backend reads its table; by default one nft per read, every read. */
export interface NftReads {
  /** The daemon's nft session (session.ts). */
  readonly listTable?: TableLister;
  /**
   * The daemon's `nft monitor` vouching that nothing in the table changed since the last read
   * (freshness.ts): that reading is then reused, for at most its max age. A write forgets it.
   */
  readonly fresh?: Freshness;
  /** False while a fresh reading is wanted anyway (packet counters for metrics). */
  readonly reuse?: () => boolean;
}

/**
 * nftables through the nft binary: reads only tsfw's own table (cheap, and immune to other
 * tools' newer expressions), with one nft per read or through the daemon's nft session
 * (session.ts), and writes each plan as one `nft -j -f -` transaction. In the daemon a reading is
 * reused while `nft monitor` has reported nothing in the table (NftReads).
 */
export function createNftablesBackend(runner: CommandRunner, opts: NftOptions, reads: NftReads = {}): NftBackend {
  const listTable = reads.listTable ?? oneShotLister(runner);
  /** The whole plan is one JSON document on stdin: one kernel transaction, all or nothing. */
  const writes = (plan: Plan<NftPiece>): ProcessWrite[] =>
    plan.ops.length === 0 ? [] : [{ file: 'nft', args: ['-j', '-f', '-'], input: nftDocument(nftCommands(plan.ops)) }];
  const read = async (): Promise<NftState> => {
    const result = await listTable(NFT_FAMILY, opts.table);
    if (result === undefined) return { ...ABSENT, unavailable: true };
    if (result.exitCode === 0) return parseListing(result.stdout, opts.table);
    if (isMissingObject(result.stderr)) return ABSENT;
    throw classifyFailure('nft list table', result.exitCode, result.stderr);
  };
  const table = reusable(read, reads.fresh);
  // Planning is pure: the same desired ruleset against the same (reused) reading plans the same.
  let planned: { readonly desired: Ruleset; readonly state: NftState; readonly plan: Plan<NftPiece> } | undefined;
  return {
    name: 'nftables',
    observesWithoutDesired: true,
    observe() {
      if (reads.reuse?.() === false) table.forget();
      return table.get();
    },
    plan(desired, state) {
      if (planned?.desired !== desired || planned.state !== state) planned = { desired, state, plan: planNft(desired, state, opts) };
      return planned.plan;
    },
    writes,
    async apply(plan: Plan<NftPiece>) {
      // What the kernel holds from now on was not read; the monitor's report of it may lag.
      table.forget();
      try {
        for (const write of writes(plan)) await runner.run(write.file, write.args, { input: write.input });
      } finally {
        table.forget();
      }
    },
    inspect: (desired, state) => inspectNft(desired, state, opts),
    render(desired: Ruleset, format) {
      return format === 'json'
        ? `${JSON.stringify({ nftables: renderCreateCommands(desired, opts) }, null, 2)}\n`
        : renderNftText(desired, opts);
    },
  };
}

/** Each wanted chain and rule: present or missing, with packet counters. Pure. */
export function inspectNft(desired: Ruleset, state: NftState, opts: NftOptions): ObjectStatus[] {
  const out: ObjectStatus[] = [];
  const seen = new Map(state.chains.map((c) => [c.name, c]));
  for (const chain of desiredNftChains(desired, opts)) {
    const observed = seen.get(chain.name);
    out.push({ family: NFT_FAMILY, table: opts.table, chain: chain.name, present: observed !== undefined });
    const byId = new Map((observed?.rules ?? []).map((r) => [ruleIdFromComment(r.comment), r]));
    for (const id of chain.ruleIds) {
      const rule = byId.get(id);
      out.push({
        family: NFT_FAMILY,
        table: opts.table,
        chain: chain.name,
        rule: id,
        present: rule !== undefined,
        ...(rule ? { packets: rule.packets, bytes: rule.bytes } : {}),
      });
    }
  }
  return out;
}

/** The listing, or one line saying nft printed something else (never a TypeError from deep inside). */
function parseListing(text: string, table: string): NftState {
  try {
    return parseNftTable(text, table);
  } catch {
    const start = JSON.stringify(text.trim().slice(0, 60));
    throw new ExecError('failed', 'nft list table', 0, `nft printed something that is not its JSON listing (starts with ${start})`);
  }
}
