import { ruleFrom } from './parse.js';
import type { IptChain } from './parse.js';

/**
 * Parses `iptables-nft -v -S CHAIN` output: one chain in the same parsed form as a save dump,
 * so the planner cannot tell the two reads apart. `-v -S` prints the counters inside the rule
 * text (`-A ts-input -i lo -c 12 980 -j ACCEPT`, just before the target or at the end); they are
 * cut out, leaving the spec iptables-save prints and `-D` needs.
 */

/** A spec without its ` -c PACKETS BYTES` (outside quotes), and those counters. */
export function splitCounters(text: string): { spec: string; packets: number; bytes: number } {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if ((i === 0 || text[i - 1] === ' ') && text.startsWith('-c ', i)) {
      const counted = /^-c (\d+) (\d+)(?= |$)/.exec(text.slice(i));
      if (counted) {
        const before = text.slice(0, Math.max(0, i - 1));
        const after = text.slice(i + counted[0].length);
        return { spec: i === 0 ? after.trimStart() : `${before}${after}`, packets: Number(counted[1]), bytes: Number(counted[2]) };
      }
    }
  }
  return { spec: text, packets: 0, bytes: 0 };
}

/** The chain `iptables -v -S CHAIN` printed, or undefined when the text lists no such chain. Pure. */
export function parseChainListing(text: string, chain: string): IptChain | undefined {
  let found = false;
  let policy: string | undefined;
  const rules: IptChain['rules'][number][] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const head = /^-([PNA]) (\S+)(?: (.*))?$/.exec(line);
    if (!head || head[2] !== chain) continue;
    found = true;
    if (head[1] === 'P') policy = head[3]?.split(' ')[0];
    if (head[1] === 'A') {
      const { spec, packets, bytes } = splitCounters(head[3] ?? '');
      rules.push(ruleFrom(chain, spec, packets, bytes));
    }
  }
  return found ? { name: chain, ...(policy ? { policy } : {}), rules } : undefined;
}
