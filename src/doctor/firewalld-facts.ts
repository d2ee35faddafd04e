import type { CommandRunner } from '../exec/runner.js';
import { busctlBus, CONFIG_ZONE_IFACE, FIREWALLD, RUNTIME_PATH, ZONE_IFACE } from '../integrations/firewalld/bus.js';
import type { FirewalldBus } from '../integrations/firewalld/bus.js';
import { configZonePath, firewalldRunning, observeZones } from '../integrations/firewalld/observe.js';
import { LAYERS } from '../integrations/firewalld/plan.js';
import type { Layer } from '../integrations/firewalld/plan.js';
import type { FirewalldFacts, FirewalldZoneFacts, Unreadable } from './types.js';

/**
 * What doctor needs from firewalld, read over D-Bus (the integration's own calls): where the tunnel
 * and the WAN interfaces are, and each of those zones' target, ports and services in both layers,
 * with the services' ports. Read-only. Undefined when firewalld does not answer.
 */

type Settings = Record<string, { data?: unknown } | undefined>;

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function portList(value: unknown): string[] {
  return Array.isArray(value) ? value.flatMap((p) => (Array.isArray(p) && p.length === 2 ? [`${String(p[0])}/${String(p[1])}`] : [])) : [];
}

function zoneFacts(settings: Settings): FirewalldZoneFacts {
  return {
    target: typeof settings.target?.data === 'string' ? settings.target.data : 'default',
    ports: portList(settings.ports?.data),
    services: strings(settings.services?.data),
  };
}

async function settingsOf(bus: FirewalldBus, layer: Layer, zone: string): Promise<FirewalldZoneFacts> {
  const [settings] = layer === 'runtime'
    ? await bus.call(RUNTIME_PATH, ZONE_IFACE, 'getZoneSettings2', [zone])
    : await bus.call(await configZonePath(bus, zone), CONFIG_ZONE_IFACE, 'getSettings2');
  return zoneFacts((settings ?? {}) as Settings);
}

/** The facts, `{ error }` when firewalld answers but a question failed, undefined when it does not answer. */
export async function gatherFirewalldFacts(runner: CommandRunner, tunnel: string, bus: FirewalldBus = busctlBus(runner)): Promise<FirewalldFacts | Unreadable | undefined> {
  if (!(await firewalldRunning(bus))) return undefined;
  try {
    const [zones, [defaultZone]] = await Promise.all([observeZones(bus, runner, tunnel), bus.call(RUNTIME_PATH, FIREWALLD, 'getDefaultZone')]);
    const dz = String(defaultZone);
    const wanted = [...new Set([zones.tunnelZone.runtime || dz, zones.tunnelZone.permanent || dz, ...zones.wanZones])];
    const perLayer = await Promise.all(LAYERS.map(async (layer) => Object.fromEntries(await Promise.all(wanted.map(async (z) => [z, await settingsOf(bus, layer, z)] as const)))));
    const services = [...new Set(perLayer.flatMap((byZone) => Object.values(byZone).flatMap((z) => z.services)))];
    const servicePorts = Object.fromEntries(await Promise.all(services.map(async (s) => {
      const [settings] = await bus.call(RUNTIME_PATH, FIREWALLD, 'getServiceSettings2', [s]).catch(() => [{}]);
      return [s, portList(((settings ?? {}) as Settings).ports?.data)] as const;
    })));
    return { defaultZone: dz, tunnelZone: zones.tunnelZone, wanZones: zones.wanZones, zones: { runtime: perLayer[0]!, permanent: perLayer[1]! }, servicePorts };
  } catch (error) {
    return { error: `firewalld: ${error instanceof Error ? error.message : String(error)}` };
  }
}
