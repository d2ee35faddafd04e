import type { NftBaseSpec, NftExpr } from './json.js';
import { desiredNftChains, NFT_FAMILY } from './render.js';
import type { NftOptions } from './render.js';
import type { Ruleset } from '../../model/types.js';

/**
 * nft's text syntax for the same chains render.ts builds as JSON: what `tsfw render` prints for
 * people. (Writes always go through JSON; this text is for reading and for `nft -c -f` checks.)
 */

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function value(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(value).join(',');
  const prefix = (v as { prefix?: { addr: string; len: number } }).prefix;
  if (prefix) return `${prefix.addr}/${prefix.len}`;
  return JSON.stringify(v);
}

function left(expr: NftExpr): string {
  if ('meta' in expr) return (expr.meta as { key: string }).key === 'mark' ? 'meta mark' : `meta ${(expr.meta as { key: string }).key}`;
  if ('payload' in expr) {
    const p = expr.payload as { protocol: string; field: string };
    return `${p.protocol} ${p.field}`;
  }
  if ('ct' in expr) return `ct ${(expr.ct as { key: string }).key}`;
  if ('&' in expr) {
    const [l, r] = expr['&'] as [NftExpr, number];
    return `${left(l)} & ${hex(r)}`;
  }
  return JSON.stringify(expr);
}

function statement(expr: NftExpr): string {
  if ('match' in expr) {
    const m = expr.match as { op: string; left: NftExpr; right: unknown };
    const flags = (m.left as { '&'?: [NftExpr, unknown] })['&'];
    if (flags && Array.isArray(flags[1])) return `${left(flags[0])} ${value(m.right)} / ${value(flags[1])}`;
    const l = left(m.left);
    const isName = l === 'meta iifname' || l === 'meta oifname';
    const lhs = isName ? l.slice(5) : l;
    const rhs = isName ? JSON.stringify(m.right) : l.startsWith('meta mark') || l.startsWith('ct mark') ? hex(m.right as number) : value(m.right);
    const op = (m.op === '==' && !l.includes('&')) || m.op === 'in' ? '' : m.op === '!' ? '! ' : `${m.op} `;
    return `${lhs} ${op}${rhs}`;
  }
  if ('counter' in expr) return 'counter';
  if ('jump' in expr) return `jump ${(expr.jump as { target: string }).target}`;
  if ('mangle' in expr && 'tcp option' in (expr.mangle as { key: NftExpr }).key) return 'tcp option maxseg size set rt mtu';
  if ('mangle' in expr) {
    const { key, value: v } = expr.mangle as { key: NftExpr; value: Record<'|' | '&', [NftExpr, number]> };
    const op = '|' in v ? '|' : '&';
    return `${left(key)} set ${left(v[op][0])} ${op} ${hex(v[op][1])}`;
  }
  const [verdict] = Object.keys(expr);
  return verdict ?? '';
}

function baseLine(base: NftBaseSpec): string {
  return `type ${base.type} hook ${base.hook} priority ${base.prio}; policy ${base.policy};`;
}

/** The nft text (`nft -f` syntax) of tsfw's table for this ruleset; empty in mode off. */
export function renderNftText(desired: Ruleset, opts: NftOptions): string {
  const chains = desiredNftChains(desired, opts);
  if (chains.length === 0) return `# mode off: tsfw keeps no table (table ${NFT_FAMILY} ${opts.table} is removed)\n`;
  const body = chains.map((chain) => {
    const lines = chain.rules.map((rule) => {
      const comment = rule.comment === undefined ? '' : ` comment ${JSON.stringify(rule.comment)}`;
      return `\t\t${rule.expr.map(statement).join(' ')}${comment}`;
    });
    if (chain.base) lines.unshift(`\t\t${baseLine(chain.base)}`);
    return `\tchain ${chain.name} {\n${lines.join('\n')}\n\t}`;
  });
  return `table ${NFT_FAMILY} ${opts.table} {\n${body.join('\n\n')}\n}\n`;
}
