import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';

/** A process id: a positive integer. */
function parsePid(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('not a process id');
  return Number(value);
}

/** Thrown when the signal cannot be delivered (exit 1, one line). */
export class ReloadError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
    this.name = 'ReloadError';
  }
}

/**
 * `tsfw reload --pid PID`: sends the daemon SIGHUP (re-read the config, converge now). The unit's
 * ExecReload= uses it so that reloading needs no /bin/kill, which minimal systems lack (procps).
 */
export function registerReload(program: Command): void {
  program
    .command('reload')
    .description('ask a running daemon to re-read its config and converge now (sends it SIGHUP)')
    .requiredOption('--pid <pid>', 'the daemon\'s process id (systemd: $MAINPID)', parsePid)
    .addHelpText('after', `
Examples:
  systemctl reload tsfw        (the unit runs: tsfw reload --pid $MAINPID)
  docker kill -s HUP tsfw      (in a container, the engine signals the daemon itself)`)
    .action((opts: { pid: number }) => {
      try {
        process.kill(opts.pid, 'SIGHUP');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new ReloadError(code === 'ESRCH' ? `reload: no process ${opts.pid}` : `reload: cannot signal process ${opts.pid}: ${code ?? String(error)}`, code);
      }
    });
}
