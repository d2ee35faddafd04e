import { divertChainName, ruleComment } from '../../ownership.js';
import type { Action, Chain, ChainKind, Family, Hook, Match, PrefixMatch, Rule, Ruleset } from '../../model/types.js';
import type { NftBaseSpec, NftCommand, NftExpr, NftRuleSpec } from './json.js';

/** nftables settings the renderer needs (from config.nftables). */
export interface NftOptions {
  readonly table: string;
  /** Base-chain priority per hook for filter and nat chains; mangle chains (and prerouting) use mangle's. */
  readonly priorities: Readonly<Record<Exclude<Hook, 'prerouting'>, number>>;
}

export const NFT_FAMILY = 'inet';
const U32 = 0xffff_ffff;
const NFPROTO: Record<Family, string> = { ip: 'ipv4', ip6: 'ipv6' };
/** nft's `mangle` priority keyword. */
export const MANGLE_PRIORITY = -150;

/** A chain tsfw wants in its table: the profile's regular chains, plus divert base chains in `on`. */
export interface DesiredNftChain {
  readonly name: string;
  readonly base?: NftBaseSpec;
  readonly rules: readonly NftRuleSpec[];
  /** Rule ids in order, for actions and status. */
  readonly ruleIds: readonly string[];
}

function match(op: string, left: NftExpr, right: unknown): NftExpr {
  return { match: { op, left, right } };
}

function prefixRight(p: PrefixMatch): unknown {
  const full = p.family === 'ip' ? 32 : 128;
  return p.len === full ? p.addr : { prefix: { addr: p.addr, len: p.len } };
}

function markLeft(mask: number): NftExpr {
  return mask === U32 ? { meta: { key: 'mark' } } : { '&': [{ meta: { key: 'mark' } }, mask] };
}

/** Match → nft expressions, in the order nft lists them back. */
function renderMatch(m: Match, families: readonly Family[]): NftExpr[] {
  const out: NftExpr[] = [];
  if (m.iif) out.push(match(m.iif.negate ? '!=' : '==', { meta: { key: 'iifname' } }, m.iif.name));
  if (m.oif) out.push(match(m.oif.negate ? '!=' : '==', { meta: { key: 'oifname' } }, m.oif.name));
  const pinned = m.saddr ?? m.daddr;
  // An inet table sees both families; a one-family rule without an address match must say so.
  const only = families.length === 1 ? families[0] : undefined;
  // `meta l4proto ipv6-icmp` already implies ipv6: nft folds the nfproto match away when listing.
  if (!pinned && only && m.l4proto !== 'ipv6-icmp') out.push(match('==', { meta: { key: 'nfproto' } }, NFPROTO[only]));
  if (m.saddr) out.push(match('==', { payload: { protocol: m.saddr.family, field: 'saddr' } }, prefixRight(m.saddr)));
  if (m.daddr) out.push(match('==', { payload: { protocol: m.daddr.family, field: 'daddr' } }, prefixRight(m.daddr)));
  // tcp flags, like a port, implies l4proto tcp: nft hides that dependency when listing.
  if (m.l4proto && m.sport === undefined && m.dport === undefined && m.tcpFlags === undefined) {
    out.push(match('==', { meta: { key: 'l4proto' } }, m.l4proto));
  }
  // A port match implies its l4proto; nft adds (and hides) that dependency itself.
  if (m.l4proto && m.sport !== undefined) out.push(match('==', { payload: { protocol: m.l4proto, field: 'sport' } }, m.sport));
  if (m.l4proto && m.dport !== undefined) out.push(match('==', { payload: { protocol: m.l4proto, field: 'dport' } }, m.dport));
  if (m.mark) out.push(match('==', markLeft(m.mark.mask), m.mark.value));
  if (m.tcpFlags === 'syn') out.push(match('==', { '&': [{ payload: { protocol: 'tcp', field: 'flags' } }, ['syn', 'rst']] }, 'syn'));
  if (m.ctState) {
    // nft lists a ct state match as `in`, for one state as for several.
    const states = m.ctState.states.length === 1 ? m.ctState.states[0] : [...m.ctState.states];
    out.push(match(m.ctState.negate ? '!' : 'in', { ct: { key: 'state' } }, states));
  }
  return out;
}

function renderAction(a: Exclude<Action, { kind: 'restore-mark' | 'save-mark' }>): NftExpr {
  switch (a.kind) {
    case 'accept':
    case 'drop':
    case 'return':
    case 'masquerade':
      return { [a.kind]: null };
    case 'set-mark': {
      // mark = (mark & ~mask) | value, in the folded form nft lists back: & (~mask | value).
      const keep = (~a.mask | a.value) >>> 0;
      const kept = keep === U32 ? { meta: { key: 'mark' } } : { '&': [{ meta: { key: 'mark' } }, keep] };
      return { mangle: { key: { meta: { key: 'mark' } }, value: { '|': [kept, a.value] } } };
    }
    case 'clamp-mss':
      return { mangle: { key: { 'tcp option': { name: 'maxseg', field: 'size' } }, value: { rt: { key: 'mtu' } } } };
  }
}

/** `key & mask` (the whole key when the mask is all ones). */
function masked(key: NftExpr, mask: number): NftExpr {
  return mask === U32 ? key : { '&': [key, mask] };
}

/** `key set key <op> value`: nft 1.0.6 only combines a register with constants. */
function setWith(key: NftExpr, op: '&' | '|', value: number): NftExpr {
  return { mangle: { key, value: { [op]: [key, value] } } };
}

/** The single bits of a mask, low to high. */
function maskBits(mask: number): number[] {
  const bits: number[] = [];
  for (let bit = 0; bit < 32; bit++) if ((mask >>> bit) & 1) bits.push((1 << bit) >>> 0);
  return bits;
}

/** One nft rule of a model rule: its id (the model id, or `<id>/<suffix>` for the parts of a copy). */
interface RenderedRule {
  readonly id: string;
  readonly spec: NftRuleSpec;
}

/**
 * A connmark copy, from `from` into `to` under `mask`, keeping every bit of `to` outside it. nft
 * 1.0.6 cannot OR one register into another (`meta mark set meta mark & ~m | ct mark & m` is
 * refused), so the copy is spelled with constants: one rule clears `to`'s bits under the mask when
 * `from` carries any, then one rule per mask bit sets it where `from` has it.
 */
function renderCopy(rule: Rule, chain: string, opts: NftOptions, from: NftExpr, to: NftExpr, mask: number): RenderedRule[] {
  const base = renderMatch(rule.match, rule.families);
  const spec = (id: string, expr: NftExpr[]): RenderedRule => ({
    id,
    spec: { family: NFT_FAMILY, table: opts.table, chain, expr: [...base, ...expr], comment: ruleComment(id) },
  });
  const clear = spec(rule.id, [match('!=', masked(from, mask), 0), { counter: { packets: 0, bytes: 0 } }, setWith(to, '&', (~mask) >>> 0)]);
  const bits = maskBits(mask).map((bit) => spec(`${rule.id}/0x${bit.toString(16)}`, [match('==', masked(from, bit), bit), setWith(to, '|', bit)]));
  return [clear, ...bits];
}

/** One model rule → its nft rules (one, except connmark copies; an inet table holds both families). */
export function renderRule(rule: Rule, chain: string, opts: NftOptions): RenderedRule[] {
  const ctMark = { ct: { key: 'mark' } };
  const metaMark = { meta: { key: 'mark' } };
  if (rule.action.kind === 'restore-mark') return renderCopy(rule, chain, opts, ctMark, metaMark, rule.action.mask);
  if (rule.action.kind === 'save-mark') return renderCopy(rule, chain, opts, metaMark, ctMark, rule.action.mask);
  return [{
    id: rule.id,
    spec: {
      family: NFT_FAMILY,
      table: opts.table,
      chain,
      expr: [...renderMatch(rule.match, rule.families), { counter: { packets: 0, bytes: 0 } }, renderAction(rule.action)],
      comment: ruleComment(rule.id),
    },
  }];
}

/** The divert base chains of mode `on`: one per (kind, hook), jumping to its chains in order. */
function divertChains(chains: readonly Chain[], opts: NftOptions): DesiredNftChain[] {
  const byHook = new Map<string, { kind: ChainKind; hook: Hook; targets: string[] }>();
  for (const chain of chains) {
    const key = divertChainName(`${chain.kind}-${chain.hook}`);
    const entry = byHook.get(key) ?? { kind: chain.kind, hook: chain.hook, targets: [] };
    entry.targets.push(chain.name);
    byHook.set(key, entry);
  }
  return [...byHook].map(([name, { kind, hook, targets }]) => ({
    name,
    // A mangle chain is nft's `type filter` at mangle priority (-150), before conntrack-based filtering.
    base: kind === 'mangle' || hook === 'prerouting' ? { type: 'filter', hook, prio: MANGLE_PRIORITY, policy: 'accept' } : { type: kind, hook, prio: opts.priorities[hook], policy: 'accept' },
    rules: targets.map((target) => ({
      family: NFT_FAMILY,
      table: opts.table,
      chain: name,
      expr: [{ jump: { target } }],
      comment: ruleComment(`${name}/divert-${target}`),
    })),
    ruleIds: targets.map((target) => `${name}/divert-${target}`),
  }));
}

/** Every chain tsfw wants in its table for this ruleset (none in mode off). */
export function desiredNftChains(desired: Ruleset, opts: NftOptions): readonly DesiredNftChain[] {
  // The daemon hands the same ruleset to every pass while config and facts are unchanged
  // (reconcile/discovered.ts): render it once per (ruleset, options) instead of every pass.
  const memo = rendered.get(desired);
  if (memo?.opts === opts) return memo.chains;
  const chains = renderChains(desired, opts);
  rendered.set(desired, { opts, chains });
  return chains;
}

/** The last rendering of each ruleset (weakly held: it goes with the ruleset). */
const rendered = new WeakMap<Ruleset, { readonly opts: NftOptions; readonly chains: readonly DesiredNftChain[] }>();

function renderChains(desired: Ruleset, opts: NftOptions): readonly DesiredNftChain[] {
  if (desired.mode === 'off') return [];
  const regular = desired.chains.map((chain) => {
    const rendered = chain.rules.flatMap((rule) => renderRule(rule, chain.name, opts));
    return { name: chain.name, rules: rendered.map((r) => r.spec), ruleIds: rendered.map((r) => r.id) };
  });
  return desired.mode === 'on' ? [...regular, ...divertChains(desired.chains, opts)] : regular;
}

/** The full document that creates tsfw's table from nothing (what `tsfw render --json` prints). */
export function renderCreateCommands(desired: Ruleset, opts: NftOptions): NftCommand[] {
  const chains = desiredNftChains(desired, opts);
  if (chains.length === 0) return [];
  const ref = (name: string) => ({ family: NFT_FAMILY, table: opts.table, name });
  return [
    { add: { table: { family: NFT_FAMILY, name: opts.table } } },
    ...chains.map((c): NftCommand => ({ add: { chain: { ...ref(c.name), ...c.base } } })),
    ...chains.flatMap((c) => c.rules.map((rule): NftCommand => ({ add: { rule } }))),
  ];
}
