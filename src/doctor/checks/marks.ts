import type { NftExpr } from '../../backends/nftables/json.js';
import { RULE_TAG } from '../../ownership.js';
import { ruleLine } from '../../backends/iptables/parse.js';
import type { Check } from '../types.js';
import { isUnreadable } from '../types.js';
import type { CheckInput } from './context.js';
import { ownership } from './owned.js';

const ALL = 0xffff_ffff;

/** Bits of the packet mark a `meta mark set <value>` statement can change (ALL when unknown). */
function touchedBits(value: unknown): number {
  if (typeof value === 'number') return ALL;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('meta' in v && (v.meta as { key?: string }).key === 'mark') return 0;
    for (const op of ['|', '^'] as const) {
      const pair = v[op] as [unknown, unknown] | undefined;
      if (pair && typeof pair[1] === 'number') return (touchedBits(pair[0]) | pair[1]) >>> 0;
    }
    const and = v['&'] as [unknown, unknown] | undefined;
    if (and && typeof and[1] === 'number') return (touchedBits(and[0]) | ~and[1]) >>> 0;
  }
  return ALL;
}

/** Mark bits one nft rule sets or matches; undefined bits ("unknown") for xt MARK/mark. */
function ruleMarkBits(expr: readonly NftExpr[]): { sets: number; matches: number; opaque: boolean } {
  let sets = 0;
  let matches = 0;
  let opaque = false;
  for (const e of expr) {
    const mangle = e.mangle as { key?: { meta?: { key?: string } }; value?: unknown } | undefined;
    if (mangle?.key?.meta?.key === 'mark') sets |= touchedBits(mangle.value);
    const m = e.match as { left?: NftExpr } | undefined;
    const left = m?.left;
    if (left && 'meta' in left && (left.meta as { key?: string }).key === 'mark') matches |= ALL;
    if (left && '&' in left) {
      const [inner, mask] = left['&'] as [NftExpr, unknown];
      if ('meta' in inner && (inner.meta as { key?: string }).key === 'mark') matches |= typeof mask === 'number' ? mask : ALL;
    }
    const xt = e.xt as { name?: string } | undefined;
    if (xt?.name && /^(MARK|CONNMARK|mark|connmark)$/.test(xt.name)) opaque = true;
  }
  return { sets: sets >>> 0, matches: matches >>> 0, opaque };
}

/** `0x40000/0xff0000` or a bare value (mask = all bits) from an iptables-save mark option. */
function maskOf(text: string | undefined): number {
  if (!text) return ALL;
  const [, mask] = text.split('/');
  return mask === undefined ? ALL : Number(mask) >>> 0;
}

/** Mark bits an iptables-save rule line sets or matches. */
function lineMarkBits(line: string): { sets: number; matches: number } {
  let sets = 0;
  let matches = 0;
  for (const m of line.matchAll(/--(set-xmark|set-mark|or-mark|xor-mark|and-mark|restore-mark|mark)\s+(\S+)?/g)) {
    const [, option, arg] = m;
    const bits = option === 'and-mark' ? (~Number(arg) >>> 0) : option === 'or-mark' || option === 'xor-mark' ? Number(arg) >>> 0 : maskOf(option === 'restore-mark' ? undefined : arg);
    if (option === 'mark') matches |= bits;
    else sets |= bits;
  }
  return { sets: sets >>> 0, matches: matches >>> 0 };
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** Other rules that set or match bits inside tsfw's mark mask break subnet-route marking. */
export function checkMarks(input: CheckInput): Check {
  const id = 'mark-collisions';
  const mask = input.config.marks.mask;
  const { ruleset, legacy } = input.facts;
  if (isUnreadable(ruleset)) return { id, status: 'warn', message: `could not read the ruleset: ${ruleset.error}`, fix: 'run tsfw doctor as root' };
  const own = ownership(input);
  const findings: string[] = [];
  for (const table of ruleset.tables) {
    for (const chain of table.chains) {
      for (const [i, rule] of chain.rules.entries()) {
        // tsfw's own rules set and match its own mark: not a collision.
        if (own.rule(table.family, table.name, chain.name, i, rule)) continue;
        const { sets, matches, opaque } = ruleMarkBits(rule.expr);
        const where = `table ${table.family} ${table.name} chain ${chain.name} rule ${i + 1}`;
        if ((sets & mask) !== 0) findings.push(`${where} sets mark bits ${hex((sets & mask) >>> 0)}`);
        else if ((matches & mask) !== 0) findings.push(`${where} matches mark bits ${hex((matches & mask) >>> 0)}`);
        else if (opaque) findings.push(`${where} uses an xtables MARK/mark extension (bits not visible to nft)`);
      }
    }
  }
  for (const table of legacy?.tables ?? []) {
    for (const rule of table.chains.filter((c) => !own.legacyChain(table.table, c)).flatMap((c) => c.rules)) {
      if (rule.comment?.startsWith(RULE_TAG)) continue;
      const { sets, matches } = lineMarkBits(ruleLine(rule));
      const where = `iptables-legacy table ${table.table} chain ${rule.chain}`;
      if (((sets | matches) & mask) !== 0) findings.push(`${where} ${sets & mask ? 'sets' : 'matches'} mark bits ${hex(((sets | matches) & mask) >>> 0)}`);
    }
  }
  if (findings.length === 0) return { id, status: 'ok', message: `no other rule sets or matches mark bits inside tsfw's mask ${hex(mask)}`, fix: null };
  return {
    id,
    status: 'warn',
    message: `${findings.join('; ')}: inside tsfw's mask ${hex(mask)} (subnet-route mark ${hex(input.config.marks.subnetRoute)})`,
    fix: `move the other program's marks outside ${hex(mask)}, or give tsfw free bits:\nmarks:\n  mask: 0xff000000\n  subnetRoute: 0x4000000`,
  };
}
