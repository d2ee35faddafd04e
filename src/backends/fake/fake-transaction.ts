import type { NftBaseSpec } from '../nftables/json.js';
import {
  checkRule, FakeNftError, findTable, referencedChains, referencedSets, requireChain, requireTable, validateCommit,
} from './fake-ruleset.js';
import type { FakeChain, FakeRule, FakeRuleset, FakeTable } from './fake-ruleset.js';

/**
 * Applies one `nft -j -f` document to the fake ruleset the way the kernel does: every command
 * works on a copy, and the first invalid one discards the copy, so a transaction is all or nothing.
 */

type Body = Record<string, unknown>;

const VERBS = ['add', 'create', 'insert', 'replace', 'delete', 'flush'] as const;
type Verb = (typeof VERBS)[number];

/** Runs `commands` against a copy of `state`; returns the new state or throws FakeNftError. */
export function applyTransaction(state: FakeRuleset, commands: readonly unknown[]): FakeRuleset {
  const next = structuredClone(state);
  commands.forEach((command, index) => {
    try {
      applyCommand(next, command);
    } catch (error) {
      if (error instanceof FakeNftError) error.message = `command ${index}: ${error.message}`;
      throw error;
    }
  });
  validateCommit(next);
  return next;
}

function applyCommand(state: FakeRuleset, command: unknown): void {
  const [verb, inner] = single(command, 'command');
  if (!(VERBS as readonly string[]).includes(verb)) throw new FakeNftError('Invalid argument', `unknown command ${verb}`);
  const [object, body] = single(inner, verb);
  const handler = HANDLERS[`${verb} ${object}`];
  if (!handler) throw new FakeNftError('Invalid argument', `${verb} ${object} is not supported`);
  handler(state, body as Body, verb as Verb);
}

function single(value: unknown, what: string): [string, unknown] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length !== 1) {
    throw new FakeNftError('Invalid argument', `${what}: expected an object with one key, got ${JSON.stringify(value)}`);
  }
  return Object.entries(value)[0]!;
}

function str(body: Body, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '') throw new FakeNftError('Invalid argument', `missing ${key} in ${JSON.stringify(body)}`);
  return value;
}

function tableOf(state: FakeRuleset, body: Body): FakeTable {
  return requireTable(state, str(body, 'family'), str(body, 'table'));
}

function baseSpec(body: Body): NftBaseSpec | undefined {
  const given = ['type', 'hook', 'prio'].filter((k) => body[k] !== undefined);
  if (given.length === 0) return undefined;
  if (given.length !== 3 || typeof body.prio !== 'number') {
    throw new FakeNftError('Invalid argument', `base chain ${String(body.name)} needs type, hook and a numeric prio`);
  }
  return {
    type: str(body, 'type') as NftBaseSpec['type'],
    hook: str(body, 'hook'),
    prio: body.prio,
    policy: (body.policy as NftBaseSpec['policy'] | undefined) ?? 'accept',
  };
}

function addTable(state: FakeRuleset, body: Body, verb: Verb): void {
  const family = str(body, 'family');
  const name = str(body, 'name');
  if (findTable(state, family, name)) {
    if (verb === 'create') throw new FakeNftError('File exists', `table ${family} ${name}`);
    return;
  }
  state.tables.push({ family, name, handle: state.nextTableHandle++, chains: [], sets: [], nextHandle: 1 });
}

function deleteTable(state: FakeRuleset, body: Body): void {
  const table = requireTable(state, str(body, 'family'), str(body, 'name'));
  state.tables = state.tables.filter((t) => t !== table);
}

function addChain(state: FakeRuleset, body: Body, verb: Verb): void {
  const table = tableOf(state, body);
  const name = str(body, 'name');
  const base = baseSpec(body);
  const existing = table.chains.find((c) => c.name === name);
  if (!existing) {
    table.chains.push({ name, handle: table.nextHandle++, ...(base ? { base } : {}), rules: [] });
    return;
  }
  if (verb === 'create') throw new FakeNftError('File exists', `chain ${table.family} ${table.name} ${name}`);
  if (!base) return;
  const old = existing.base;
  // A regular chain never becomes a base chain, and hook, type or priority never change in place.
  if (!old || old.type !== base.type || old.hook !== base.hook || old.prio !== base.prio) {
    throw new FakeNftError('Operation not supported', `chain ${table.family} ${table.name} ${name}`);
  }
  existing.base = { ...old, policy: base.policy };
}

function deleteChain(state: FakeRuleset, body: Body): void {
  const table = tableOf(state, body);
  const chain = requireChain(table, str(body, 'name'));
  // nft(8): "the chain must not contain any rules or be used as jump target". (A 6.x kernel
  // drops a chain's own rules with it; the fake keeps the documented, stricter contract.)
  if (chain.rules.length > 0 || referencedChains(table).has(chain.name)) {
    throw new FakeNftError('Device or resource busy', `chain ${table.family} ${table.name} ${chain.name}`);
  }
  table.chains = table.chains.filter((c) => c !== chain);
}

function flushChain(state: FakeRuleset, body: Body): void {
  requireChain(tableOf(state, body), str(body, 'name')).rules = [];
}

function ruleTarget(state: FakeRuleset, body: Body): { table: FakeTable; chain: FakeChain } {
  const table = tableOf(state, body);
  return { table, chain: requireChain(table, str(body, 'chain')) };
}

function newRule(table: FakeTable, chain: FakeChain, body: Body): FakeRule {
  const expr = checkRule(table, chain.name, body.expr);
  const comment = body.comment;
  if (comment !== undefined && (typeof comment !== 'string' || comment.length > 128)) {
    throw new FakeNftError('Invalid argument', `rule comment ${JSON.stringify(comment)}`);
  }
  return { handle: table.nextHandle++, expr, ...(comment === undefined ? {} : { comment }) };
}

function positionOf(chain: FakeChain, body: Body): number | undefined {
  if (typeof body.handle === 'number') {
    const at = chain.rules.findIndex((r) => r.handle === body.handle);
    if (at < 0) throw new FakeNftError('No such file or directory', `rule handle ${body.handle} in chain ${chain.name}`);
    return at;
  }
  if (typeof body.index === 'number') {
    if (body.index < 0 || body.index >= chain.rules.length) {
      throw new FakeNftError('No such file or directory', `rule index ${body.index} in chain ${chain.name}`);
    }
    return body.index;
  }
  return undefined;
}

/** add: append, or after `index` (nft 1.0.6 ignores `handle` on add and appends). */
function addRule(state: FakeRuleset, body: Body): void {
  const { table, chain } = ruleTarget(state, body);
  const at = typeof body.index === 'number' ? positionOf(chain, { index: body.index }) : undefined;
  const rule = newRule(table, chain, body);
  if (at === undefined) chain.rules.push(rule);
  else chain.rules.splice(at + 1, 0, rule);
}

/** insert: before `handle` or `index`, else at the top. */
function insertRule(state: FakeRuleset, body: Body): void {
  const { table, chain } = ruleTarget(state, body);
  const at = positionOf(chain, body) ?? 0;
  chain.rules.splice(at, 0, newRule(table, chain, body));
}

function replaceRule(state: FakeRuleset, body: Body): void {
  const { table, chain } = ruleTarget(state, body);
  if (typeof body.handle !== 'number') throw new FakeNftError('Invalid argument', 'replace rule needs a handle');
  const at = positionOf(chain, body)!;
  chain.rules.splice(at, 1, newRule(table, chain, body));
}

function deleteRule(state: FakeRuleset, body: Body): void {
  const { chain } = ruleTarget(state, body);
  if (typeof body.handle !== 'number') throw new FakeNftError('Invalid argument', 'delete rule needs a handle');
  chain.rules.splice(positionOf(chain, body)!, 1);
}

function addSet(state: FakeRuleset, body: Body, verb: Verb): void {
  const table = tableOf(state, body);
  const name = str(body, 'name');
  str(body, 'type');
  if (table.sets.some((s) => s.name === name)) {
    if (verb === 'create') throw new FakeNftError('File exists', `set ${table.family} ${table.name} ${name}`);
    return;
  }
  const { family: _f, table: _t, name: _n, handle: _h, ...spec } = body;
  table.sets.push({ name, handle: table.nextHandle++, spec: structuredClone(spec) });
}

function deleteSet(state: FakeRuleset, body: Body): void {
  const table = tableOf(state, body);
  const name = str(body, 'name');
  if (!table.sets.some((s) => s.name === name)) throw new FakeNftError('No such file or directory', `set ${name}`);
  if (referencedSets(table).has(name)) throw new FakeNftError('Device or resource busy', `set ${name}`);
  table.sets = table.sets.filter((s) => s.name !== name);
}

const HANDLERS: Readonly<Record<string, (state: FakeRuleset, body: Body, verb: Verb) => void>> = {
  'add table': addTable,
  'create table': addTable,
  'delete table': deleteTable,
  'add chain': addChain,
  'create chain': addChain,
  'delete chain': deleteChain,
  'flush chain': flushChain,
  'add rule': addRule,
  'insert rule': insertRule,
  'replace rule': replaceRule,
  'delete rule': deleteRule,
  'add set': addSet,
  'create set': addSet,
  'delete set': deleteSet,
};
