import { ExecError } from '../../exec/errors.js';
import type { CommandResult, RunOptions } from '../../exec/runner.js';
import type { Family, Ruleset } from '../../model/types.js';
import { parseChainListing } from './chain-listing.js';
import { IncompatibleTableError, parseIptablesSave } from './parse.js';
import type { IptChain, IptTableDump } from './parse.js';
import type { IptFamilyState } from './plan.js';
import { parseChainNames, planTableReads } from './read-plan.js';
import type { TableRead } from './read-plan.js';
import { desiredIptTables, IPT_TABLES } from './render.js';
import type { IptTable } from './render.js';

/**
 * Reads one family's iptables state. iptables-legacy: one `iptables-legacy-save -c` (the kernel
 * hands any legacy read the whole table, so a per-chain read costs over half a full one; and
 * naming a legacy table with `-t` would load and create it). iptables-nft: `nft -j list chains`
 * first, then per table what read-plan.ts decides: nothing, one `iptables-nft-save -c -t TABLE`,
 * or `iptables-nft -v -S CHAIN` for each built-in and ts-* chain. A per-chain read that fails
 * (a chain gone between the two reads prints a misleading "incompatible") falls back to the
 * save of that table, which is the authority; without `nft` every table is saved.
 */

type Run = (file: string, args: readonly string[], options?: RunOptions) => Promise<CommandResult>;

export interface IptObserveOptions {
  readonly flavour: 'nft' | 'legacy';
  readonly run: Run;
}

const bin = (family: Family, tool: string) => `${family === 'ip' ? 'iptables' : 'ip6tables'}${tool}`;

function parseSave(command: string, stdout: string): IptTableDump[] {
  try {
    return parseIptablesSave(stdout).filter((t) => (IPT_TABLES as readonly string[]).includes(t.table));
  } catch (error) {
    if (error instanceof IncompatibleTableError) throw new ExecError('incompatible', command, 0, `${error.message} (native nft rules in it; use backend nftables, or remove them)`);
    throw error;
  }
}

async function saveTable(run: Run, family: Family, table: IptTable): Promise<IptTableDump[]> {
  const save = bin(family, '-nft-save');
  return parseSave(`${save} -c -t ${table}`, (await run(save, ['-c', '-t', table])).stdout);
}

async function readChains(run: Run, family: Family, read: TableRead & { how: 'chains' }): Promise<IptTableDump[]> {
  const file = bin(family, '-nft');
  try {
    const chains = await Promise.all(read.chains.map(async (name) => {
      const { stdout } = await run(file, ['-t', read.table, '-w', '-v', '-S', name]);
      return parseChainListing(stdout, name);
    }));
    return [{ table: read.table, chains: chains.filter((c): c is IptChain => c !== undefined) }];
  } catch (error) {
    if (error instanceof ExecError && (error.kind === 'not-found' || error.kind === 'permission')) throw error;
    return saveTable(run, family, read.table);
  }
}

/** The chain names tsfw wants per table of this family, from desired state. */
function wantedChains(desired: Ruleset, family: Family): (table: IptTable) => ReadonlySet<string> {
  const tables = desiredIptTables(desired).filter((t) => t.family === family);
  return (table) => new Set(tables.find((t) => t.table === table)?.chains.map((c) => c.name) ?? []);
}

async function readNft(run: Run, family: Family, desired: Ruleset | undefined): Promise<IptTableDump[]> {
  let reads: TableRead[] | undefined;
  try {
    const listed = parseChainNames((await run('nft', ['-j', 'list', 'chains', family])).stdout);
    if (listed) reads = planTableReads(listed, desired && wantedChains(desired, family));
  } catch {
    // No nft (or one that cannot list): every table is saved, as iptables-nft alone allows.
  }
  const tables = await Promise.all((reads ?? IPT_TABLES.map((table) => ({ table, how: 'save' as const, why: '' }))).map((read) => {
    if (read.how === 'absent') return [];
    if (read.how === 'chains') return readChains(run, family, read);
    return saveTable(run, family, read.table);
  }));
  return tables.flat();
}

/**
 * One family as the planner sees it. `desired`, when given, lets iptables-nft read only tsfw's
 * chains and the built-in ones; without it every table is read whole (status, doctor).
 */
export async function observeIptFamily(opts: IptObserveOptions, family: Family, desired?: Ruleset): Promise<IptFamilyState> {
  try {
    if (opts.flavour === 'nft') return { family, tables: await readNft(opts.run, family, desired) };
    const save = bin(family, '-legacy-save');
    return { family, tables: parseSave(`${save} -c`, (await opts.run(save, ['-c'])).stdout) };
  } catch (error) {
    // No binary means nothing of ours can exist there: `off` needs no tool, a write reports it.
    if (error instanceof ExecError && error.kind === 'not-found') return { family, tables: [], unavailable: true };
    return { family, tables: [], failure: error instanceof Error ? error : new Error(String(error)) };
  }
}
