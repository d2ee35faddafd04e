import { isOwnedChain } from '../ownership.js';

/**
 * Reading `nft monitor` (text mode) lines. Each change is one line, `<op> <object> <family>
 * <table> [<chain or name>] …`; nft 1.0.6 ends every committed transaction with
 * `# new generation N by process PID (NAME)`, the boundary at which a repair pass may start and
 * the name of the program that made the change; `# ERROR: We lost some netlink events!` means the
 * kernel dropped notifications and the state must be read again. Pure.
 */

/** One monitor line, classified. */
export type MonitorLine =
  | {
    readonly kind: 'change';
    readonly summary: string;
    readonly object: string;
    readonly family?: string;
    readonly table?: string;
    /** The chain a chain or rule line is about. */
    readonly chain?: string;
  }
  | { readonly kind: 'commit'; readonly generation: number; readonly pid: number; readonly process: string }
  | { readonly kind: 'lost-events' }
  | { readonly kind: 'other'; readonly text: string };

/** Which changes can concern tsfw: the rest never cause a pass. */
export interface EventScope {
  /** `family table` pairs, e.g. `inet tsfw`, or `ip filter` for iptables-nft. */
  readonly tables: readonly string[];
  /** Chains tsfw does not own but writes into (iptables' built-ins, where its jumps live). */
  readonly builtins?: readonly string[];
}

const COMMIT = /^# new generation (\d+) by process (\d+) \((.*)\)$/;
const CHANGE = /^(add|delete|destroy|flush|insert|replace|update|create|reset) (\w+)(?: (\S+))?(?: (\S+))?(?: (\S+))?/;

/** Parses one line of `nft monitor` output. */
export function parseMonitorLine(line: string): MonitorLine {
  const text = line.trim();
  if (/lost some netlink events/i.test(text)) return { kind: 'lost-events' };
  const commit = COMMIT.exec(text);
  if (commit) return { kind: 'commit', generation: Number(commit[1]), pid: Number(commit[2]), process: commit[3]! };
  const change = CHANGE.exec(text);
  if (!change) return { kind: 'other', text };
  const [, op, object, family, table, name] = change as unknown as [string, string, string, string?, string?, string?];
  if (object === 'ruleset') return { kind: 'change', summary: `${op} ruleset`, object };
  const chain = object === 'chain' || object === 'rule' ? name : undefined;
  const summary = [op, object, family, table, chain].filter(Boolean).join(' ');
  return { kind: 'change', summary, object, ...(family ? { family } : {}), ...(table ? { table } : {}), ...(chain ? { chain } : {}) };
}

/**
 * Whether a change can concern tsfw: its table as a whole, or a chain (or a rule in a chain) it
 * owns or writes jumps into. An admin's own chain, set or rule in a table tsfw uses is not a
 * reason for a pass; a change that cannot be attributed is.
 */
export function isRelevant(line: MonitorLine, scope: EventScope): boolean {
  if (line.kind === 'lost-events') return true;
  if (line.kind !== 'change') return false;
  if (!line.family || !line.table) return true;
  if (!scope.tables.includes(`${line.family} ${line.table}`)) return false;
  if (line.object === 'table') return true;
  if (line.object !== 'chain' && line.object !== 'rule') return false;
  return line.chain === undefined || isOwnedChain(line.chain) || (scope.builtins ?? []).includes(line.chain);
}

/**
 * Whether a change may concern an iptables-nft `filter` table (`ip filter`, `ip6 filter`: where
 * Docker's DOCKER-USER chain lives), or cannot be attributed to a table (`flush ruleset`). Such a
 * line makes the daemon probe for Docker's chains again.
 */
export function touchesIptFilter(line: MonitorLine): boolean {
  return touchesTables(line, ['ip filter', 'ip6 filter']);
}

/**
 * Whether a line may mean that one of these tables (`family table`) changed in any way: any
 * change in it (an admin's chain or set too), a change that cannot be attributed to a table, a
 * line not understood, lost events. What makes the daemon read its own table again.
 */
export function touchesTables(line: MonitorLine, tables: readonly string[]): boolean {
  if (line.kind === 'commit') return false;
  if (line.kind !== 'change') return true;
  if (!line.family || !line.table) return true;
  return tables.includes(`${line.family} ${line.table}`);
}
