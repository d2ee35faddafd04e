import type { Fact } from '../discovery/facts.js';
import { renderAws, renderAzure, renderGcp } from './cloud.js';
import { renderFirewalld, renderIptables, renderNftables, renderUfw } from './host.js';
import type { PortRequirement } from './ports.js';
import type { Snippet, SnippetInput, Target } from './types.js';

/** One renderer per target: the table `render --for` dispatches on. */
const RENDERERS: Readonly<Record<Target, (input: SnippetInput) => Snippet>> = {
  ufw: renderUfw,
  firewalld: renderFirewalld,
  iptables: renderIptables,
  nftables: renderNftables,
  aws: renderAws,
  gcp: renderGcp,
  azure: renderAzure,
};

/** The header line naming the WireGuard ports and where they came from (config, tailscaled, fallback). */
export function portsNote(ports: Fact<number>): string {
  const list = ports.values.length > 0 ? ports.values.join(', ') : 'none';
  return `WireGuard UDP port(s): ${list} (${ports.source}${ports.note ? `: ${ports.note}` : ''})`;
}

/** Renders the snippet for one target. Pure. */
export function renderSnippet(target: Target, input: SnippetInput): Snippet {
  return RENDERERS[target](input);
}

/** `render --for … --json`: the target, the requirements and the snippet's own data forms. */
export function snippetJson(target: Target, requirements: readonly PortRequirement[], snippet: Snippet): string {
  return `${JSON.stringify({ target, requirements, ...snippet }, null, 2)}\n`;
}
