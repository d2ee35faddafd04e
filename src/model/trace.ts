import ipaddr from 'ipaddr.js';
import { parsePrefix, prefixContains } from './net.js';
import type { ActionKind, ChainKind, CtState, Family, Hook, L4Proto, Match, Rule, Ruleset } from './types.js';

/**
 * A packet tracer over tsfw's own model: which of tsfw's rules a packet meets on one hook, in
 * the order the backends evaluate them, and what tsfw decides. It knows nothing about other
 * tables or chains: a packet tsfw does not decide "continues", and the rest of the host's
 * ruleset (and its policies) decides. Tests and `tsfw explain` read through it.
 */

/** The packet to trace. Absent interfaces are empty names, as nft sees them on that hook. */
export interface TracePacket {
  readonly src: string;
  readonly dst: string;
  readonly iif?: string;
  readonly oif?: string;
  readonly proto?: L4Proto;
  readonly sport?: number;
  readonly dport?: number;
  /** Conntrack state; `new` when absent. */
  readonly ctState?: CtState;
  /** Packet mark on entry; 0 when absent. */
  readonly mark?: number;
  /** The connection's mark (conntrack); 0 when absent. */
  readonly ctMark?: number;
}

/** accept/drop: tsfw decided; masquerade: rewritten and accepted (nat); continue: others decide. */
export type TraceVerdict = 'accept' | 'drop' | 'masquerade' | 'continue';

/** One rule the packet met: whether it matched, and if not, the first condition that failed. */
export interface TraceStep {
  readonly chain: string;
  readonly rule: string;
  readonly matched: boolean;
  readonly action: ActionKind;
  readonly reason?: string;
}

export interface TraceResult {
  readonly hook: Hook;
  readonly family: Family;
  readonly verdict: TraceVerdict;
  /** The rule that decided, or null when the packet fell through every chain. */
  readonly rule: string | null;
  readonly path: readonly TraceStep[];
  /** The mark on leaving tsfw's chains (set-mark rules change it). */
  readonly mark: number;
  /** false in nodivert (nothing jumps to the chains unless the admin wires them) and off. */
  readonly diverted: boolean;
  readonly notes: readonly string[];
}

/** Packets that cannot be traced (an unparsable address, mixed families). */
export class TraceInputError extends Error {
  readonly kind = 'trace-input';
}

interface State {
  readonly family: Family;
  readonly packet: TracePacket;
  mark: number;
}

function addressFamily(label: string, text: string): Family {
  const parsed = parsePrefix(text);
  const dotted = !text.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(text);
  if (typeof parsed === 'string' || dotted || parsed.len !== (parsed.family === 'ip' ? 32 : 128)) {
    throw new TraceInputError(`${label}: not a single IP address: ${text}`);
  }
  return parsed.family;
}

function inside(prefix: NonNullable<Match['saddr']>, family: Family, addr: string): boolean {
  if (prefix.family !== family) return false;
  const parsed = parsePrefix(addr);
  return typeof parsed !== 'string' && prefixContains(prefix, parsed);
}

/** undefined when every condition holds, else a short reason naming the first that failed. */
function mismatch(rule: Rule, s: State): string | undefined {
  const m = rule.match;
  const p = s.packet;
  if (!rule.families.includes(s.family)) return `rule is for ${rule.families.join('/')} only`;
  for (const [key, want] of [['iif', m.iif], ['oif', m.oif]] as const) {
    if (!want) continue;
    const have = (key === 'iif' ? p.iif : p.oif) ?? '';
    if ((have === want.name) === want.negate) {
      return `${key} ${have || '(none)'} ${want.negate ? 'is' : 'is not'} ${want.name}`;
    }
  }
  if (m.saddr && !inside(m.saddr, s.family, p.src)) return `saddr ${p.src} not in ${m.saddr.addr}/${m.saddr.len}`;
  if (m.daddr && !inside(m.daddr, s.family, p.dst)) return `daddr ${p.dst} not in ${m.daddr.addr}/${m.daddr.len}`;
  if (m.l4proto && m.l4proto !== p.proto) return `proto ${p.proto ?? '(none)'} is not ${m.l4proto}`;
  if (m.sport !== undefined && m.sport !== p.sport) return `sport ${p.sport ?? '(none)'} is not ${m.sport}`;
  if (m.tcpFlags === 'syn' && (p.proto !== 'tcp' || (p.ctState ?? 'new') !== 'new')) return 'not a TCP SYN (a new tcp packet)';
  if (m.dport !== undefined && m.dport !== p.dport) return `dport ${p.dport ?? '(none)'} is not ${m.dport}`;
  if (m.mark && ((s.mark & m.mark.mask) >>> 0) !== m.mark.value) {
    return `mark 0x${s.mark.toString(16)} & 0x${m.mark.mask.toString(16)} is not 0x${m.mark.value.toString(16)}`;
  }
  if (m.ctState) {
    const state = p.ctState ?? 'new';
    if (m.ctState.states.includes(state) === m.ctState.negate) {
      return `ct state ${state} ${m.ctState.negate ? 'is' : 'is not'} ${m.ctState.states.join(',')}`;
    }
  }
  return undefined;
}

/** Base chains of different kinds on one hook run by priority: mangle (-150), filter, nat. */
const KIND_ORDER: Readonly<Record<ChainKind, number>> = { mangle: 0, filter: 1, nat: 2 };

/**
 * Walks `packet` through tsfw's chains registered on `hook`, in ruleset order (the order the
 * divert base chain jumps to them). `return` leaves a chain for the next one; the first
 * accept, drop or masquerade ends tsfw's part.
 */
export function tracePacket(ruleset: Ruleset, hook: Hook, packet: TracePacket): TraceResult {
  const family = addressFamily('src', packet.src);
  if (addressFamily('dst', packet.dst) !== family) throw new TraceInputError('src and dst must be the same address family');
  const state: State = { family, packet, mark: (packet.mark ?? 0) >>> 0 };
  const notes: string[] = [];
  const diverted = ruleset.mode === 'on';
  if (ruleset.mode === 'off') notes.push('mode off: tsfw has no rules; the rest of the ruleset decides');
  if (ruleset.mode === 'nodivert') notes.push('mode nodivert: these chains see the packet only where the admin jumps to them');
  if (!ruleset.families.includes(family)) notes.push(`family ${family} is not managed (families: ${ruleset.families.join(', ')})`);
  const path: TraceStep[] = [];
  const done = (verdict: TraceVerdict, rule: string | null): TraceResult =>
    ({ hook, family, verdict, rule, path, mark: state.mark, diverted, notes });
  const onHook = ruleset.chains.filter((c) => c.hook === hook).sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
  for (const chain of onHook) {
    for (const rule of chain.rules) {
      const reason = mismatch(rule, state);
      const step: TraceStep = { chain: chain.name, rule: rule.id, matched: reason === undefined, action: rule.action.kind };
      path.push(reason === undefined ? step : { ...step, reason });
      if (reason !== undefined) continue;
      const action = rule.action;
      if (action.kind === 'set-mark') {
        state.mark = ((state.mark & ~action.mask) | action.value) >>> 0;
        continue;
      }
      if (action.kind === 'restore-mark') {
        const ct = (packet.ctMark ?? 0) & action.mask;
        if (ct !== 0) state.mark = ((state.mark & ~action.mask) | ct) >>> 0;
        continue;
      }
      // Neither changes the verdict or the packet's mark: evaluation goes on.
      if (action.kind === 'clamp-mss' || action.kind === 'save-mark') continue;
      if (action.kind === 'return') break;
      return done(action.kind, rule.id);
    }
  }
  return done('continue', null);
}
