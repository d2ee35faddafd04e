import type { Command } from 'commander';
import { createContext } from '../context.js';
import type { CommonOptions } from '../context.js';
import { desiredFor } from '../desired.js';
import { printJson } from '../output.js';
import { configOption, jsonOption } from '../options.js';

const MARK = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;

/** `tsfw doctor`: read-only checks of the host against the config, each with the exact fix. */
export function registerDoctor(program: Command, setExit: (code: number) => void): void {
  program
    .command('doctor')
    .description('check tools, kernel support, other firewalls, CGNAT collisions, sysctls and marks (changes nothing)')
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText('after', `
Exit status: 0 when no check fails (warnings allowed), 1 otherwise.
Examples:
  tsfw doctor
  tsfw doctor --json | jq '.checks[] | select(.status != "ok")'`)
    .action(async (opts: CommonOptions & { json?: boolean }) => {
      // Loaded on use, so other commands start without the doctor's modules.
      const [{ gatherFacts }, { doctorExitCode, runChecks }] = await Promise.all([import('../../doctor/facts.js'), import('../../doctor/run.js')]);
      const ctx = await createContext(opts);
      const { ruleset, facts: discovered } = await desiredFor(ctx);
      const checks = runChecks({ facts: await gatherFacts(ctx.config, ruleset, ctx.runner), config: ctx.config, ruleset, discovered });
      if (opts.json) {
        printJson({ checks });
      } else {
        const lines: string[] = [];
        for (const c of checks) {
          lines.push(`${MARK[c.status]} ${c.id}: ${c.message}`);
          if (c.fix) lines.push(...c.fix.split('\n').map((l, i) => `       ${i === 0 ? 'fix: ' : '     '}${l}`));
        }
        const count = (s: string) => checks.filter((c) => c.status === s).length;
        lines.push('', `${count('ok')} ok, ${count('warn')} warning(s), ${count('fail')} failure(s)`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      setExit(doctorExitCode(checks));
    });
}
