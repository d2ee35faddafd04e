import { isOwnedChain } from '../../src/ownership.js';
import type { Netns } from './netns.js';

/**
 * Seeded randomness and kernel snapshots for the reliability suite. Every random test prints its
 * seed when it fails; `TSFW_SEED=<n>` replays exactly that run.
 */

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed for this run: TSFW_SEED when set, else a fresh one. */
export function runSeed(): number {
  const fromEnv = Number(process.env.TSFW_SEED);
  return Number.isInteger(fromEnv) && process.env.TSFW_SEED ? fromEnv : Math.floor(Math.random() * 2 ** 31);
}

/** How many random sequences to run: TSFW_RELIABILITY_SEQUENCES overrides the suite's default. */
export function sequenceCount(fallback: number): number {
  const n = Number(process.env.TSFW_RELIABILITY_SEQUENCES);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export class Rng {
  readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = seeded(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

type Obj = Record<string, Record<string, unknown>>;

/** `nft -j list ruleset` split into tsfw's own objects and everything else. */
export interface Snapshot {
  /** Everything not tsfw's, exactly as listed (handles and counters included): must not change. */
  readonly foreign: string;
  /** tsfw's chains and rules without handles and counters: compared against the golden state. */
  readonly owned: string;
}

function isOwnedObject(kind: string, body: Record<string, unknown>, table: string): boolean {
  if (body.family !== 'inet' || body.table !== table) return false;
  if (kind === 'chain') return isOwnedChain(String(body.name));
  if (kind === 'rule') return isOwnedChain(String(body.chain));
  return false;
}

function stripVolatile(body: Record<string, unknown>): Record<string, unknown> {
  const { handle: _h, ...rest } = body;
  return JSON.parse(JSON.stringify(rest).replace(/"counter":\{"packets":\d+,"bytes":\d+\}/g, '"counter":{}')) as Record<string, unknown>;
}

/** Reads the whole ruleset of the namespace and splits it (tsfw's table object counts as neither). */
export async function snapshot(ns: Netns, table = 'tsfw'): Promise<Snapshot> {
  const { stdout } = await ns.exec('nft', ['-j', 'list', 'ruleset']);
  const items = (JSON.parse(stdout) as { nftables: Obj[] }).nftables;
  const foreign: string[] = [];
  // Chains in name order (the kernel lists a re-created chain last: not a difference), rules in
  // their order inside each chain (that order is semantic).
  const owned = new Map<string, string[]>();
  for (const item of items) {
    const [kind, body] = Object.entries(item)[0] ?? [];
    if (!kind || !body || kind === 'metainfo') continue;
    if (kind === 'table' && body.family === 'inet' && body.name === table) continue;
    if (isOwnedObject(kind, body, table)) {
      const chain = String(kind === 'chain' ? body.name : body.chain);
      owned.set(chain, [...(owned.get(chain) ?? []), JSON.stringify({ [kind]: stripVolatile(body) })]);
    } else {
      foreign.push(JSON.stringify(item));
    }
  }
  const ownedText = [...owned.keys()].sort().flatMap((chain) => owned.get(chain)!).join('\n');
  return { foreign: foreign.join('\n'), owned: ownedText };
}

const BUILTIN = /^:(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) ACCEPT \[0:0\]$/;

/**
 * iptables-save of one flavour without tsfw's lines, comment lines and counters. A table holding
 * nothing but empty built-in chains with policy ACCEPT is left out: iptables-nft creates such a
 * table when tsfw first writes a chain into it, and it filters exactly like no table at all.
 */
export async function iptablesForeign(ns: Netns, save: string): Promise<string> {
  const { stdout } = await ns.exec(save, []);
  const lines = stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('#') && !/ts-|tsfw:/.test(l))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'));
  const blocks: string[][] = [];
  for (const line of lines) {
    if (line.startsWith('*')) blocks.push([line]);
    else blocks.at(-1)?.push(line);
  }
  return blocks
    .filter((b) => !b.slice(1, -1).every((l) => BUILTIN.test(l)))
    .map((b) => b.join('\n'))
    .join('\n');
}

const NETS = ['192.0.2', '198.51.100', '203.0.113'] as const;

/** A random address in the documentation ranges. */
export function docAddress(rng: Rng): string {
  return `${rng.pick(NETS)}.${1 + rng.int(254)}`;
}

/**
 * A random admin ruleset in native nft: a few tables of each family with regular and base chains,
 * rules with counters, comments, sets and verdicts. Never `ip filter` / `ip nat` (those belong to
 * iptables-nft). Returned as one `nft -f` script.
 */
export function randomNftRuleset(rng: Rng, tag: string): string {
  const lines: string[] = [];
  const tables = 1 + rng.int(3);
  for (let t = 0; t < tables; t++) {
    const family = rng.pick(['ip', 'ip6', 'inet'] as const);
    const name = `admin_${tag}_${t}`;
    lines.push(`add table ${family} ${name}`);
    if (family !== 'ip6' && rng.int(2) === 0) {
      lines.push(`add set ${family} ${name} blocked { type ipv4_addr; }`);
      lines.push(`add element ${family} ${name} blocked { ${docAddress(rng)}, ${docAddress(rng)} }`);
    }
    const chains = 1 + rng.int(3);
    for (let c = 0; c < chains; c++) {
      const base = rng.int(2) === 0;
      const hook = rng.pick(['input', 'forward', 'output'] as const);
      const spec = base ? ` { type filter hook ${hook} priority ${rng.pick([-150, -5, 0, 10, 100])}; policy accept; }` : '';
      lines.push(`add chain ${family} ${name} c${c}${spec}`);
      const rules = rng.int(6);
      for (let r = 0; r < rules; r++) {
        const proto = family === 'ip6' ? 'ip6 saddr 2001:db8::' + rng.int(1000).toString(16) : `ip saddr ${docAddress(rng)}`;
        const match = rng.pick([proto, `tcp dport ${1 + rng.int(65535)}`, `udp sport ${1 + rng.int(65535)}`, 'ct state established,related', `meta mark 0x${rng.int(0xffff).toString(16)}`]);
        const verdict = rng.pick(['accept', 'drop', 'return', 'counter accept', 'counter']);
        const comment = rng.int(3) === 0 ? ` comment "admin ${tag} ${c}.${r}"` : '';
        lines.push(`add rule ${family} ${name} c${c} ${match} ${verdict}${comment}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
