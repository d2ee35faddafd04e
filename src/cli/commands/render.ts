import type { Command } from 'commander';
import { createBackend } from '../../backends/select.js';
import { createProcessRunner } from '../../exec/runner.js';
import { createContext } from '../context.js';
import type { CommonOptions } from '../context.js';
import { desiredFor } from '../desired.js';
import { backendOption, configOption, modeOption } from '../options.js';

/** `tsfw render`: print exactly what would be written; touches nothing, needs no privileges. */
export function registerRender(program: Command): void {
  program
    .command('render')
    .description('print the exact ruleset tsfw would write (changes nothing)')
    .addOption(modeOption())
    .addOption(backendOption())
    .addOption(configOption())
    .option('--json', 'nftables: print the nft JSON document instead of nft text')
    .addHelpText('after', `
Examples:
  tsfw render                           nft text of the default profile in mode on
  tsfw render --mode nodivert --json    the nft -j document for nodivert
  tsfw render --backend iptables-nft    iptables-restore input for IPv4 and IPv6`)
    .action(async (opts: CommonOptions & { json?: boolean }) => {
      const ctx = createContext(opts);
      // auto needs host detection; rendering never changes the host, so it shows nftables. `auto`
      // addresses and ports are discovered (read-only) so the output is what apply would write.
      const name = ctx.config.backend === 'auto' ? 'nftables' : ctx.config.backend;
      const backend = createBackend(name, ctx.config, createProcessRunner());
      process.stdout.write(backend.render((await desiredFor(ctx)).ruleset, opts.json ? 'json' : 'text'));
    });
}
