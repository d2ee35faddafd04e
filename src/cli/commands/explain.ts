import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { chainEnd, parseNftRuleset } from '../../doctor/parse-ruleset.js';
import { tracePacket, TraceInputError } from '../../model/trace.js';
import type { TraceResult } from '../../model/trace.js';
import type { CtState, Hook } from '../../model/types.js';
import { HOOKS } from '../../model/types.js';
import type { CommandRunner } from '../../exec/runner.js';
import { createContext } from '../context.js';
import type { CommonOptions } from '../context.js';
import { desiredFor } from '../desired.js';
import { printJson } from '../output.js';
import { configOption, jsonOption, modeOption } from '../options.js';

interface ExplainOptions extends CommonOptions {
  readonly src: string;
  readonly dst: string;
  readonly iif?: string;
  readonly oif?: string;
  readonly proto?: 'tcp' | 'udp' | 'ipv6-icmp';
  readonly sport?: number;
  readonly dport?: number;
  readonly hook?: Hook;
  readonly ctState?: CtState;
  readonly mark?: number;
  readonly ctMark?: number;
  readonly json?: boolean;
}

function intArg(max: number) {
  return (text: string): number => {
    const n = /^0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text, 16) : Number(text);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new InvalidArgumentError(`must be a whole number from 0 to ${max}`);
    return n;
  };
}

/** Other tables' base chains on the hook, when the ruleset can be read cheaply; else undefined. */
async function otherBaseChains(runner: CommandRunner, table: string, hook: Hook): Promise<string[] | undefined> {
  try {
    const r = await runner.run('nft', ['-j', 'list', 'ruleset'], { allowFailure: true, timeoutMs: 5000 });
    if (r.exitCode !== 0) return undefined;
    return parseNftRuleset(r.stdout).tables
      .filter((t) => !(t.family === 'inet' && t.name === table))
      .flatMap((t) => t.chains.filter((c) => c.base?.hook === hook).map((c) => `table ${t.family} ${t.name} chain ${c.name} (${chainEnd(c)})`));
  } catch {
    return undefined;
  }
}

function reminder(result: TraceResult, others: string[] | undefined): string | undefined {
  if (result.verdict === 'drop') return undefined;
  if (others === undefined) {
    return 'note: an nftables accept is final only inside its own base chain; base chains of other tables on this hook can still drop the packet (run tsfw doctor)';
  }
  if (others.length === 0) return undefined;
  return `note: an nftables accept is not final across tables; these base chains on hook ${result.hook} still see the packet: ${others.join(', ')}`;
}

/** `tsfw explain`: trace one packet through tsfw's own rules and say who decides. */
export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('trace a packet through tsfw\'s rules: every rule evaluated, with its id, and the verdict')
    .requiredOption('--src <addr>', 'source address')
    .requiredOption('--dst <addr>', 'destination address')
    .option('--iif <name>', 'input interface')
    .option('--oif <name>', 'output interface')
    .addOption(new Option('--proto <proto>', 'layer-4 protocol').choices(['tcp', 'udp', 'ipv6-icmp']))
    .option('--sport <port>', 'source port', intArg(65535))
    .option('--dport <port>', 'destination port', intArg(65535))
    .addOption(new Option('--hook <hook>', 'netfilter hook (default: forward with --iif and --oif, output with only --oif, else input)').choices(HOOKS))
    .addOption(new Option('--ct-state <state>', 'conntrack state (default new)').choices(['new', 'established', 'related', 'invalid', 'untracked']))
    .option('--mark <mark>', 'packet mark on entry (decimal or 0x hex)', intArg(0xffff_ffff))
    .option('--ct-mark <mark>', "the connection's mark (conntrack; connmark restore reads it)", intArg(0xffff_ffff))
    .addOption(modeOption())
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText('after', `
Examples:
  tsfw explain --src 100.100.0.99 --dst 192.0.2.1 --iif lan0            spoofed CGNAT source: drop
  tsfw explain --src 100.100.0.2 --dst 192.0.2.2 --iif tailscale0 --oif lan0 --json`)
    .action(async (opts: ExplainOptions) => {
      const ctx = await createContext(opts);
      const hook: Hook = opts.hook ?? (opts.iif && opts.oif ? 'forward' : opts.oif ? 'output' : 'input');
      const { ruleset } = await desiredFor(ctx);
      let result: TraceResult;
      try {
        result = tracePacket(ruleset, hook, {
          src: opts.src, dst: opts.dst, iif: opts.iif, oif: opts.oif, proto: opts.proto,
          sport: opts.sport, dport: opts.dport, ctState: opts.ctState, mark: opts.mark, ctMark: opts.ctMark,
        });
      } catch (error) {
        if (!(error instanceof TraceInputError)) throw error;
        // A usage error (exit 64): commander's errors are printed by whoever raises them.
        process.stderr.write(`tsfw: explain: ${error.message}\n`);
        throw new InvalidArgumentError(error.message);
      }
      const note = reminder(result, await otherBaseChains(ctx.runner, ctx.config.nftables.table, hook));
      const notes = [...result.notes, ...(note ? [note] : [])];
      if (opts.json) {
        printJson({ verdict: result.verdict, rule: result.rule, path: result.path, hook, family: result.family, mark: result.mark, notes });
        return;
      }
      const lines = [`hook ${hook}, family ${result.family}, mode ${ctx.config.mode}`];
      for (const step of result.path) {
        lines.push(`  ${step.matched ? 'match ' : 'skip  '} ${step.rule} → ${step.action}${step.reason ? `  (${step.reason})` : ''}`);
      }
      if (result.path.length === 0) lines.push('  (no tsfw rule on this hook)');
      const decided = result.verdict === 'continue'
        ? 'continue: tsfw does not decide; other tables and chains (and their policies) do'
        : `${result.verdict} by ${result.rule}`;
      lines.push(`verdict: ${decided}`, ...notes);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
