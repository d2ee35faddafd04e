import { ExecError } from '../../exec/errors.js';
import type { CommandRunner } from '../../exec/runner.js';
import { FAMILIES } from '../../model/types.js';
import type { Family } from '../../model/types.js';
import { parseNftListing } from '../nftables/listing.js';
import { iptBinary } from './backend.js';
import type { IptFlavour } from './backend.js';
import { classifyXtablesTable } from './xtables-evidence.js';

/**
 * `backend: auto`: which firewall the host already uses, with the evidence for it. Kubernetes'
 * hint chains decide first (kubelet creates them in the flavour it uses), then which iptables
 * flavour holds rules, else nftables. Rules iptables-nft-save shows in a native nft table that
 * merely has an iptables name (`ip filter` with a chain `INPUT`) are not counted: see
 * xtables-evidence.ts. Reads only; the runner and the /proc probe are injected.
 */

export interface Detection {
  readonly backend: 'nftables' | 'iptables-nft' | 'iptables-legacy';
  readonly reason: string;
  readonly evidence: readonly string[];
  readonly warnings: readonly string[];
}

export interface DetectProbe {
  readonly runner: CommandRunner;
  /** Whether a file exists (the /proc/net/*_tables_names probes). */
  readonly exists: (path: string) => boolean;
  /** `/proc/net` unless a test points elsewhere. */
  readonly procNet?: string;
}

/** Chains kubelet creates in the mangle table of the iptables flavour it uses. */
export const KUBE_HINT_CHAINS = ['KUBE-IPTABLES-HINT', 'KUBE-KUBELET-CANARY'] as const;

/** What one flavour's save output shows: rule count per family and any Kubernetes hint chains. */
interface FlavourScan {
  readonly rules: Partial<Record<Family, number>>;
  readonly hints: string[];
  readonly notes: string[];
}

/** Counts `-A` lines (in all and per table) and finds hint chains in mangle; lenient, since it only gathers evidence. */
export function scanSave(text: string): { rules: number; hints: string[]; tables: Record<string, number> } {
  let table = '';
  let rules = 0;
  const hints: string[] = [];
  const tables: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    else if (/^(\[\d+:\d+\] )?-A /.test(line)) {
      rules++;
      tables[table] = (tables[table] ?? 0) + 1;
    }
    else if (table === 'mangle' && line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0]!;
      if ((KUBE_HINT_CHAINS as readonly string[]).includes(name)) hints.push(name);
    }
  }
  return { rules, hints, tables };
}

/**
 * iptables-nft only: the rules of tables that are native nft tables with an iptables name, which
 * iptables-nft-save printed as its own. Each table with rules is read with `nft -j list table`;
 * when it cannot be read, its rules keep counting (the save could parse them) and a note says so.
 */
async function nativeRules(family: Family, tables: Record<string, number>, runner: CommandRunner): Promise<{ discount: number; notes: string[] }> {
  let discount = 0;
  const notes: string[] = [];
  for (const [table, count] of Object.entries(tables)) {
    if (count === 0) continue;
    try {
      const { stdout } = await runner.run('nft', ['-j', 'list', 'table', family, table]);
      const listed = parseNftListing(stdout).find((t) => t.family === family && t.name === table);
      if (!listed) continue;
      const verdict = classifyXtablesTable(listed);
      notes.push(verdict.why);
      if (!verdict.iptablesNft) discount += count;
    } catch (error) {
      notes.push(`${family} ${table}: cannot read with nft -j list table (${error instanceof Error ? error.message.split('\n', 1)[0] : String(error)}); its ${count} rule(s) count for iptables-nft`);
    }
  }
  return { discount, notes };
}

async function scanFlavour(flavour: IptFlavour, families: readonly Family[], runner: CommandRunner): Promise<FlavourScan> {
  const scan: FlavourScan = { rules: {}, hints: [], notes: [] };
  for (const family of families) {
    const save = iptBinary(flavour, family, 'save');
    try {
      const { stdout } = await runner.run(save, []);
      const found = scanSave(stdout);
      const native = flavour === 'nft' ? await nativeRules(family, found.tables, runner) : { discount: 0, notes: [] };
      scan.rules[family] = found.rules - native.discount;
      scan.notes.push(...native.notes);
      scan.hints.push(...found.hints.map((h) => `${h} (${family})`));
    } catch (error) {
      const why = error instanceof ExecError && error.kind === 'not-found' ? 'not installed' : error instanceof Error ? error.message : String(error);
      scan.notes.push(`${save}: ${why}`);
    }
  }
  return scan;
}

const total = (scan: FlavourScan) => Object.values(scan.rules).reduce((a, b) => a + (b ?? 0), 0);
const describe = (scan: FlavourScan) => Object.entries(scan.rules).map(([f, n]) => `${f} ${n}`).join(', ');

/** Runs the detection; never throws (a missing tool is evidence, not an error). */
export async function detectBackend(probe: DetectProbe): Promise<Detection> {
  const procNet = probe.procNet ?? '/proc/net';
  const evidence: string[] = [];
  const warnings: string[] = [];
  const nft = await scanFlavour('nft', FAMILIES, probe.runner);
  evidence.push(`iptables-nft: ${total(nft)} rule(s)${describe(nft) ? ` (${describe(nft)})` : ''}`, ...nft.notes);
  // Probing legacy where x_tables is not loaded would load it; its /proc file says whether it is.
  const legacyFamilies = FAMILIES.filter((f) => probe.exists(`${procNet}/${f === 'ip' ? 'ip' : 'ip6'}_tables_names`));
  let legacy: FlavourScan = { rules: {}, hints: [], notes: [] };
  if (legacyFamilies.length === 0) evidence.push(`iptables-legacy: not probed (${procNet}/ip_tables_names absent)`);
  else {
    legacy = await scanFlavour('legacy', legacyFamilies, probe.runner);
    evidence.push(`iptables-legacy: ${total(legacy)} rule(s)${describe(legacy) ? ` (${describe(legacy)})` : ''}`, ...legacy.notes);
  }

  if (nft.hints.length > 0 || legacy.hints.length > 0) {
    const pick = nft.hints.length > 0 ? 'iptables-nft' : 'iptables-legacy';
    const hints = nft.hints.length > 0 ? nft.hints : legacy.hints;
    evidence.unshift(`Kubernetes hint chain ${hints.join(', ')} in the ${pick} mangle table`);
    if (nft.hints.length > 0 && legacy.hints.length > 0) warnings.push(`Kubernetes hint chains exist in both iptables flavours; using ${pick}`);
    return { backend: pick, reason: `auto: Kubernetes uses ${pick}`, evidence, warnings };
  }
  const [n, l] = [total(nft), total(legacy)];
  if (n === 0 && l === 0) return { backend: 'nftables', reason: 'auto: no iptables rules in either flavour', evidence, warnings };
  const pick = l > n ? 'iptables-legacy' : 'iptables-nft';
  if (n > 0 && l > 0) {
    warnings.push(`both iptables flavours hold rules (iptables-nft ${n}, iptables-legacy ${l}); using ${pick} only; tsfw never writes both`);
  }
  return { backend: pick, reason: `auto: ${pick} already holds rules`, evidence, warnings };
}
