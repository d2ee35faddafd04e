import type { Command } from 'commander';
import { createContext } from '../context.js';
import type { CommonOptions } from '../context.js';
import { configOption } from '../options.js';

/** `tsfw validate`: check the config and the profiles it selects; exit 78 with the key on error. */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check the config file and the rule profiles it selects')
    .addOption(configOption())
    .addHelpText('after', `
Examples:
  tsfw validate -c /etc/tsfw/config.yaml && systemctl reload tsfw`)
    .action(async (opts: CommonOptions) => {
      const ctx = await createContext(opts);
      // validate always expands every profile: imported here, so other commands' start-up skips the schemas.
      const { rulesetFor } = await import('../../profiles/load.js');
      const ruleset = rulesetFor(ctx.config);
      const rules = ruleset.chains.reduce((n, c) => n + c.rules.length, 0);
      const where = ctx.loaded.source.exists ? ctx.loaded.source.path : 'built-in defaults';
      process.stdout.write(`config OK (${where}): mode ${ctx.config.mode}, ${ruleset.chains.length} chain(s), ${rules} rule(s)\n`);
    });
}
