import type { CommandRunner } from '../../exec/runner.js';
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

export type NftBackend = Backend<NftState, NftPiece>;

/**
 * nftables through the nft binary: reads only tsfw's own table (cheap, and immune to other
 * tools' newer expressions) and writes each plan as one `nft -j -f -` transaction.
 */
export function createNftablesBackend(runner: CommandRunner, opts: NftOptions): NftBackend {
  /** The whole plan is one JSON document on stdin: one kernel transaction, all or nothing. */
  const writes = (plan: Plan<NftPiece>): ProcessWrite[] =>
    plan.ops.length === 0 ? [] : [{ file: 'nft', args: ['-j', '-f', '-'], input: nftDocument(nftCommands(plan.ops)) }];
  return {
    name: 'nftables',
    async observe() {
      // The list command goes in as JSON, like every write: nft's text parser would read a table
      // named like one of its keywords (`counter`, `jump`, `ip`, ...) as that keyword.
      const listing = JSON.stringify({ nftables: [{ list: { table: { family: NFT_FAMILY, name: opts.table } } }] });
      const result = await runner.run('nft', ['-j', '-f', '-'], { input: listing, allowFailure: true }).catch((error: unknown) => {
        // No nft binary: nothing tsfw could remove exists, so `off` needs no tool; a write reports it.
        if (error instanceof ExecError && error.kind === 'not-found') return undefined;
        throw error;
      });
      if (result === undefined) return { ...ABSENT, unavailable: true };
      if (result.exitCode === 0) return parseListing(result.stdout, opts.table);
      if (isMissingObject(result.stderr)) return ABSENT;
      throw classifyFailure('nft list table', result.exitCode, result.stderr);
    },
    plan: (desired, state) => planNft(desired, state, opts),
    writes,
    async apply(plan: Plan<NftPiece>) {
      for (const write of writes(plan)) await runner.run(write.file, write.args, { input: write.input });
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
