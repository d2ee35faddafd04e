import { expect } from 'vitest';
import { tsfw } from './cli.js';
import { tempConfig } from './cli.js';
import { createNetns } from './netns.js';
import type { Netns } from './netns.js';
import { docAddress, iptablesForeign, randomNftRuleset, snapshot } from './reliability.js';
import type { Rng } from './reliability.js';

/**
 * Random admin rulesets (native nft tables, and iptables-nft rules in the built-in chains, with a
 * changed policy) loaded before tsfw runs; apply, mode changes, off and cleanup must leave all of
 * it byte-identical: the nft listing of every other table (handles included) and iptables-save
 * without tsfw's own lines.
 */

const IPT_TABLES = new Set(['ip filter', 'ip nat', 'ip6 filter', 'ip6 nat', 'ip mangle', 'ip6 mangle']);

function randomIptables(rng: Rng): string {
  const lines = ['*filter', `:FORWARD ${rng.pick(['ACCEPT', 'DROP'])} [0:0]`, ':ADMIN - [0:0]'];
  for (let i = 0; i < 1 + rng.int(6); i++) {
    const chain = rng.pick(['INPUT', 'FORWARD', 'OUTPUT', 'ADMIN']);
    lines.push(`-A ${chain} -s ${docAddress(rng)}/32 -p tcp -m tcp --dport ${1 + rng.int(65535)} -j ${rng.pick(['ACCEPT', 'DROP', 'RETURN'])}`);
  }
  if (rng.int(2) === 0) lines.push('-A INPUT -j ADMIN');
  lines.push('COMMIT', '*nat', ':ADMIN-NAT - [0:0]', `-A POSTROUTING -s ${docAddress(rng)}/32 -j MASQUERADE`, 'COMMIT');
  return `${lines.join('\n')}\n`;
}

/** Everything that is not tsfw's, as text: nft tables other than tsfw's and iptables', plus iptables-save. */
async function foreignState(ns: Netns): Promise<string> {
  const nft = (await snapshot(ns)).foreign
    .split('\n')
    .filter((line) => {
      const body = Object.values(JSON.parse(line || '{}') as Record<string, { family?: string; table?: string; name?: string }>)[0];
      const table = body?.table ?? body?.name;
      return !IPT_TABLES.has(`${body?.family} ${table}`);
    })
    .join('\n');
  return `${nft}\n--- iptables-nft\n${await iptablesForeign(ns, 'iptables-nft-save')}\n--- ip6tables-nft\n${await iptablesForeign(ns, 'ip6tables-nft-save')}`;
}

export async function runForeignCase(backend: 'nftables' | 'iptables-nft', rng: Rng, index: number): Promise<void> {
  const ns = await createNetns('tsfwfor');
  const cfg = tempConfig({ backend });
  try {
    await ns.exec('nft', ['-f', '-'], { input: randomNftRuleset(rng, `f${index}`) });
    await ns.exec('iptables-nft-restore', ['--noflush', '-w'], { input: randomIptables(rng) });
    const before = await foreignState(ns);
    for (const args of [['apply', '--no-save'], ['apply', '--mode', 'nodivert', '--no-save'], ['apply', '--mode', 'on', '--no-save'], ['apply', '--mode', 'off', '--no-save'], ['apply', '--no-save'], ['cleanup']]) {
      const run = await tsfw(ns, [...args, '-c', cfg.path]);
      const context = `seed ${rng.seed}, case ${index}, ${backend}: tsfw ${args.join(' ')}`;
      expect(run.exitCode, `${context}\n${run.stderr}`).toBe(0);
      expect(await foreignState(ns), `foreign state changed (${context})`).toBe(before);
    }
  } finally {
    await ns.destroy();
    cfg.remove();
  }
}
