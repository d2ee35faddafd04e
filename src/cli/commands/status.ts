import type { Command } from 'commander';
import { describeFact } from '../../discovery/facts.js';
import { runDirFrom } from '../../reconcile/lock.js';
import { formatDaemonState } from '../../reconcile/state-format.js';
import { readState, statePath } from '../../reconcile/state.js';
import { convergeSysctls, describeSysctls } from '../../sysctl/host.js';
import { createContext, resolveBackend } from '../context.js';
import type { CommandContext, CommonOptions } from '../context.js';
import { createBackend } from '../../backends/select.js';
import type { Backend } from '../../backends/types.js';
import type { BackendChoice } from '../../backends/select.js';
import { ALL_BACKENDS } from '../../backends/leftovers.js';
import type { DaemonState } from '../../reconcile/state-format.js';
import { currentNetns } from '../../reconcile/singleton.js';
import { desiredFor } from '../desired.js';
import { printJson } from '../output.js';
import { configOption, jsonOption } from '../options.js';

/** `tsfw status`: what is configured, which backend and why, what exists, what drifted. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show mode, backend (and why), every owned object present or missing, rule counters, drift')
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText('after', `
Examples:
  tsfw status
  tsfw status --json | jq '.objects[] | select(.present == false)'`)
    .action(async (opts: CommonOptions & { json?: boolean }) => {
      const ctx = await createContext(opts);
      const runDir = runDirFrom(process.env);
      const daemon = readState(statePath(runDir));
      // A running daemon's backend is the one in use: show it and its evidence, not a fresh guess.
      const { backend, choice } = daemonBackend(ctx, daemon) ?? await resolveBackend(ctx);
      const { ruleset: desired, facts } = await desiredFor(ctx);
      const state = await backend.observe(desired);
      const objects = backend.inspect(desired, state);
      const plan = backend.plan(desired, state);
      const source = ctx.loaded.source;
      // Kernel settings the rules depend on: current value, who set it, and what a pass would change.
      const pending = convergeSysctls(desired, runDir, { dryRun: true }).changes;
      const sysctls = describeSysctls(runDir).map((s) => ({ ...s, pending: pending.find((c) => c.key === s.key) ?? null }));
      const report = {
        mode: ctx.config.mode,
        backend: choice.backend,
        backendReason: choice.reason,
        evidence: choice.evidence,
        config: source.exists ? source.path : null,
        overrides: ctx.loaded.overrides,
        discovered: facts,
        converged: plan.ops.length === 0 && pending.length === 0,
        objects,
        sysctls,
        drift: plan.drift,
        warnings: [...choice.warnings, ...plan.warnings],
        daemon: daemon ? { ...daemon.state, alive: daemon.alive } : null,
      };
      if (opts.json) {
        printJson(report);
        return;
      }
      const lines = [
        `mode:     ${report.mode}${report.overrides.includes('mode') ? ' (from TSFW_MODE)' : ''}`,
        `backend:  ${report.backend} (${report.backendReason})`,
        ...choice.evidence.map((e) => `          evidence: ${e}`),
        `config:   ${report.config ?? 'built-in defaults'}`,
        `addresses: ${describeFact(facts.addresses)}`,
        `ports:    ${describeFact(facts.ports)}`,
        ...sysctls.map((s) => `sysctl:   ${s.key} = ${s.value ?? '(absent)'}${s.setByTsfw ? ` (set by tsfw for connmark; was ${s.was})` : ''}${s.pending ? `, should be ${s.pending.to}: ${s.pending.reason}` : ''}`),
        `state:    ${report.converged ? 'converged' : `DRIFTED (${plan.drift.length + pending.length} difference(s); run tsfw reconcile)`}`,
        ...(daemon ? formatDaemonState(daemon.state, daemon.alive) : []),
        '',
        ...objects.map((o) => {
          const mark = o.present ? 'ok     ' : 'MISSING';
          const name = o.rule ?? `chain ${o.family} ${o.table} ${o.chain}`;
          const counters = o.packets === undefined ? '' : `  ${o.packets} pkts ${o.bytes} bytes`;
          return `  ${mark} ${name}${counters}`;
        }),
        ...plan.drift.map((d) => `  drift: ${d.detail}`),
        ...report.warnings.map((w) => `  warning: ${w}`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

/**
 * The backend of the daemon running for this run directory and network namespace, as its state
 * file says; undefined when there is none (status then chooses as apply would).
 */
function daemonBackend(ctx: CommandContext, daemon: { state: DaemonState; alive: boolean } | undefined): { backend: Backend; choice: BackendChoice } | undefined {
  if (!daemon?.alive || !daemon.state.backendReason) return undefined;
  const name = ALL_BACKENDS.find((b) => b === daemon.state.backend);
  if (!name || currentNetns(daemon.state.pid) !== currentNetns()) return undefined;
  return {
    backend: createBackend(name, ctx.config, ctx.runner),
    choice: { backend: name, reason: `in use by the daemon (pid ${daemon.state.pid}): ${daemon.state.backendReason}`, evidence: daemon.state.evidence ?? [], warnings: [] },
  };
}
