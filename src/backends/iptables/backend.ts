import { ExecError } from '../../exec/errors.js';
import type { CommandRunner, RunOptions } from '../../exec/runner.js';
import type { Family, Ruleset } from '../../model/types.js';
import { ruleIdFromComment } from '../../ownership.js';
import type { Backend, ObjectStatus, Plan, ProcessWrite } from '../types.js';
import { observeIptFamily } from './observe.js';
import { taggedJumps } from './parse.js';
import { iptScripts, planIptables } from './plan.js';
import type { IptPiece, IptPlanOptions, IptState } from './plan.js';
import { desiredIptTables, jumpSpec } from './render.js';

/** Which iptables binaries: `iptables-nft*` (nf_tables kernel API) or `iptables-legacy*` (x_tables). */
export type IptFlavour = 'nft' | 'legacy';

export interface IptBackendOptions extends IptPlanOptions {
  readonly flavour: IptFlavour;
  /** Families to read and write (config.families); each one is handled independently. */
  readonly families: readonly Family[];
  /** Waits between retries of a busy xtables lock (exit 4); injected so tests need no real time. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export type IptBackend = Backend<IptState, IptPiece> & { readonly name: 'iptables-nft' | 'iptables-legacy' };

/** Backoff before each retry of a command that found the xtables lock busy. */
export const BUSY_RETRY_DELAYS_MS = [100, 200, 400, 800] as const;

/** `iptables-nft-save`, `ip6tables-legacy-restore`, ... */
export function iptBinary(flavour: IptFlavour, family: Family, tool: 'save' | 'restore'): string {
  return `${family === 'ip' ? 'iptables' : 'ip6tables'}-${flavour}-${tool}`;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * iptables through iptables-save / iptables-restore of one flavour. Reads per family (observe.ts:
 * iptables-nft per table or, beside other programs' chains, per chain; legacy in one dump). Writes
 * one `iptables-restore --noflush` commit per (family, table).
 */
export function createIptablesBackend(runner: CommandRunner, opts: IptBackendOptions): IptBackend {
  const sleep = opts.sleep ?? defaultSleep;
  const run = async (file: string, args: readonly string[], options?: RunOptions) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await runner.run(file, args, options);
      } catch (error) {
        const delay = BUSY_RETRY_DELAYS_MS[attempt];
        if (!(error instanceof ExecError) || error.kind !== 'busy' || delay === undefined) throw error;
        await sleep(delay);
      }
    }
  };

  /** One `*-restore --noflush` per (family, table) script: each an atomic commit of its own. */
  const writes = (plan: Plan<IptPiece>): ProcessWrite[] => iptScripts(plan.ops).map((s) => ({
    file: iptBinary(opts.flavour, s.family, 'restore'), args: ['--noflush', '-w', '5'], input: s.script, family: s.family,
  }));

  return {
    name: opts.flavour === 'nft' ? 'iptables-nft' : 'iptables-legacy',
    async observe(desired) {
      const families = await Promise.all(opts.families.map((family) => observeIptFamily({ flavour: opts.flavour, run }, family, desired)));
      const failed = families.filter((f) => f.failure);
      if (failed.length > 0 && failed.length === families.length) throw failed[0]!.failure;
      return { families };
    },
    plan(desired, state) {
      const plan = planIptables(desired, state, opts);
      // A family that could not be read fails the pass even when the others need no write.
      const failures = plan.failures ?? [];
      if (plan.ops.length === 0 && failures.length > 0) {
        throw familyFailure(failures, state.families.filter((f) => !f.failure).map((f) => f.family));
      }
      return plan;
    },
    writes,
    async apply(plan: Plan<IptPiece>) {
      const failures = [...(plan.failures ?? [])];
      for (const write of writes(plan)) {
        const family = write.family!;
        if (failures.some((f) => f.family === family)) continue;
        try {
          await run(write.file, write.args, { input: write.input });
        } catch (error) {
          failures.push({ family, error: error instanceof Error ? error : new Error(String(error)) });
        }
      }
      if (failures.length > 0) {
        const ok = opts.families.filter((f) => !failures.some((x) => x.family === f));
        throw familyFailure(failures, ok);
      }
    },
    inspect: (desired, state) => inspectIptables(desired, state),
    render(desired: Ruleset, format) {
      const scripts = iptScripts(planIptables(desired, { families: [] }, opts).ops);
      if (format === 'json') return `${JSON.stringify({ scripts }, null, 2)}\n`;
      return scripts.map((s) => `# ${iptBinary(opts.flavour, s.family, 'restore')} --noflush\n${s.script}`).join('');
    },
  };
}

/**
 * One error for a pass where some families failed: it names each failed family and the ones that
 * were converged, and keeps the first failure's kind so the exit status still says why.
 */
export function familyFailure(failures: readonly { family: Family; error: Error }[], converged: readonly Family[]): ExecError {
  const first = failures[0]!.error;
  const summary = failures.map((f) => `${f.family}: ${f.error.message}`).join('; ');
  const rest = converged.length > 0 ? ` (${converged.join(', ')} converged)` : '';
  const kind = first instanceof ExecError ? first.kind : 'failed';
  const exitCode = first instanceof ExecError ? first.exitCode : undefined;
  return new ExecError(kind, `iptables ${failures.map((f) => f.family).join('+')}`, exitCode, `${summary}${rest}`, { cause: first });
}

/** Each wanted chain, rule and jump: present or missing, with packet counters. Pure. */
export function inspectIptables(desired: Ruleset, state: IptState): ObjectStatus[] {
  const out: ObjectStatus[] = [];
  for (const want of desiredIptTables(desired)) {
    const dump = state.families.find((f) => f.family === want.family)?.tables.find((t) => t.table === want.table);
    const chains = new Map((dump?.chains ?? []).map((c) => [c.name, c]));
    const where = { family: want.family, table: want.table };
    for (const chain of want.chains) {
      const seen = chains.get(chain.name);
      out.push({ ...where, chain: chain.name, present: seen !== undefined });
      const byId = new Map((seen?.rules ?? []).map((r) => [ruleIdFromComment(r.comment), r]));
      for (const rule of chain.rules) {
        const found = byId.get(rule.id);
        out.push({ ...where, chain: chain.name, rule: rule.id, present: found !== undefined, ...(found ? { packets: found.packets, bytes: found.bytes } : {}) });
      }
      if (desired.mode === 'on') {
        const jump = taggedJumps(chains.get(chain.builtin)).find((r) => r.spec === jumpSpec(chain.name));
        out.push({ ...where, chain: chain.builtin, rule: `jump ${chain.builtin} → ${chain.name}`, present: jump !== undefined, ...(jump ? { packets: jump.packets, bytes: jump.bytes } : {}) });
      }
    }
  }
  return out;
}
