import { classifyFailure } from '../../exec/errors.js';
import type { CommandResult, CommandRunner, RunOptions } from '../../exec/runner.js';
import { stableStringify } from '../nftables/json.js';
import type { NftExpr } from '../nftables/json.js';
import { emptyRuleset, FakeNftError, findTable } from './fake-ruleset.js';
import type { FakeRuleset, FakeTable } from './fake-ruleset.js';
import { applyTransaction } from './fake-transaction.js';

/**
 * An in-memory nft: answers `nft -j list table|ruleset` and `nft -j -f -` like the real binary on
 * a kernel, all or nothing per document, so the real nftables backend runs on top of it in unit
 * tests (no root, no kernel). Anything else it is asked to run fails loudly.
 */

/** The outcome of one transaction, for tests that tamper with the state directly. */
export type FakeResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** The fake is a CommandRunner (checked by the compiler), plus inspection helpers for tests. */
export interface FakeNftables extends CommandRunner {
  /** Applies nft JSON commands as one transaction (like `nft -j -f -`). */
  transact(commands: readonly unknown[]): FakeResult;
  /** What `nft -j list table FAMILY NAME` prints, parsed; undefined when the table is missing. */
  listTable(family: string, name: string): { nftables: unknown[] } | undefined;
  /** Sorted, handle-free, counter-free text of everything, for comparing states. */
  dump(): string;
  /** Every command line run, e.g. `nft -j -f -`, in order. */
  readonly calls: readonly string[];
  /** How many write documents nft accepted. */
  readonly writes: number;
}

const METAINFO = { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } };

/** Creates an empty fake (a fresh network namespace with no ruleset). */
export function createFakeNftables(): FakeNftables {
  let state: FakeRuleset = emptyRuleset();
  let writes = 0;
  const calls: string[] = [];

  const transact = (commands: readonly unknown[]): FakeResult => {
    try {
      state = applyTransaction(state, commands);
      return { ok: true };
    } catch (error) {
      if (error instanceof FakeNftError) return { ok: false, error: error.message };
      throw error;
    }
  };

  const listTable = (family: string, name: string) => {
    const table = findTable(state, family, name);
    return table ? { nftables: [METAINFO, ...listObjects(table)] } : undefined;
  };

  const answer = (args: readonly string[], input: string | undefined): CommandResult => {
    const [flag, verb, what, family, name] = args;
    if (flag === '-j' && verb === 'list' && what === 'table' && family && name && args.length === 5) {
      const doc = listTable(family, name);
      if (doc) return ok(JSON.stringify(doc));
      return fail(`Error: No such file or directory\nlist table ${family} ${name}\n${' '.repeat(11)}^^^^^^^^^^^^^^^^^^\n`);
    }
    if (flag === '-j' && verb === 'list' && what === 'ruleset' && args.length === 3) {
      return ok(JSON.stringify({ nftables: [METAINFO, ...state.tables.flatMap(listObjects)] }));
    }
    if (flag === '-j' && verb === '-f' && what === '-' && args.length === 3) {
      let doc: unknown;
      try {
        doc = JSON.parse(input ?? '');
      } catch {
        return fail('Error: syntax error: stdin is not a JSON document\n');
      }
      const commands = (doc as { nftables?: unknown } | null)?.nftables;
      if (!Array.isArray(commands)) return fail('Error: JSON document has no "nftables" array\n');
      const listed = listCommand(commands);
      if (listed) {
        const found = listTable(listed.family, listed.name);
        return found ? ok(JSON.stringify(found)) : fail('internal:0:0-0: Error: No such file or directory\n');
      }
      const result = transact(commands);
      if (!result.ok) return fail(`internal:0:0-0: Error: Could not process rule: ${result.error}\n`);
      writes++;
      return ok('');
    }
    return fail(`fake nft: unsupported invocation: nft ${args.join(' ')}\n`);
  };

  return {
    async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
      const command = [file, ...args].join(' ');
      calls.push(command);
      const result = file === 'nft' ? answer(args, options.input) : fail(`fake nft: cannot run ${file}\n`);
      // Like the process runner: non-zero exits throw typed errors unless the caller allows them.
      if (result.exitCode !== 0 && !options.allowFailure) throw classifyFailure(command, result.exitCode, result.stderr);
      return result;
    },
    transact,
    listTable,
    dump: () => dumpRuleset(state),
    calls,
    get writes() {
      return writes;
    },
  };
}

function ok(stdout: string): CommandResult {
  return { stdout: `${stdout}\n`, stderr: '', exitCode: 0 };
}

function fail(stderr: string): CommandResult {
  return { stdout: '', stderr, exitCode: 1 };
}

/** One table in the order and shape `nft -j list table` prints: table, sets, chains, rules. */
function listObjects(table: FakeTable): unknown[] {
  const ref = { family: table.family, table: table.name };
  return [
    { table: { family: table.family, name: table.name, handle: table.handle } },
    ...table.sets.map((s) => ({ set: { family: table.family, name: s.name, table: table.name, ...s.spec, handle: s.handle } })),
    ...table.chains.map((c) => ({ chain: { ...ref, name: c.name, handle: c.handle, ...c.base } })),
    ...table.chains.flatMap((c) => c.rules.map((r) => ({
      rule: { ...ref, chain: c.name, handle: r.handle, ...(r.comment === undefined ? {} : { comment: r.comment }), expr: r.expr },
    }))),
  ];
}

function zeroCounters(expr: readonly NftExpr[]): NftExpr[] {
  return expr.map((e) => ('counter' in e ? { counter: { packets: 0, bytes: 0 } } : e));
}

/** Sorted (tables, sets, chains by name; rules keep their order), handle- and counter-free text. */
export function dumpRuleset(state: FakeRuleset): string {
  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const tables = [...state.tables].sort((a, b) => `${a.family} ${a.name}`.localeCompare(`${b.family} ${b.name}`));
  const lines: string[] = [];
  for (const table of tables) {
    lines.push(`table ${table.family} ${table.name}`);
    for (const set of [...table.sets].sort(byName)) lines.push(`  set ${set.name} ${stableStringify(set.spec)}`);
    for (const chain of [...table.chains].sort(byName)) {
      const base = chain.base
        ? ` type ${chain.base.type} hook ${chain.base.hook} prio ${chain.base.prio} policy ${chain.base.policy}`
        : '';
      lines.push(`  chain ${chain.name}${base}`);
      for (const rule of chain.rules) {
        lines.push(`    ${stableStringify({ expr: zeroCounters(rule.expr), comment: rule.comment ?? null })}`);
      }
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** `{"list": {"table": {family, name}}}` as the only command of a JSON document (how tsfw reads its table). */
function listCommand(commands: readonly unknown[]): { family: string; name: string } | undefined {
  if (commands.length !== 1) return undefined;
  const table = (commands[0] as { list?: { table?: { family?: unknown; name?: unknown } } } | null)?.list?.table;
  return typeof table?.family === 'string' && typeof table.name === 'string' ? { family: table.family, name: table.name } : undefined;
}
