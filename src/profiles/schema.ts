import { z } from 'zod';
import { InterfaceName } from '../config/schema.js';
import { parsePrefix } from '../model/net.js';
import { FAMILIES, HOOKS } from '../model/types.js';
import type { Action, CtState, Match, PrefixMatch } from '../model/types.js';

/**
 * Two schemas per rule-profile object: the raw form as written in rules/*.yaml (values may be
 * "{templates}"), and the concrete form after templates are filled from the config, which turns
 * into the model's Match and Action. Built on first use (`z.lazy`), like the config schema: a
 * pass with the precompiled profiles and a remembered ruleset constructs none of them.
 */

function buildSchemas() {
  /** A literal or a "{config.path}" template. */
  const Templated = z.union([z.string(), z.number()]);

  const RawMatch = z.strictObject({
    iif: Templated.optional(),
    oif: Templated.optional(),
    saddr: Templated.optional(),
    daddr: Templated.optional(),
    l4proto: Templated.optional(),
    sport: Templated.optional(),
    dport: Templated.optional(),
    mark: Templated.optional(),
    ctState: Templated.optional(),
    tcpFlags: Templated.optional(),
  });

  const RawAction = z.union([
    z.string(),
    z.strictObject({ setMark: Templated, mask: Templated }),
    z.strictObject({ restoreMark: Templated }),
    z.strictObject({ saveMark: Templated }),
  ]);

  const RawRule = z.strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,47}$/, { error: 'must be lowercase letters, digits and -' }),
    why: z.string().min(1),
    families: z.array(z.enum(FAMILIES)).min(1).optional(),
    /** Config keys that must all be truthy for the rule to exist. */
    when: z.union([z.string(), z.array(z.string())]).optional(),
    /** A config key holding a list: one rule per item, "{item}" in templates. */
    forEach: z.string().optional(),
    match: RawMatch.default({}),
    action: RawAction,
  });

  const RawChain = z.strictObject({
    name: z.string().regex(/^ts-[a-z0-9-]{1,24}$/, { error: 'must be "ts-" followed by lowercase letters, digits or -' }),
    kind: z.enum(['filter', 'nat', 'mangle']),
    hook: z.enum(HOOKS),
    /** Config keys that must all be truthy for the chain (and its divert) to exist. */
    when: z.union([z.string(), z.array(z.string())]).optional(),
    rules: z.array(RawRule),
  }).refine((c) => c.hook !== 'prerouting' || c.kind === 'mangle', {
    // iptables has PREROUTING only in mangle, nat and raw; tsfw registers mangle there (connmark).
    error: 'a prerouting chain must be kind mangle',
    path: ['hook'],
  });

  const Profile = z.strictObject({
    profile: z.string().regex(/^[a-z][a-z0-9-]*$/),
    description: z.string(),
    chains: z.array(RawChain).min(1),
  });

  // ---- concrete values, after templates are filled ----

  const prefix = z.string().transform((text, ctx): PrefixMatch => {
    const parsed = parsePrefix(text);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }
    return parsed;
  });

  const iface = z.string().transform((text, ctx) => {
    const negate = text.startsWith('!');
    const name = negate ? text.slice(1) : text;
    const checked = InterfaceName.safeParse(name);
    if (!checked.success) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(name)} ${checked.error.issues[0]?.message ?? 'invalid'}` });
      return z.NEVER;
    }
    return { name, negate };
  });

  const port = z.coerce.number().int().min(1).max(65535);
  const u32 = z.coerce.number().int().min(0).max(0xffff_ffff);

  const mark = z.string().transform((text, ctx) => {
    const [value, mask, extra] = text.split('/').map(Number);
    if (extra !== undefined || !Number.isInteger(value) || !Number.isInteger(mask) || (value! & ~mask!) >>> 0 !== 0) {
      ctx.addIssue({ code: 'custom', message: `mark must be "value/mask" with value inside mask, got ${text}` });
      return z.NEVER;
    }
    return { value: value!, mask: mask! };
  });

  const CT_STATES = ['established', 'related', 'new', 'invalid', 'untracked'] as const satisfies readonly CtState[];
  const ctState = z.string().transform((text, ctx) => {
    const negate = text.startsWith('!');
    const states = (negate ? text.slice(1) : text).split(',');
    const bad = states.find((s) => !(CT_STATES as readonly string[]).includes(s));
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `unknown conntrack state ${JSON.stringify(bad)}` });
      return z.NEVER;
    }
    return { states: states as CtState[], negate };
  });

  /** A filled-in match, validated and converted to the model. */
  const ConcreteMatch = z
    .strictObject({
      iif: iface.optional(),
      oif: iface.optional(),
      saddr: prefix.optional(),
      daddr: prefix.optional(),
      l4proto: z.enum(['tcp', 'udp', 'ipv6-icmp']).optional(),
      sport: port.optional(),
      dport: port.optional(),
      mark: mark.optional(),
      ctState: ctState.optional(),
      tcpFlags: z.literal('syn').optional(),
    })
    .refine((m) => m.tcpFlags === undefined || (m.l4proto === 'tcp' && m.sport === undefined && m.dport === undefined), {
      error: 'tcpFlags needs l4proto tcp and no port match',
    })
    .refine((m) => (m.sport === undefined && m.dport === undefined) || m.l4proto !== undefined, {
      error: 'a port match needs l4proto',
    })
    .refine((m) => (m.sport === undefined && m.dport === undefined) || m.l4proto === 'tcp' || m.l4proto === 'udp', {
      error: 'a port match needs l4proto tcp or udp',
    })
    .refine((m) => !m.saddr || !m.daddr || m.saddr.family === m.daddr.family, {
      error: 'saddr and daddr must be the same family',
    })
    .transform((m): Match => Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)) as Match);

  /** A filled-in action. */
  const ConcreteAction = z.union([
    z.enum(['accept', 'drop', 'return', 'masquerade', 'clamp-mss']).transform((kind): Action => ({ kind })),
    z
      .strictObject({ setMark: u32, mask: u32 })
      .refine((a) => a.mask !== 0 && (a.setMark & ~a.mask) >>> 0 === 0, { error: 'setMark must lie inside a non-zero mask' })
      .transform((a): Action => ({ kind: 'set-mark', value: a.setMark, mask: a.mask })),
    z.strictObject({ restoreMark: u32.refine((m) => m !== 0, { error: 'restoreMark needs a non-zero mask' }) })
      .transform((a): Action => ({ kind: 'restore-mark', mask: a.restoreMark })),
    z.strictObject({ saveMark: u32.refine((m) => m !== 0, { error: 'saveMark needs a non-zero mask' }) })
      .transform((a): Action => ({ kind: 'save-mark', mask: a.saveMark })),
  ], {
    // An object form that fails its own check keeps that message; anything else gets this one.
    error: (issue) => (issue.code === 'invalid_union' && issue.errors.flat().find((i) => i.code === 'custom')?.message)
      || 'must be accept, drop, return, masquerade, clamp-mss, { setMark, mask }, { restoreMark } or { saveMark }',
  });

  return { RawMatch, RawAction, RawRule, Profile, ConcreteMatch, ConcreteAction };
}

type Schemas = ReturnType<typeof buildSchemas>;
let built: Schemas | undefined;
const schemas = () => (built ??= buildSchemas());

/** A rule profile as written in rules/*.yaml (what parseProfile validates). */
export const Profile = z.lazy(() => schemas().Profile);
/** A filled-in match, validated and converted to the model. */
export const ConcreteMatch = z.lazy(() => schemas().ConcreteMatch);
/** A filled-in action. */
export const ConcreteAction = z.lazy(() => schemas().ConcreteAction);

export type RawMatch = z.output<Schemas['RawMatch']>;
export type RawAction = z.output<Schemas['RawAction']>;
export type RawRule = z.output<Schemas['RawRule']>;
export type Profile = z.output<Schemas['Profile']>;
