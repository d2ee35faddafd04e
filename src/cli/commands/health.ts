import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { assessHealth } from '../../reconcile/health.js';
import { runDirFrom } from '../../reconcile/lock.js';
import { readState, statePath } from '../../reconcile/state.js';
import { EXIT } from '../exit-codes.js';

/** Whole seconds, at least 1. */
function parseSeconds(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('not a whole number of seconds');
  return Number(value);
}

/** `tsfw health`: exit 0 when the running daemon's last pass is recent and good (container HEALTHCHECK). */
export function registerHealth(program: Command, setExit: (code: number) => void): void {
  program
    .command('health')
    .description('check the running daemon from its state file: alive, ready, a recent successful pass (exit 0) or not (exit 1)')
    .addOption(new Option('--max-age <seconds>', 'how old the last pass may be; keep it above the schedule interval').argParser(parseSeconds).default(120))
    .addHelpText('after', `
Reads $TSFW_RUN_DIR/state.json (default /run/tsfw) only: no firewall call, no lock.
Examples:
  tsfw health
  HEALTHCHECK CMD ["tsfw", "health"]`)
    .action((opts: { maxAge: number }) => {
      const health = assessHealth(readState(statePath(runDirFrom(process.env))), Date.now(), opts.maxAge * 1_000);
      process.stdout.write(`${health.healthy ? 'healthy' : 'UNHEALTHY'}: ${health.reason}\n`);
      if (!health.healthy) setExit(EXIT.failure);
    });
}
