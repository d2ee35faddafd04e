import { chainPolicy } from '../../backends/iptables/parse.js';
import { acceptsTunnel, hasDockerUser, hasOwnForwardJump } from '../../integrations/docker/plan.js';
import type { DockerView } from '../../integrations/docker/plan.js';
import type { CheckInput } from './context.js';

/**
 * Whether Docker's FORWARD chain lets forwarded tailnet traffic through, in every iptables table
 * that has Docker's DOCKER-USER chain (either flavour, from the saves doctor read): its policy is
 * not DROP, or tsfw's own ts-forward jump sits in that same chain, or DOCKER-USER accepts the
 * tunnel both ways (tsfw's integration rules or the admin's own). Pure: returns why, or undefined.
 */
export function dockerForwardConfirmed(input: CheckInput): string | undefined {
  const iface = input.config.interface;
  const views: DockerView[] = [
    ...(input.facts.xtablesSaves ?? []).map((d) => ({ flavour: 'nft' as const, family: d.family, filter: d.tables.find((t) => t.table === 'filter') })),
    ...(input.facts.legacy ? [{ flavour: 'legacy' as const, family: input.facts.legacy.family, filter: input.facts.legacy.tables.find((t) => t.table === 'filter') }] : []),
  ].filter(hasDockerUser);
  if (views.length === 0) return undefined;
  const reasons: string[] = [];
  for (const view of views) {
    const where = `iptables-${view.flavour} ${view.family}`;
    if (view.filter && chainPolicy(view.filter, 'FORWARD') !== 'DROP') reasons.push(`${where}: FORWARD policy ${chainPolicy(view.filter, 'FORWARD') ?? 'ACCEPT'}`);
    else if (hasOwnForwardJump(view)) reasons.push(`${where}: tsfw's ts-forward jump is in Docker's FORWARD chain`);
    else if (acceptsTunnel(view, 'in', iface) && acceptsTunnel(view, 'out', iface)) reasons.push(`${where}: DOCKER-USER accepts ${iface} both ways`);
    else return undefined;
  }
  return `forwarded tailnet traffic passes Docker's FORWARD (${reasons.join('; ')})`;
}
