import type { ProbePacket } from './foreign-eval.js';

/**
 * The xtables matches that iptables-nft stores as opaque `xt` expressions (`nft -j list` shows
 * only their name), read back from the same rule in iptables-nft-save: conntrack's `--ctstate` /
 * `--ctstatus` and state's `--state`, which Docker and ufw write in FORWARD. Pure. Anything else
 * in such a match is "unknown", never a guess.
 */

export type Tri = boolean | 'unknown';

/** The options of the one `-m NAME` in a saved rule's tokens; undefined when absent or repeated. */
function matchOptions(tokens: readonly string[], name: string): string[] | undefined {
  const segments: string[][] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] !== '-m' || tokens[i + 1] !== name) continue;
    const options: string[] = [];
    // Up to the next match or target; a `!` before `-m`/`-j` belongs to what follows.
    for (let j = i + 2; j < tokens.length && !['-m', '-j', '-g'].includes(tokens[j]!); j++) options.push(tokens[j]!);
    if (options.at(-1) === '!') options.pop();
    segments.push(options);
  }
  return segments.length === 1 ? segments[0] : undefined;
}

/** One flag's values (`--ctstate RELATED,ESTABLISHED`) and whether a `!` preceded it. */
function flag(options: readonly string[], name: string): { values: string[]; negate: boolean } | undefined {
  const at = options.indexOf(name);
  if (at < 0 || at + 1 >= options.length) return undefined;
  return { values: options[at + 1]!.toLowerCase().split(','), negate: options[at - 1] === '!' };
}

/**
 * Whether the probe matches `-m conntrack` / `-m state` of this saved rule. The probes carry a ct
 * state (default new) and no ct status bits (they are not NATed), so `--ctstatus DNAT` is false.
 */
export function evalXtMatch(name: string, tokens: readonly string[], p: ProbePacket): Tri {
  if (name !== 'conntrack' && name !== 'state') return 'unknown';
  const options = matchOptions(tokens, name);
  if (!options) return 'unknown';
  const known = name === 'state' ? ['--state'] : ['--ctstate', '--ctstatus'];
  const flags = options.filter((o) => o.startsWith('--'));
  if (flags.length === 0 || flags.some((f) => !known.includes(f))) return 'unknown';
  const state = p.ctState ?? 'new';
  for (const f of flags) {
    const { values, negate } = flag(options, f) ?? { values: [], negate: false };
    const hit = f === '--ctstatus' ? false : values.includes(state);
    if (hit === negate) return false;
  }
  return true;
}
