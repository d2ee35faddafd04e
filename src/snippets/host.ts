import type { PortRequirement } from './ports.js';
import { describeRequirement } from './ports.js';
import { label } from './types.js';
import type { Snippet, SnippetInput } from './types.js';

/**
 * `render --for ufw | firewalld | iptables | nftables`: the required ports as host-firewall
 * input. Pure. None of these use tsfw's `tsfw:` ownership tag: once the admin applies them they
 * are the admin's rules, and tsfw never touches them.
 */

/** Single-quotes an argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function header(tool: string, input: SnippetInput, lines: readonly string[]): string[] {
  return [
    `# tsfw render --for ${tool}: the ports Tailscale needs, from the required-ports profile`,
    `# ${input.portsNote}`,
    ...lines.map((l) => `# ${l}`),
  ];
}

function commandsText(tool: string, input: SnippetInput, notes: readonly string[], groups: readonly { why: string; argv: readonly string[] }[]): Snippet {
  const text = [...header(tool, input, notes), ...groups.flatMap((g) => [...(g.why ? [`# ${g.why}`] : []), g.argv.map(shellQuote).join(' ')])];
  return { text: `${text.join('\n')}\n`, commands: groups.map((g) => g.argv) };
}

/** ufw commands; ufw writes each rule for IPv4 and IPv6 itself. */
export function renderUfw(input: SnippetInput): Snippet {
  const argv = (r: PortRequirement): string[] => {
    const where = r.match === 'sport'
      ? ['from', 'any', 'port', String(r.port), 'to', 'any']
      : ['to', 'any', 'port', String(r.port)];
    return ['ufw', 'allow', r.direction, 'proto', r.proto, ...where, 'comment', label(r)];
  };
  return commandsText('ufw', input, ['outbound rules matter only with `ufw default deny outgoing`'],
    input.requirements.map((r) => ({ why: `${describeRequirement(r)}: ${r.why}`, argv: argv(r) })));
}

/** The firewalld policy that opens the outbound ports (firewalld filters output only through policies). */
export const FIREWALLD_OUT_POLICY = 'tailscale-out';

/** firewall-cmd commands: inbound ports in a zone, outbound through a HOST → ANY policy; permanent, then reload. */
export function renderFirewalld(input: SnippetInput): Snippet {
  const zone = input.zone ? [`--zone=${input.zone}`] : [];
  const fc = (...args: string[]) => ['firewall-cmd', '--permanent', ...args];
  const pol = `--policy=${FIREWALLD_OUT_POLICY}`;
  const ins = input.requirements.filter((r) => r.direction === 'in');
  const outs = input.requirements.filter((r) => r.direction === 'out');
  const groups: { why: string; argv: readonly string[] }[] = [
    ...ins.map((r) => ({ why: `${describeRequirement(r)}: ${r.why}`, argv: fc(...zone, `--add-port=${r.port}/${r.proto}`) })),
  ];
  if (outs.length > 0) {
    groups.push(
      { why: `outbound: policy ${FIREWALLD_OUT_POLICY} from the host itself to every zone`, argv: fc(`--new-policy=${FIREWALLD_OUT_POLICY}`) },
      { why: '', argv: fc(pol, '--add-ingress-zone=HOST') },
      { why: '', argv: fc(pol, '--add-egress-zone=ANY') },
      ...outs.map((r) => ({
        why: `${describeRequirement(r)}: ${r.why}`,
        argv: fc(pol, r.match === 'sport' ? `--add-source-port=${r.port}/${r.proto}` : `--add-port=${r.port}/${r.proto}`),
      })),
    );
  }
  groups.push({ why: 'load the permanent configuration into the runtime', argv: ['firewall-cmd', '--reload'] });
  const notes = [
    `inbound ports go to ${input.zone ? `zone ${input.zone}` : 'the default zone (render with --zone for the zone of your WAN interfaces)'}`,
    'the outbound policy matters only where another policy rejects output (firewalld 0.9 or later)',
  ];
  return commandsText('firewalld', input, notes, groups);
}

/** The iptables match and comment of one requirement (shared by INPUT/OUTPUT lines). */
function iptMatch(r: PortRequirement): string {
  return `-p ${r.proto} -m ${r.proto} --${r.match} ${r.port} -m comment --comment "${label(r)}" -j ACCEPT`;
}

/** An iptables-restore file for `--noflush`: rules appended to INPUT and OUTPUT of filter, for both families. */
export function renderIptables(input: SnippetInput): Snippet {
  const lines = [
    ...header('iptables', input, [
      'load with: iptables-restore --noflush FILE && ip6tables-restore --noflush FILE (the rules carry no',
      'addresses, so the same file serves both); the lines are appended: they take effect under a',
      'drop policy, or move them above your own final drop rule',
    ]),
    '*filter',
    ...input.requirements.map((r) => `-A ${r.direction === 'in' ? 'INPUT' : 'OUTPUT'} ${iptMatch(r)}`),
    'COMMIT',
  ];
  return { text: `${lines.join('\n')}\n` };
}

/** The nftables chains the include defines; the admin jumps to them from their own base chains. */
export const NFT_CHAINS = { in: 'tailscale-in', out: 'tailscale-out' } as const;

/** An nftables include with two regular chains, to be included inside the admin's own table block. */
export function renderNftables(input: SnippetInput): Snippet {
  const chain = (direction: 'in' | 'out') => {
    const rules = input.requirements.filter((r) => r.direction === direction);
    return [
      `chain ${NFT_CHAINS[direction]} {`,
      ...rules.flatMap((r) => [`\t# ${r.why}`, `\t${r.proto} ${r.match} ${r.port} accept comment "${label(r)}"`]),
      '}',
    ];
  };
  const lines = [
    ...header('nftables', input, [
      'include this file inside your own table block (any family: inet, ip, ip6), then jump from',
      `your base chains: \`jump ${NFT_CHAINS.in}\` in the input chain, \`jump ${NFT_CHAINS.out}\` in the output chain.`,
      'An accept is final only in its own base chain, so the jumps belong in the chains whose policy drops.',
    ]),
    ...chain('in'),
    ...chain('out'),
  ];
  return { text: `${lines.join('\n')}\n` };
}
