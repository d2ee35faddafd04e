import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from './netns.js';

/**
 * A realistic ruleset that belongs to somebody else (the admin, firewalld, Docker, an old
 * iptables script), and a snapshot of everything that is not tsfw's, for byte-for-byte
 * "tsfw left it alone" checks. Only documentation addresses are used.
 */

/** Native nft tables: an inet filter with policies, counters and a named set, an ip nat, firewalld's table. */
export const FOREIGN_NFT = `
table inet filter {
	set blocklist4 {
		type ipv4_addr
		flags interval
		elements = { 203.0.113.0/28, 198.51.100.77 }
	}
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iifname "lo" accept
		ip saddr @blocklist4 counter drop
		tcp dport 22 accept
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		ip daddr 198.51.100.0/24 counter accept
	}
}
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "wan0" tcp dport 8080 dnat to 192.0.2.2:80
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade
	}
}
table inet firewalld {
	chain filter_INPUT {
		type filter hook input priority filter + 10; policy accept;
		icmp type echo-request accept
	}
}
`;

/** iptables rules in both flavours, with non-default policies (they must survive every mode). */
export const FOREIGN_XTABLES = [
  'iptables-nft -P FORWARD DROP',
  'iptables-nft -A FORWARD -i lan0 -o wan0 -j ACCEPT',
  'iptables-nft -N DOCKER-USER',
  'iptables-nft -A DOCKER-USER -s 203.0.113.0/24 -j RETURN',
  'iptables-nft -A INPUT -p tcp --dport 443 -j ACCEPT',
  'ip6tables-nft -P INPUT DROP',
  'ip6tables-nft -A INPUT -p ipv6-icmp -j ACCEPT',
  'iptables-legacy -P OUTPUT DROP',
  'iptables-legacy -A OUTPUT -o lo -j ACCEPT',
  'iptables-legacy -t nat -A POSTROUTING -s 192.0.2.0/24 -j MASQUERADE',
  'ip6tables-legacy -P FORWARD DROP',
  'ip6tables-legacy -A FORWARD -i lan0 -j ACCEPT',
] as const;

/** Loads FOREIGN_NFT and FOREIGN_XTABLES into the namespace. */
export async function loadForeignState(ns: Netns): Promise<void> {
  // From a file: `nft -f -` cannot read a socket stdin, which is what Node gives a child.
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-foreign-'));
  try {
    writeFileSync(join(dir, 'foreign.nft'), FOREIGN_NFT);
    await ns.exec('nft', ['-f', join(dir, 'foreign.nft')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await ns.sh(FOREIGN_XTABLES.join(' && '));
}

/** `nft list ruleset` text without the block of one table (`table FAMILY NAME { ... }`). */
export function withoutNftTable(ruleset: string, family: string, name: string): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of ruleset.split('\n')) {
    if (line === `table ${family} ${name} {`) skipping = true;
    else if (skipping && line === '}') skipping = false;
    else if (!skipping) out.push(line);
  }
  return out.join('\n');
}

/** iptables-save output without its comment lines (generation timestamps, notices). */
function withoutComments(text: string): string {
  return text.split('\n').filter((l) => !l.startsWith('#')).join('\n');
}

const SAVE_TOOLS = ['iptables-nft-save', 'ip6tables-nft-save', 'iptables-legacy-save', 'ip6tables-legacy-save'] as const;

/** Everything in the namespace that is not tsfw's nft table, keyed by the tool that printed it. */
export async function snapshotForeign(ns: Netns, ownTable = 'tsfw'): Promise<Record<string, string>> {
  const snapshot: Record<string, string> = {
    nft: withoutNftTable((await ns.exec('nft', ['list', 'ruleset'])).stdout, 'inet', ownTable),
  };
  for (const tool of SAVE_TOOLS) snapshot[tool] = withoutComments((await ns.exec(tool, [])).stdout);
  return snapshot;
}
