import { join } from 'node:path';
import type { Command } from 'commander';
import { createNftSession, oneShotLister } from '../../backends/nftables/session.js';
import { childTag, createChildGuard } from '../../exec/child-guard.js';
import { createProcessRunner } from '../../exec/runner.js';
import { ensureTrustedDir } from '../../fsx/safe-dir.js';
import { createLogger } from '../../log/logger.js';
import { runDirFrom } from '../../reconcile/lock.js';
import { installSignalGate } from '../../reconcile/signals.js';
import type { CommonOptions } from '../context.js';
import { configOption } from '../options.js';
import { passSteps } from '../pass-steps.js';

/** `tsfw daemon`: converge, then keep converging on schedule, kernel events, SIGHUP and config changes. */
export function registerDaemon(program: Command): void {
  program
    .command('daemon')
    .description('keep the firewall converged: schedule, nft monitor events, SIGHUP / config file reload (systemd Type=notify)')
    .addOption(configOption())
    .addHelpText('after', `
Runs in the foreground and logs JSON lines on stderr. SIGHUP re-reads the config and converges now
(an invalid config is rejected and the last good one stays); SIGTERM stops, leaving the rules in
place unless cleanupOnStop: true. State: $TSFW_RUN_DIR/state.json (default /run/tsfw), shown by
tsfw status. See docs/daemon.md and systemd/tsfw.service.

Examples:
  tsfw daemon -c /etc/tsfw/config.yaml
  systemctl reload tsfw        (sends SIGHUP)`)
    .action(async (opts: CommonOptions) => {
      // Before the first await: a signal during start-up is queued, never the default death.
      const signals = installSignalGate();
      // Loaded here, not at the top: other commands should not pay for the daemon's modules at start-up.
      const [{ startDaemon }, { currentNetns }, { createWatchHints }, { loadConfig }] = await Promise.all([
        import('../../reconcile/daemon.js'), import('../../reconcile/singleton.js'), import('../../reconcile/freshness.js'), import('../../config/load.js'),
      ]);
      const load = () => loadConfig({ flagPath: opts.config });
      const first = load();
      const log = createLogger(opts.verbose ? 'debug' : first.config.log.level);
      // A run directory others may write is refused before anything starts (one line, exit 1).
      const runDir = runDirFrom(process.env);
      ensureTrustedDir(runDir, 0o755, 'run directory');
      const guard = createChildGuard(childTag(currentNetns() ?? 'unknown', runDir));
      // What the daemon's watchers vouch for, shared by its triggers and its pass steps; the
      // runner tells it its children, whose transactions then cause no pass.
      const hints = createWatchHints(() => performance.now());
      const runner = createProcessRunner(guard, (pid) => hints.own.add(pid));
      // Reads of an nftables table go to one long-running nft instead of one nft per pass.
      const nftSession = createNftSession({
        spawner: runner,
        fallback: oneShotLister(runner),
        home: join(runDir, 'nft-home-absent'),
        onFailure: (problem) => log.warn({ component: 'daemon', problem }, 'nft session failed'),
      });
      const daemon = await startDaemon({
        load,
        runner,
        guard,
        log,
        runDir,
        env: process.env,
        followLogLevel: !opts.verbose,
        signals,
        steps: passSteps(runDir, runner, log, hints),
        hints,
        nftSession,
      });
      await daemon.done;
      // Exit now rather than let the event loop drain: while Node tears a drained loop down it
      // restores the default signal actions, so a repeated SIGTERM in that moment would turn a
      // clean stop into a death by signal (exit 143). Logs are written synchronously.
      process.exit(0);
    });
}
