import type { Command } from 'commander';
import { createContext, resolveBackend } from '../context.js';
import { guardLockout } from '../lockout-guard.js';
import { convergeOnce } from '../converge-once.js';
import type { CommonOptions } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { printJson, printResult, resultJson } from '../output.js';
import { backendOption, configOption, modeOption } from '../options.js';

interface ApplyOptions extends CommonOptions {
  readonly dryRun?: boolean;
  readonly json?: boolean;
  readonly detailedExitcode?: boolean;
  readonly save: boolean;
  readonly force?: boolean;
}

/** `tsfw apply`: converge now; with --mode, also record the mode so the daemon adopts it. */
export function registerApply(program: Command, setExit: (code: number) => void): void {
  program
    .command('apply')
    .description('converge the firewall to the config now (optionally in another mode)')
    .addOption(modeOption())
    .addOption(backendOption())
    .addOption(configOption())
    .option('--dry-run', 'plan only: print what would change, write nothing')
    .option('--json', 'print one JSON object (changed, mode, backend, actions, drift, durationMs)')
    .option('--detailed-exitcode', 'exit 2 when something changed (or would change)')
    .option('--no-save', 'with --mode: apply without recording the mode in the config file')
    .option('--force', 'apply lockdown even from an SSH session it would not allow back in')
    .addHelpText('after', `
Examples:
  tsfw apply                          converge to /etc/tsfw/config.yaml (or the defaults)
  tsfw apply --mode nodivert          create chains only; record mode: nodivert in the config
  tsfw apply --mode off --no-save     remove everything tsfw owns, once, without recording it
  tsfw apply --dry-run --json         show the plan as JSON, change nothing`)
    .action(async (opts: ApplyOptions) => {
      const saving = opts.mode !== undefined && opts.save && !opts.dryRun;
      const ctx = await createContext(opts, { allowMissing: saving, remember: true });
      if (!opts.dryRun && !opts.force) await guardLockout(ctx.config, ctx.runner);
      // The edit is checked before anything is applied: a config it would break is never written.
      // Imported only when saving: the YAML editor and the schema cost every other apply start-up time.
      const pending = saving ? (await import('../../config/save.js')).prepareModeSave(ctx.loaded.source.path, ctx.config.mode) : undefined;
      const { backend, choice } = await resolveBackend(ctx);
      const result = await convergeOnce(ctx, backend, choice, { dryRun: opts.dryRun });
      let saved: { path: string; changed: boolean } | undefined;
      if (pending) {
        pending.commit();
        saved = { path: ctx.loaded.source.path, changed: pending.changed };
      }
      if (opts.json) printJson(resultJson(result, choice, saved ? { savedMode: saved } : {}));
      else {
        printResult(result, 'apply');
        if (saved?.changed) process.stdout.write(`recorded mode: ${ctx.config.mode} in ${saved.path}\n`);
      }
      if (opts.detailedExitcode && result.changed) setExit(EXIT.changed);
    });
}
