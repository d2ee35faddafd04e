import type { NftBaseSpec, NftExpr } from '../nftables/json.js';

/**
 * The in-memory netfilter state behind the fake nft: tables of sets, chains and rules with
 * kernel-style handles, plus the rules that make the kernel refuse a transaction. Plain data so a
 * transaction can work on a copy and be dropped whole when one command is invalid.
 */

/** A rule as the kernel keeps it: its handle, statements and comment. */
export interface FakeRule {
  readonly handle: number;
  readonly expr: readonly NftExpr[];
  readonly comment?: string;
}

/** A chain; `base` is set for chains registered at a hook. */
export interface FakeChain {
  readonly name: string;
  readonly handle: number;
  base?: NftBaseSpec;
  rules: FakeRule[];
}

/** A named set; tsfw never creates one, so sets only appear as the admin's objects. */
export interface FakeSet {
  readonly name: string;
  readonly handle: number;
  /** Everything nft printed or was given besides family, table, name and handle. */
  readonly spec: Readonly<Record<string, unknown>>;
}

/** One table of one family, with its objects in creation order. */
export interface FakeTable {
  readonly family: string;
  readonly name: string;
  readonly handle: number;
  /** Creation order, which is the order nft lists them in. */
  chains: FakeChain[];
  sets: FakeSet[];
  /** Chains, rules and sets share one handle counter per table, as in the kernel. */
  nextHandle: number;
}

/** Everything in the fake network namespace. */
export interface FakeRuleset {
  tables: FakeTable[];
  nextTableHandle: number;
}

/** Why the fake kernel refused a command: the errno text nft prints for it. */
export type FakeErrno = 'No such file or directory' | 'File exists' | 'Device or resource busy'
  | 'Operation not supported' | 'Invalid argument' | 'Too many links';

/** A refused command; the whole transaction is dropped. */
export class FakeNftError extends Error {
  constructor(readonly errno: FakeErrno, detail: string) {
    super(`${detail}: ${errno}`);
    this.name = 'FakeNftError';
  }
}

/** An empty ruleset (a fresh network namespace). */
export function emptyRuleset(): FakeRuleset {
  return { tables: [], nextTableHandle: 1 };
}

/** Statement kinds the fake accepts in a rule; anything else is refused like an unknown expression. */
const KNOWN_STATEMENTS = new Set([
  'match', 'counter', 'accept', 'drop', 'return', 'continue', 'jump', 'goto', 'masquerade', 'mangle',
  'log', 'reject', 'limit', 'notrack', 'snat', 'dnat', 'redirect', 'queue',
]);
const MATCH_OPS = new Set(['==', '!=', 'in', '!', '<', '>', '<=', '>=']);
/** Hooks where a nat chain may masquerade (the kernel's chain validation). */
const MASQUERADE_HOOKS = new Set(['postrouting']);
/** Deepest jump nesting the kernel allows before refusing (NFT_JUMP_STACK_SIZE). */
const MAX_JUMP_DEPTH = 16;

/** The table, or undefined. */
export function findTable(state: FakeRuleset, family: string, name: string): FakeTable | undefined {
  return state.tables.find((t) => t.family === family && t.name === name);
}

/** The table, or the kernel's ENOENT. */
export function requireTable(state: FakeRuleset, family: string, name: string): FakeTable {
  const table = findTable(state, family, name);
  if (!table) throw new FakeNftError('No such file or directory', `table ${family} ${name}`);
  return table;
}

/** The chain, or the kernel's ENOENT. */
export function requireChain(table: FakeTable, name: string): FakeChain {
  const chain = table.chains.find((c) => c.name === name);
  if (!chain) throw new FakeNftError('No such file or directory', `chain ${table.family} ${table.name} ${name}`);
  return chain;
}

/** The chain a jump/goto statement names, or undefined. */
export function verdictTarget(expr: NftExpr): string | undefined {
  const verdict = (expr.jump ?? expr.goto) as { target?: unknown } | undefined;
  return typeof verdict?.target === 'string' ? verdict.target : undefined;
}

/** Set names referenced as "@name" anywhere inside an expression. */
function setReferences(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string' && value.startsWith('@')) out.add(value.slice(1));
  else if (Array.isArray(value)) value.forEach((v) => setReferences(v, out));
  else if (value !== null && typeof value === 'object') Object.values(value).forEach((v) => setReferences(v, out));
  return out;
}

/** Checks one rule's expressions against the table as it is at this point of the transaction. */
export function checkRule(table: FakeTable, chain: string, expr: unknown): readonly NftExpr[] {
  const where = `rule in chain ${table.family} ${table.name} ${chain}`;
  if (!Array.isArray(expr) || expr.length === 0) throw new FakeNftError('Invalid argument', `${where}: expr must be a non-empty list`);
  for (const item of expr as unknown[]) {
    if (item === null || typeof item !== 'object' || Array.isArray(item) || Object.keys(item).length !== 1) {
      throw new FakeNftError('Invalid argument', `${where}: malformed statement ${JSON.stringify(item)}`);
    }
    const [kind] = Object.keys(item);
    if (!KNOWN_STATEMENTS.has(kind!)) throw new FakeNftError('Invalid argument', `${where}: unknown statement ${kind}`);
    const body = (item as Record<string, unknown>)[kind!];
    if (kind === 'match') {
      const m = body as { op?: unknown; left?: unknown; right?: unknown } | null;
      if (!m || !MATCH_OPS.has(String(m.op)) || m.left === undefined || m.right === undefined) {
        throw new FakeNftError('Invalid argument', `${where}: malformed match ${JSON.stringify(body)}`);
      }
    }
    const target = verdictTarget(item as NftExpr);
    if (kind === 'jump' || kind === 'goto') {
      if (target === undefined) throw new FakeNftError('Invalid argument', `${where}: ${kind} without target`);
      const to = requireChain(table, target);
      if (to.base) throw new FakeNftError('Operation not supported', `${where}: cannot ${kind} to base chain ${target}`);
    }
    for (const set of setReferences(body)) {
      if (!table.sets.some((s) => s.name === set)) throw new FakeNftError('No such file or directory', `${where}: set @${set}`);
    }
  }
  return structuredClone(expr as NftExpr[]);
}

/** Names of chains some rule in the table jumps or goes to. */
export function referencedChains(table: FakeTable): Set<string> {
  const out = new Set<string>();
  for (const chain of table.chains) {
    for (const rule of chain.rules) {
      for (const e of rule.expr) {
        const target = verdictTarget(e);
        if (target !== undefined) out.add(target);
      }
    }
  }
  return out;
}

/** Names of sets some rule in the table uses. */
export function referencedSets(table: FakeTable): Set<string> {
  const out = new Set<string>();
  for (const chain of table.chains) for (const rule of chain.rules) setReferences(rule.expr, out);
  return out;
}

/**
 * What the kernel checks when the transaction commits: no jump loops or too-deep nesting, and
 * masquerade only reachable from nat chains at postrouting.
 */
export function validateCommit(state: FakeRuleset): void {
  for (const table of state.tables) {
    const byName = new Map(table.chains.map((c) => [c.name, c]));
    for (const base of table.chains.filter((c) => c.base)) {
      const walk = (chain: FakeChain, path: readonly string[]): void => {
        if (path.length > MAX_JUMP_DEPTH) throw new FakeNftError('Too many links', `chain ${chain.name}: jumps nest too deep`);
        for (const rule of chain.rules) {
          for (const e of rule.expr) {
            if ('masquerade' in e && (base.base?.type !== 'nat' || !MASQUERADE_HOOKS.has(base.base.hook))) {
              throw new FakeNftError('Operation not supported', `chain ${chain.name}: masquerade reached from ${base.name}`);
            }
            const target = verdictTarget(e);
            if (target === undefined) continue;
            if (path.includes(target)) throw new FakeNftError('Too many links', `chain ${target}: jump loop`);
            const next = byName.get(target);
            if (next) walk(next, [...path, target]);
          }
        }
      };
      walk(base, [base.name]);
    }
  }
}
