import type { Check, ToolFact } from '../types.js';
import type { CheckInput } from './context.js';

/** nft 1.0.1 is the oldest release whose JSON output and `-j -f -` input tsfw relies on. */
const MIN_NFT: readonly [number, number, number] = [1, 0, 1];

/** `nftables v1.0.6 (Lester Gooch #5)` → [1, 0, 6]. */
export function parseVersion(text: string | undefined): [number, number, number] | undefined {
  const m = /v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

function atLeast(v: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    if ((v[i] ?? 0) !== min[i]) return (v[i] ?? 0) > min[i]!;
  }
  return true;
}

function tool(input: CheckInput, binary: string): ToolFact | undefined {
  return input.facts.tools.find((t) => t.binary === binary);
}

/** The configured backend's binary exists and is new enough. */
export function checkBackendTools(input: CheckInput): Check {
  const { backend } = input.facts;
  const id = 'backend-tools';
  if (backend === 'nftables') {
    const nft = tool(input, 'nft');
    if (!nft?.available) {
      return { id, status: 'fail', message: `backend nftables: nft is not usable (${nft?.error ?? 'not probed'})`, fix: 'apt-get install nftables' };
    }
    const version = parseVersion(nft.output);
    if (!version || !atLeast(version, MIN_NFT)) {
      return { id, status: 'fail', message: `backend nftables needs nft >= ${MIN_NFT.join('.')}, found ${nft.output ?? 'unknown version'}`, fix: 'install nftables 1.0.1 or newer (Debian 12: apt-get install nftables)' };
    }
    return { id, status: 'ok', message: `backend nftables: nft ${version.join('.')} (>= ${MIN_NFT.join('.')})`, fix: null };
  }
  const flavour = backend === 'iptables-nft' ? 'nft' : 'legacy';
  const missing = [`iptables-${flavour}`, `ip6tables-${flavour}`, `iptables-${flavour}-restore`, `ip6tables-${flavour}-restore`]
    .filter((b) => !tool(input, b)?.available);
  if (missing.length > 0) {
    return { id, status: 'fail', message: `backend ${backend}: missing ${missing.join(', ')}`, fix: 'apt-get install iptables' };
  }
  return { id, status: 'ok', message: `backend ${backend}: ${tool(input, `iptables-${flavour}`)?.output ?? 'present'}`, fix: null };
}

/** Which iptables flavours exist and which one the plain `iptables` command is. */
export function checkIptablesFlavours(input: CheckInput): Check {
  const present = ['iptables-nft', 'iptables-legacy'].filter((b) => tool(input, b)?.available);
  const plain = tool(input, 'iptables');
  const which = plain?.available ? `; iptables is ${/nf_tables/.test(plain.output ?? '') ? 'the nf_tables flavour' : /legacy/.test(plain.output ?? '') ? 'the legacy flavour' : plain.output}` : '';
  const message = present.length > 0 ? `iptables flavours installed: ${present.join(', ')}${which}` : 'no iptables flavour installed (only the nftables backend can work)';
  return { id: 'iptables-flavours', status: 'ok', message, fix: null };
}

/** A check-only transaction of what apply would write succeeds in this kernel. */
export function checkTransaction(input: CheckInput): Check {
  const id = 'check-transaction';
  const t = input.facts.checkTransaction;
  if (!t) return { id, status: 'warn', message: `no check-only transaction was run for backend ${input.facts.backend}`, fix: 'tsfw apply --dry-run --json' };
  if (t.ok) return { id, status: 'ok', message: t.detail, fix: null };
  const fix = input.facts.backend === 'nftables'
    ? 'tsfw render --json | nft -c -j -f -   # shows the full error; check kernel modules nf_tables, nft_chain_nat, nft_ct'
    : 'tsfw apply --dry-run --json   # the exact restore input; check kernel modules for the matches it uses';
  return { id, status: 'fail', message: `the kernel refused tsfw's ruleset in a check-only transaction: ${t.detail}`, fix };
}
