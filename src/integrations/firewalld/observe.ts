import type { CommandRunner } from '../../exec/runner.js';
import { CONFIG_IFACE, CONFIG_PATH, CONFIG_ZONE_IFACE, FIREWALLD, RUNTIME_PATH, ZONE_IFACE } from './bus.js';
import type { FirewalldBus } from './bus.js';
import { itemKey } from './plan.js';
import type { FirewalldItem, FirewalldZones, Layer } from './plan.js';

/**
 * Reading and writing firewalld's zones over D-Bus, one method per question or change. Runtime:
 * `org.fedoraproject.FirewallD1.zone` on the root object; permanent: the zone's object under
 * `/org/fedoraproject/FirewallD1/config` (found with `getZoneByName`), interface `config.zone`.
 */

/** Whether firewalld answers on the bus here and has finished starting (`state` is RUNNING). */
export async function firewalldRunning(bus: FirewalldBus): Promise<boolean> {
  try {
    return (await bus.property(RUNTIME_PATH, FIREWALLD, 'state')) === 'RUNNING';
  } catch {
    return false;
  }
}

async function zoneOfInterface(bus: FirewalldBus, layer: Layer, iface: string): Promise<string> {
  const [zone] = layer === 'runtime'
    ? await bus.call(RUNTIME_PATH, ZONE_IFACE, 'getZoneOfInterface', [iface])
    : await bus.call(CONFIG_PATH, CONFIG_IFACE, 'getZoneOfInterface', [iface]);
  return typeof zone === 'string' ? zone : '';
}

/** The object path of a zone's permanent configuration. */
export async function configZonePath(bus: FirewalldBus, zone: string): Promise<string> {
  const [path] = await bus.call(CONFIG_PATH, CONFIG_IFACE, 'getZoneByName', [zone]);
  if (typeof path !== 'string') throw new Error(`firewalld: no permanent zone ${zone}`);
  return path;
}

/** The interfaces that hold a default route (IPv4 or IPv6), in the current network namespace. */
export async function defaultRouteInterfaces(runner: CommandRunner): Promise<string[]> {
  const devs: string[] = [];
  for (const family of ['-4', '-6']) {
    const r = await runner.run('ip', ['-j', family, 'route', 'show', 'default'], { allowFailure: true, timeoutMs: 5_000 });
    if (r.exitCode !== 0) continue;
    for (const route of JSON.parse(r.stdout || '[]') as { dev?: string }[]) if (route.dev) devs.push(route.dev);
  }
  return [...new Set(devs)];
}

/** The zones the wanted items depend on: the tunnel's in each layer, and the WAN interfaces'. */
export async function observeZones(bus: FirewalldBus, runner: CommandRunner, tunnel: string): Promise<FirewalldZones> {
  const [runtime, permanent, defaultZone, wans] = await Promise.all([
    zoneOfInterface(bus, 'runtime', tunnel),
    zoneOfInterface(bus, 'permanent', tunnel),
    bus.call(RUNTIME_PATH, FIREWALLD, 'getDefaultZone').then(([z]) => String(z)),
    defaultRouteInterfaces(runner),
  ]);
  const wanIfaces = wans.filter((w) => w !== tunnel);
  const wanZones = wanIfaces.length === 0
    ? [defaultZone]
    : await Promise.all(wanIfaces.map(async (w) => (await zoneOfInterface(bus, 'runtime', w)) || defaultZone));
  return { tunnelZone: { runtime, permanent }, wanZones };
}

function splitPort(name: string): [string, string] {
  const [port = '', proto = 'udp'] = name.split('/');
  return [port, proto];
}

/**
 * A stable digest of a value: object keys and string lists sorted, so order means nothing.
 * node:crypto is imported here, when firewalld is actually read: loading it costs every CLI start
 * 5-8 ms (docs/PERFORMANCE.md, "CLI start-up").
 */
async function digest(value: unknown): Promise<string> {
  const { createHash } = await import('node:crypto');
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.every((x) => typeof x === 'string') ? [...(v as string[])].sort() : v.map(canon);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, canon(x)]));
    return v;
  };
  return createHash('sha256').update(JSON.stringify(canon(value))).digest('hex').slice(0, 16);
}

/** The digest of a permanent zone's settings (getSettings2). */
async function settingsDigest(bus: FirewalldBus, path: string): Promise<string> {
  return await digest(await bus.call(path, CONFIG_ZONE_IFACE, 'getSettings2'));
}

/** For each zone that is still firewalld's built-in default (no copy in /etc/firewalld/zones): its settings' digest. */
export async function builtinDefaults(bus: FirewalldBus, zones: readonly string[]): Promise<Record<string, string>> {
  const found = await Promise.all([...new Set(zones)].map(async (zone) => {
    const path = await configZonePath(bus, zone);
    return (await bus.property(path, CONFIG_ZONE_IFACE, 'default')) === true ? [[zone, await settingsDigest(bus, path)] as const] : [];
  }));
  return Object.fromEntries(found.flat());
}

/** Whether one item is in place now (a zone-defaults mark is tsfw's own note: always). */
async function isPresent(bus: FirewalldBus, item: FirewalldItem): Promise<boolean> {
  if (item.kind === 'zone-defaults') return true;
  if (item.kind === 'zone-interface') return (await zoneOfInterface(bus, item.layer, item.name)) === item.zone;
  const [port, proto] = splitPort(item.name);
  if (item.layer === 'runtime') return (await bus.call(RUNTIME_PATH, ZONE_IFACE, 'queryPort', [item.zone, port, proto]))[0] === true;
  return (await bus.call(await configZonePath(bus, item.zone), CONFIG_ZONE_IFACE, 'queryPort', [port, proto]))[0] === true;
}

/** The keys (plan.itemKey) of the given items that are in place now. */
export async function presentItems(bus: FirewalldBus, items: readonly FirewalldItem[]): Promise<Set<string>> {
  const unique = [...new Map(items.map((i) => [itemKey(i), i])).values()];
  const answers = await Promise.all(unique.map(async (i) => [itemKey(i), await isPresent(bus, i)] as const));
  return new Set(answers.filter(([, here]) => here).map(([key]) => key));
}

/** Adds or removes one item in its layer. */
export async function change(bus: FirewalldBus, op: 'add' | 'remove', item: FirewalldItem): Promise<void> {
  const verb = op === 'add' ? 'add' : 'remove';
  if (item.kind === 'zone-defaults') {
    // Adding is only the note. Removing: back to the built-in defaults, but only when the settings
    // are what they were then (anything the admin changed since keeps firewalld's copy).
    if (op === 'add') return;
    const path = await configZonePath(bus, item.zone);
    if ((await bus.property(path, CONFIG_ZONE_IFACE, 'default')) === false && (await settingsDigest(bus, path)) === item.name) {
      await bus.call(path, CONFIG_ZONE_IFACE, 'loadDefaults');
    }
    return;
  }
  if (item.kind === 'zone-interface') {
    if (item.layer === 'runtime') await bus.call(RUNTIME_PATH, ZONE_IFACE, `${verb}Interface`, [item.zone, item.name]);
    else await bus.call(await configZonePath(bus, item.zone), CONFIG_ZONE_IFACE, `${verb}Interface`, [item.name]);
    return;
  }
  const [port, proto] = splitPort(item.name);
  if (item.layer === 'runtime') await bus.call(RUNTIME_PATH, ZONE_IFACE, `${verb}Port`, op === 'add' ? [item.zone, port, proto, 0] : [item.zone, port, proto]);
  else await bus.call(await configZonePath(bus, item.zone), CONFIG_ZONE_IFACE, `${verb}Port`, [port, proto]);
}
