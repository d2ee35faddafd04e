import { Command, CommanderError } from 'commander';
import { registerApply } from './commands/apply.js';
import { registerCleanup, registerReconcile } from './commands/converge-commands.js';
import { registerDoctor } from './commands/doctor.js';
import { registerExplain } from './commands/explain.js';
import { registerHealth } from './commands/health.js';
import { registerMetrics } from './commands/metrics.js';
import { registerDaemon } from './commands/daemon.js';
import { registerReload } from './commands/reload.js';
import { registerRender } from './commands/render.js';
import { registerStatus } from './commands/status.js';
import { registerValidate } from './commands/validate.js';
import { EXIT, errorLines, exitCodeFor } from './exit-codes.js';
import { VERSION } from './version.js';

/** Builds the program. Commands report a non-default exit status through `setExit`. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('tsfw')
    .description('Tailscale-style netfilter rules (modes on, nodivert, off) for nftables and iptables, kept in place')
    .version(VERSION, '-V, --version')
    .option('-v, --verbose', 'log at debug level on stderr (default: warnings and errors only)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) })
    .addHelpText('after', `
Exit codes: 0 ok, 1 failure, 2 changed (--detailed-exitcode), 64 usage, 69 backend unavailable,
77 not permitted, 78 invalid config.`);
  program.hook('preAction', (_root, action) => {
    // --verbose is global; hand it to the command's options.
    if (program.opts().verbose) action.setOptionValue('verbose', true);
  });
  registerApply(program, setExit);
  registerReconcile(program, setExit);
  registerStatus(program);
  registerRender(program);
  registerCleanup(program);
  registerValidate(program);
  registerDoctor(program, setExit);
  registerExplain(program);
  registerMetrics(program);
  registerDaemon(program);
  registerReload(program);
  registerHealth(program, setExit);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI and returns the exit status (the only place that knows about process exit). */
export async function run(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    for (const line of errorLines(error)) process.stderr.write(`tsfw: ${line}\n`);
    return exitCodeFor(error);
  }
}
// bin/tsfw calls run() and sets the exit status (it loads this module or the bundled build).
