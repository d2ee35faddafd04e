import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { createBackend } from '../../backends/select.js';
import { concreteConfig } from '../../discovery/facts.js';
import { discoverFacts } from '../../discovery/discover.js';
import { createProcessRunner } from '../../exec/runner.js';
import { PORTS_PROFILE, portRequirements } from '../../snippets/ports.js';
import { portsNote, renderSnippet, snippetJson } from '../../snippets/render.js';
import { TARGETS } from '../../snippets/types.js';
import type { Target } from '../../snippets/types.js';
import { createContext } from '../context.js';
import type { CommandContext, CommonOptions } from '../context.js';
import { desiredFor } from '../desired.js';
import { backendOption, configOption, modeOption } from '../options.js';

interface RenderOptions extends CommonOptions {
  readonly json?: boolean;
  readonly for?: Target;
  readonly zone?: string;
  readonly priority?: number;
}

/** `--priority`: an Azure NSG priority (100–4096). */
function parsePriority(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 100 || n > 4096) throw new InvalidArgumentError('an integer from 100 to 4096');
  return n;
}

/** `--zone`: a firewalld zone name (letters, digits, `_`, `-`), so the commands stay one shell word. */
function parseZone(value: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(value)) throw new InvalidArgumentError('a firewalld zone name (letters, digits, _ and -)');
  return value;
}

/** The rules other firewalls need: required-ports expanded with the same ports apply would use. */
async function renderFor(ctx: CommandContext, target: Target, opts: RenderOptions): Promise<string> {
  const facts = await discoverFacts(ctx.config, { runner: ctx.runner });
  // Imported here: the profile schemas cost every other command's start-up time.
  const [{ expandProfile }, { loadProfile }] = await Promise.all([import('../../profiles/expand.js'), import('../../profiles/load.js')]);
  const profile = loadProfile(PORTS_PROFILE);
  const requirements = portRequirements(expandProfile(profile, concreteConfig(ctx.config, facts)), profile);
  const snippet = renderSnippet(target, {
    requirements, families: ctx.config.families, portsNote: portsNote(facts.ports),
    ...(opts.zone ? { zone: opts.zone } : {}), ...(opts.priority ? { priority: opts.priority } : {}),
  });
  return opts.json ? snippetJson(target, requirements, snippet) : snippet.text;
}

/** `tsfw render`: print exactly what would be written, or other tools' rules; touches nothing, needs no privileges. */
export function registerRender(program: Command): void {
  program
    .command('render')
    .description('print the exact ruleset tsfw would write, or with --for the rules another firewall needs (changes nothing)')
    .addOption(modeOption())
    .addOption(backendOption())
    .addOption(configOption())
    .addOption(new Option('--for <target>', 'print the ports Tailscale needs as rules for another tool').choices(TARGETS))
    .addOption(new Option('--zone <zone>', 'with --for firewalld: the zone of the WAN interfaces (default: the default zone)').argParser(parseZone))
    .addOption(new Option('--priority <n>', 'with --for azure: the first NSG rule priority (default 1000)').argParser(parsePriority))
    .option('--json', 'nftables: the nft JSON document instead of nft text; with --for: one JSON object (target, requirements, the snippet and its commands or Terraform JSON)')
    .addHelpText('after', `
Examples:
  tsfw render                           nft text of the default profile in mode on
  tsfw render --mode nodivert --json    the nft -j document for nodivert
  tsfw render --backend iptables-nft    iptables-restore input for IPv4 and IPv6

Rules for other tools (--for): the ports of the required-ports profile, with the WireGuard
port(s) from 'ports:' (ports: auto: what tailscaled has bound, else 41641): WireGuard UDP in
and out (from its own port), 3478/udp out (STUN), 443/tcp and 80/tcp out.
  tsfw render --for ufw                 ufw allow commands
  tsfw render --for firewalld --zone external
                                        firewall-cmd commands (zone ports, an outbound policy)
  tsfw render --for iptables            a file for iptables-restore --noflush (and ip6tables-restore)
  tsfw render --for nftables            chains tailscale-in/-out to include in your table and jump to
  tsfw render --for aws                 Terraform aws_vpc_security_group_{ingress,egress}_rule
  tsfw render --for gcp                 Terraform google_compute_firewall
  tsfw render --for azure --priority 2000
                                        Terraform azurerm_network_security_rule
  tsfw render --for aws --json | jq .terraform > tailscale.tf.json
Details and the reasons for each form: docs/render.md in the tsfw package.`)
    .action(async (opts: RenderOptions, command: Command) => {
      if (opts.zone && opts.for !== 'firewalld') command.error('error: --zone needs --for firewalld');
      if (opts.priority && opts.for !== 'azure') command.error('error: --priority needs --for azure');
      const ctx = await createContext(opts);
      if (opts.for) {
        process.stdout.write(await renderFor(ctx, opts.for, opts));
        return;
      }
      // auto needs host detection; rendering never changes the host, so it shows nftables. `auto`
      // addresses and ports are discovered (read-only) so the output is what apply would write.
      const name = ctx.config.backend === 'auto' ? 'nftables' : ctx.config.backend;
      const backend = createBackend(name, ctx.config, createProcessRunner());
      process.stdout.write(backend.render((await desiredFor(ctx)).ruleset, opts.json ? 'json' : 'text'));
    });
}
