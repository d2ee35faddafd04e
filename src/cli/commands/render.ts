import type { Command } from 'commander';
import { createBackend } from '../../backends/select.js';
import { createExecaRunner } from '../../exec/runner.js';
import { rulesetFor } from '../../profiles/load.js';
import { createContext } from '../context.js';
import type { CommonOptions } from '../context.js';
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
    .action((opts: CommonOptions & { json?: boolean }) => {
      const ctx = createContext(opts);
      // auto needs host detection; rendering never looks at the host, so it shows nftables.
      const name = ctx.config.backend === 'auto' ? 'nftables' : ctx.config.backend;
      const backend = createBackend(name, ctx.config, createExecaRunner());
      process.stdout.write(backend.render(rulesetFor(ctx.config), opts.json ? 'json' : 'text'));
    });
}
