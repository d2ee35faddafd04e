import { readFile } from 'node:fs/promises';
import { readLandscape } from '../integrations/landscape.js';
import { readUfwSnapshot } from '../integrations/ufw/files.js';
import { chooseBackend, createBackend } from '../backends/select.js';
import type { Config, ConcreteBackend } from '../config/schema.js';
import { ExecError } from '../exec/errors.js';
import type { CommandRunner } from '../exec/runner.js';
import type { Ruleset } from '../model/types.js';
import { parseIptablesSave } from '../backends/iptables/parse.js';
import { gatherFirewalldFacts } from './firewalld-facts.js';
import { parseIpAddr, parseIpRoute } from './parse-ip.js';
import { parseNftRuleset } from './parse-ruleset.js';
import { sysctlKeys } from './checks/sysctl.js';
import type { DoctorFacts, LegacyDump, ToolFact, Unreadable } from './types.js';
import { isUnreadable } from './types.js';

/** Reads small kernel files (/proc/sys, /proc/net); injected so facts can come from a fixture. */
export interface FileReader {
  read(path: string): Promise<string | undefined>;
}

/** The real file system: undefined for a missing or unreadable file. */
export const procReader: FileReader = {
  async read(path) {
    try {
      return await readFile(path, 'utf8');
    } catch {
      return undefined;
    }
  },
};

function reason(error: unknown): string {
  if (error instanceof ExecError) return error.message;
  return error instanceof Error ? error.message.split('\n', 1)[0]! : String(error);
}

async function probeTool(runner: CommandRunner, binary: string): Promise<ToolFact> {
  try {
    const r = await runner.run(binary, ['--version'], { allowFailure: true, timeoutMs: 5000 });
    const output = (r.stdout || r.stderr).split('\n', 1)[0]?.trim();
    return r.exitCode === 0 ? { binary, available: true, output } : { binary, available: false, error: output || `exit ${r.exitCode}` };
  } catch (error) {
    return { binary, available: false, error: reason(error) };
  }
}

async function json<T>(runner: CommandRunner, file: string, args: string[], parse: (text: string) => T): Promise<T | Unreadable> {
  try {
    return parse((await runner.run(file, args, { timeoutMs: 10_000 })).stdout);
  } catch (error) {
    return { error: reason(error) };
  }
}

/** First line of a CLI's answer, only when it is installed (missing → no key). */
async function cliState(runner: CommandRunner, file: string, args: string[]): Promise<string | undefined> {
  try {
    const r = await runner.run(file, args, { allowFailure: true, timeoutMs: 5000 });
    return (r.stdout || r.stderr).split('\n', 1)[0]?.trim() ?? '';
  } catch {
    return undefined;
  }
}

/** iptables-legacy tables exist only when the legacy modules are loaded: probe that file first. */
async function legacyDump(runner: CommandRunner, files: FileReader): Promise<LegacyDump | undefined> {
  const names = await files.read('/proc/net/ip_tables_names');
  if (!names?.trim()) return undefined;
  try {
    const r = await runner.run('iptables-legacy-save', [], { timeoutMs: 10_000 });
    return { family: 'ip', tables: parseIptablesSave(r.stdout) };
  } catch {
    return undefined;
  }
}

/** iptables-nft-save of both families: tsfw's comment tags, which `nft -j list` does not show. */
async function xtablesSaves(runner: CommandRunner): Promise<LegacyDump[]> {
  const dumps: LegacyDump[] = [];
  for (const family of ['ip', 'ip6'] as const) {
    try {
      const r = await runner.run(family === 'ip' ? 'iptables-nft-save' : 'ip6tables-nft-save', [], { timeoutMs: 10_000 });
      dumps.push({ family, tables: parseIptablesSave(r.stdout) });
    } catch {
      // Not installed, or a table it cannot parse: ownership then rests on the nft listing alone.
    }
  }
  return dumps;
}

/**
 * A check-only run of exactly what apply would write now (nothing is changed): `nft -c` of the
 * JSON document, or `iptables-restore --test` of each restore input.
 */
async function checkOnly(config: Config, runner: CommandRunner, ruleset: Ruleset, name: ConcreteBackend): Promise<DoctorFacts['checkTransaction']> {
  try {
    const backend = createBackend(name, config, runner);
    const plan = backend.plan(ruleset, await backend.observe());
    if (plan.ops.length === 0) return { ok: true, detail: `tsfw's objects in ${name} are already converged: nothing to write` };
    const calls = backend.writes(plan).map((w) => (name === 'nftables'
      ? { ...w, args: ['-c', ...w.args] }
      : { ...w, args: [...w.args, '--test'] }));
    for (const call of calls) {
      const r = await runner.run(call.file, call.args, { input: call.input, allowFailure: true, timeoutMs: 10_000 });
      if (r.exitCode !== 0) return { ok: false, detail: r.stderr.split('\n').find((l) => l.trim()) ?? `${call.file} exited ${r.exitCode}` };
    }
    const how = name === 'nftables' ? 'nft -c' : `${calls.map((c) => c.file).join(', ')} --test`;
    return { ok: true, detail: `a check-only transaction of the ${plan.ops.length} pending change(s) succeeds (${how})` };
  } catch (error) {
    return { ok: false, detail: reason(error) };
  }
}

/** Gathers everything the checks read. Every probe is read-only; failures become facts. */
export async function gatherFacts(config: Config, ruleset: Ruleset, runner: CommandRunner, files: FileReader = procReader): Promise<DoctorFacts> {
  const binaries = ['nft', 'iptables', 'iptables-nft', 'iptables-legacy', 'ip6tables-nft', 'ip6tables-legacy',
    'iptables-nft-restore', 'ip6tables-nft-restore', 'iptables-legacy-restore', 'ip6tables-legacy-restore'];
  const [tools, choice, nftRuleset, addr, routes, legacy, firewalld, ufw, saves, firewalldZones] = await Promise.all([
    Promise.all(binaries.map((b) => probeTool(runner, b))),
    chooseBackend(config, runner).catch(() => ({ backend: 'nftables' as const })),
    json(runner, 'nft', ['-j', 'list', 'ruleset'], parseNftRuleset),
    json(runner, 'ip', ['-j', 'addr'], parseIpAddr),
    json(runner, 'ip', ['-j', '-4', 'route'], parseIpRoute),
    legacyDump(runner, files),
    cliState(runner, 'firewall-cmd', ['--state']),
    cliState(runner, 'ufw', ['status']),
    xtablesSaves(runner),
    gatherFirewalldFacts(runner, config.interface),
  ]);
  const usable = (binary: string) => tools.find((t) => t.binary === binary)?.available ?? false;
  const checkable = choice.backend === 'nftables' ? usable('nft') : usable(choice.backend === 'iptables-nft' ? 'iptables-nft' : 'iptables-legacy');
  const links = isUnreadable(addr) ? addr : addr.links;
  const wan = isUnreadable(routes) ? undefined : routes.find((r) => r.dst === 'default')?.dev;
  const ifaces = [config.interface, ...(wan ? [wan] : [])].filter((i) => !isUnreadable(links) && links.includes(i));
  const sysctl: Record<string, string | undefined> = {};
  for (const key of sysctlKeys(ifaces)) sysctl[key] = await files.read(`/proc/sys/net/${key}`);
  const clis: Record<string, string> = {};
  if (firewalld !== undefined) clis['firewall-cmd'] = firewalld;
  if (ufw !== undefined) clis.ufw = ufw;
  const ufwFiles = readUfwSnapshot();
  const ufwView = ufwFiles.installed ? { snapshot: ufwFiles, loaded: /Status: active/.test(ufw ?? ''), flavour: readLandscape().ufw?.flavour ?? 'iptables-nft' as const } : undefined;
  return {
    configuredBackend: config.backend,
    backend: choice.backend,
    tools,
    ...(checkable ? { checkTransaction: await checkOnly(config, runner, ruleset, choice.backend) } : {}),
    ruleset: nftRuleset,
    ...(legacy ? { legacy } : {}),
    ...(saves.length > 0 ? { xtablesSaves: saves } : {}),
    clis,
    ...(firewalldZones ? { firewalld: firewalldZones } : {}),
    ...(ufwView ? { ufw: ufwView } : {}),
    addresses: isUnreadable(addr) ? addr : addr.addresses,
    links,
    routes,
    sysctl,
  };
}
