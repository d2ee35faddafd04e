import type { Command } from 'commander';
import { converge } from '../../reconcile/converge.js';
import { runDirFrom } from '../../reconcile/lock.js';
import { createContext, resolveBackend } from '../context.js';
import { convergeOnce } from '../converge-once.js';
import { lockForWrite } from '../lock.js';
import { passSteps } from '../pass-steps.js';
import { guardLockout } from '../lockout-guard.js';
import type { CommonOptions } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { printJson, printResult, resultJson } from '../output.js';
import { configOption, jsonOption } from '../options.js';
import { cleanupAllBackends, printCleanupReport } from './cleanup-all.js';

interface ReconcileOptions extends CommonOptions {
  readonly check?: boolean;
  readonly json?: boolean;
  readonly detailedExitcode?: boolean;
  readonly force?: boolean;
}

/** `tsfw reconcile`: one convergence pass to the config as it is (for Ansible and cron). */
export function registerReconcile(program: Command, setExit: (code: number) => void): void {
  program
    .command('reconcile')
    .description('repair drift: converge to the config once (what the daemon does on every trigger)')
    .addOption(configOption())
    .option('--check', 'only report drift; change nothing')
    .addOption(jsonOption())
    .option('--detailed-exitcode', 'exit 2 when something changed (or would change with --check)')
    .option('--force', 'apply lockdown even from an SSH session it would not allow back in')
    .addHelpText('after', `
Like apply, reconcile refuses a lockdown that would cut the SSH session it runs from ($SSH_CONNECTION).

Examples:
  tsfw reconcile --json                      Ansible: "changed" tells whether anything was repaired
  tsfw reconcile --check --detailed-exitcode  monitoring: exit 2 when the firewall drifted`)
    .action(async (opts: ReconcileOptions) => {
      const ctx = await createContext(opts, { remember: true });
      // What Ansible runs over SSH: the same lockout guard as apply.
      if (!opts.check && !opts.force) await guardLockout(ctx.config, ctx.runner);
      const { backend, choice } = await resolveBackend(ctx);
      const result = await convergeOnce(ctx, backend, choice, { dryRun: opts.check });
      if (opts.json) printJson(resultJson(result, choice));
      else printResult(result, 'reconcile');
      if (opts.detailedExitcode && result.changed) setExit(EXIT.changed);
    });
}

interface CleanupOptions extends CommonOptions {
  readonly json?: boolean;
  readonly allBackends?: boolean;
}

/** `tsfw cleanup`: remove every object tsfw owns (mode off, without recording it). */
export function registerCleanup(program: Command): void {
  program
    .command('cleanup')
    .description('remove every table, chain and jump tsfw owns; the admin\'s rules stay untouched')
    .addOption(configOption())
    .option('--all-backends', 'clean every backend, not only the configured one')
    .addOption(jsonOption())
    .addHelpText('after', `
Examples:
  tsfw cleanup            remove tsfw's objects from the configured backend
  tsfw cleanup --json     the same, reporting what was removed as JSON
  tsfw cleanup --all-backends   nftables, iptables-nft and iptables-legacy (missing tools are skipped)`)
    .action(async (opts: CleanupOptions) => {
      const ctx = await createContext(opts);
      await lockForWrite();
      // Imported here: reconcile's start-up should not build the profile schemas (docs/PERFORMANCE.md).
      const { rulesetFor } = await import('../../profiles/load.js');
      if (opts.allBackends) {
        const report = await cleanupAllBackends(ctx.config, ctx.runner);
        // Kernel settings and other managers' additions go back too (they belong to no one backend).
        const steps = passSteps(runDirFrom(process.env), ctx.runner, ctx.log);
        steps.sysctls?.(rulesetFor(ctx.config, 'off'), false);
        await steps.integrations?.(rulesetFor(ctx.config, 'off'), false);
        if (opts.json) printJson(report);
        else printCleanupReport(report);
        if (report.failed.length > 0) throw new Error(`cleanup failed for ${report.failed.join('; ')}`);
        return;
      }
      const { backend, choice } = await resolveBackend(ctx);
      const result = await converge(backend, rulesetFor(ctx.config, 'off'), passSteps(runDirFrom(process.env), ctx.runner, ctx.log));
      if (opts.json) printJson(resultJson(result, choice));
      else printResult(result, 'cleanup');
    });
}
