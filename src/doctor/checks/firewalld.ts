import type { Config } from '../../config/schema.js';
import type { Check, FirewalldFacts, FirewalldZoneFacts } from '../types.js';
import { isUnreadable } from '../types.js';
import { portsOf } from './context.js';
import type { CheckInput } from './context.js';

/**
 * Whether firewalld lets tailnet traffic through, from firewalld's own model (its zones over
 * D-Bus), not from its nft table: the tunnel's zone must have target ACCEPT (input and forwarding
 * from the tunnel) and each WireGuard port must be open in the zone of the WAN interfaces. Missing
 * at runtime is a certain reject (`fail`); present at runtime but missing in the permanent
 * configuration is lost at the next `--reload` or restart (`warn`). The fix puts the persistent
 * commands first; the runtime-only ones are labelled.
 */

const LAYERS = ['runtime', 'permanent'] as const;
type Layer = (typeof LAYERS)[number];

function covers(spec: string, port: number): boolean {
  const m = /^(\d+)(?:-(\d+))?\/udp$/.exec(spec);
  return m !== null && port >= Number(m[1]) && port <= Number(m[2] ?? m[1]);
}

function portOpen(facts: FirewalldFacts, zone: FirewalldZoneFacts, port: number): boolean {
  return zone.target === 'ACCEPT' || zone.ports.some((p) => covers(p, port)) || zone.services.some((s) => (facts.servicePorts[s] ?? []).some((p) => covers(p, port)));
}

interface Gap {
  readonly layer: Layer;
  readonly what: string;
  /** The firewall-cmd arguments that close it in that layer (without --permanent). */
  readonly args: string;
}

function gaps(facts: FirewalldFacts, tunnel: string, ports: readonly number[]): Gap[] {
  const found: Gap[] = [];
  for (const layer of LAYERS) {
    const bound = facts.tunnelZone[layer];
    const zoneName = bound || facts.defaultZone;
    const zone = facts.zones[layer][zoneName];
    if (zone?.target !== 'ACCEPT') {
      found.push({
        layer,
        what: `${tunnel} is in zone ${zoneName}${bound ? '' : ' (the default zone: not bound)'}, target ${zone?.target ?? 'unknown'}: tailnet input and forwarding are rejected`,
        args: bound ? `--zone=trusted --change-interface=${tunnel}` : `--zone=trusted --add-interface=${tunnel}`,
      });
    }
    for (const wanZone of [...new Set(facts.wanZones)]) {
      const z = facts.zones[layer][wanZone];
      for (const port of ports) {
        if (!z || !portOpen(facts, z, port)) found.push({ layer, what: `${port}/udp is not open in zone ${wanZone} (the WAN interfaces' zone)`, args: `--zone=${wanZone} --add-port=${port}/udp` });
      }
    }
  }
  return found;
}

/** The persistent form: each change with --permanent, then one reload to make it the runtime too. */
function persistentFix(args: readonly string[]): string {
  return [...args.map((a) => `firewall-cmd --permanent ${a}`), 'firewall-cmd --reload'].join(' && ');
}

/** The firewalld check; none at all when firewalld neither answers nor has its table. */
export function checkFirewalld(input: CheckInput): Check[] {
  const id = 'firewalld';
  const { firewalld, ruleset } = input.facts;
  const tunnel = input.config.interface;
  const ports = portsOf(input);
  const hasTable = !isUnreadable(ruleset) && ruleset.tables.some((t) => t.name === 'firewalld');
  if (firewalld === undefined) {
    if (!hasTable) return [];
    return [{
      id, status: 'warn',
      message: 'firewalld\'s table is present but firewalld does not answer on the system bus (busctl), so its zones cannot be checked: tsfw\'s accepts do not override its rejects',
      fix: persistentFix([`--zone=trusted --add-interface=${tunnel}`, ...ports.map((p) => `--add-port=${p}/udp`)]),
    }];
  }
  if (isUnreadable(firewalld)) return [{ id, status: 'warn', message: `could not read firewalld's zones: ${firewalld.error}`, fix: null }];
  return [judgeFirewalld(firewalld, input.config, ports)];
}

/** The verdict on firewalld's zones (doctor's check, and apply's one-line warning on a fail). */
export function judgeFirewalld(firewalld: FirewalldFacts, config: Config, ports: readonly number[]): Check {
  const id = 'firewalld';
  const tunnel = config.interface;
  const integration = config.integrations.firewalld === 'auto' && config.mode === 'on'
    ? []
    : ['# or let tsfw do both, runtime and permanent: mode on with integrations.firewalld: auto'];
  const found = gaps(firewalld, tunnel, ports);
  if (found.length === 0) {
    const zones = [...new Set(firewalld.wanZones)].join(', ');
    return { id, status: 'ok', message: `firewalld lets tailnet traffic through: ${tunnel} is in zone ${firewalld.tunnelZone.runtime || firewalld.defaultZone} (target ACCEPT) and ${ports.map((p) => `${p}/udp`).join(', ')} is open in zone ${zones}, at runtime and permanently`, fix: null };
  }
  const runtime = found.filter((g) => g.layer === 'runtime');
  const permanent = found.filter((g) => g.layer === 'permanent');
  const fix = [
    ...(permanent.length > 0 || runtime.length > 0 ? [persistentFix([...new Set([...permanent, ...runtime].map((g) => g.args))])] : []),
    ...(runtime.length > 0 ? [`# not persistent (lost at the next firewall-cmd --reload or restart): ${runtime.map((g) => `firewall-cmd ${g.args}`).join(' && ')}`] : []),
    ...integration,
  ].join('\n');
  if (runtime.length > 0) {
    return { id, status: 'fail', message: `firewalld rejects tailnet traffic that tsfw accepts: ${runtime.map((g) => g.what).join('; ')}`, fix };
  }
  return { id, status: 'warn', message: `firewalld lets tailnet traffic through now, but its permanent configuration does not: lost at the next --reload or restart (${permanent.map((g) => g.what).join('; ')})`, fix };
}
