import { BusError, CONFIG_IFACE, CONFIG_PATH, CONFIG_ZONE_IFACE, FIREWALLD, RUNTIME_PATH, ZONE_IFACE } from './bus.js';
import type { BusArg, FirewalldBus } from './bus.js';
import type { Layer } from './plan.js';

/**
 * An in-memory firewalld answering the D-Bus calls tsfw makes, with firewalld's error names for
 * refused calls (ZONE_ALREADY_SET, ZONE_CONFLICT, ALREADY_ENABLED, NOT_ENABLED, INVALID_ZONE), for
 * unit tests of the integration. `reload()` copies the permanent layer over the runtime one.
 */
export interface FakeFirewalld extends FirewalldBus {
  running: boolean;
  defaultZone: string;
  /** Per layer: zone → interfaces and ports (`41641/udp`). */
  readonly zones: Record<Layer, Map<string, { interfaces: Set<string>; ports: Set<string> }>>;
  /** Every mutating call, as `layer method args`. */
  readonly writes: string[];
  /** Permanent zones firewalld has copied to /etc/firewalld/zones (no longer its built-in defaults). */
  readonly copied: Set<string>;
  reload(): void;
  /** Makes the next mutating call fail (once). */
  failNextWrite(): void;
}

const ZONES = ['block', 'dmz', 'drop', 'external', 'home', 'internal', 'public', 'trusted', 'work'];

export function fakeFirewalld(): FakeFirewalld {
  const fresh = () => new Map(ZONES.map((z) => [z, { interfaces: new Set<string>(), ports: new Set<string>() }]));
  let failNext = false;
  const zoneOf = (layer: Layer, iface: string) => [...fake.zones[layer]].find(([, z]) => z.interfaces.has(iface))?.[0] ?? '';
  const zone = (layer: Layer, name: string) => {
    const z = fake.zones[layer].get(name);
    if (!z) throw new BusError('INVALID_ZONE', `Call failed: INVALID_ZONE: ${name}`);
    return z;
  };
  const write = (layer: Layer, method: string, args: readonly BusArg[]) => {
    if (failNext) {
      failNext = false;
      throw new BusError('FAILED', 'Call failed: injected');
    }
    fake.writes.push(`${layer} ${method} ${args.join(' ')}`);
    if (layer === 'permanent') fake.copied.add(String(args[0]));
  };
  const settings = (z: { interfaces: Set<string>; ports: Set<string> }) => ({
    target: { type: 's', data: 'default' },
    ...(z.interfaces.size ? { interfaces: { type: 'as', data: [...z.interfaces] } } : {}),
    ...(z.ports.size ? { ports: { type: 'a(ss)', data: [...z.ports].map((p) => p.split('/')) } } : {}),
  });
  const apply = (layer: Layer, method: string, zoneName: string, args: readonly BusArg[]): unknown[] => {
    const z = zone(layer, zoneName);
    const [first = '', proto = ''] = args.map(String);
    switch (method) {
      case 'queryPort': return [z.ports.has(`${first}/${proto}`)];
      case 'getSettings2': return [settings(z)];
      case 'loadDefaults':
        write(layer, method, [zoneName]);
        fake.copied.delete(zoneName);
        z.interfaces.clear();
        z.ports.clear();
        return [];
      case 'addInterface': {
        const bound = zoneOf(layer, first);
        if (bound === zoneName) throw new BusError('ZONE_ALREADY_SET', `Call failed: ZONE_ALREADY_SET: '${first}' already bound to '${zoneName}'`);
        if (bound) throw new BusError('ZONE_CONFLICT', `Call failed: ZONE_CONFLICT: '${first}' already bound to '${bound}'`);
        write(layer, method, [zoneName, ...args]);
        z.interfaces.add(first);
        return [zoneName];
      }
      case 'removeInterface':
        if (!z.interfaces.has(first)) throw new BusError('NOT_ENABLED', `Call failed: NOT_ENABLED: ${first}`);
        write(layer, method, [zoneName, ...args]);
        z.interfaces.delete(first);
        return [zoneName];
      case 'addPort':
        if (z.ports.has(`${first}/${proto}`)) throw new BusError('ALREADY_ENABLED', `Call failed: ALREADY_ENABLED: '${first}:${proto}' already in '${zoneName}'`);
        write(layer, method, [zoneName, first, proto]);
        z.ports.add(`${first}/${proto}`);
        return [zoneName];
      case 'removePort':
        if (!z.ports.has(`${first}/${proto}`)) throw new BusError('NOT_ENABLED', `Call failed: NOT_ENABLED: '${first}:${proto}' not in '${zoneName}'`);
        write(layer, method, [zoneName, first, proto]);
        z.ports.delete(`${first}/${proto}`);
        return [zoneName];
      default: throw new BusError('UNKNOWN_METHOD', `Call failed: no method ${method}`);
    }
  };
  const fake: FakeFirewalld = {
    running: true,
    defaultZone: 'public',
    zones: { runtime: fresh(), permanent: fresh() },
    writes: [],
    copied: new Set(),
    reload() {
      fake.zones.runtime = new Map([...fake.zones.permanent].map(([n, z]) => [n, { interfaces: new Set(z.interfaces), ports: new Set(z.ports) }]));
    },
    failNextWrite() {
      failNext = true;
    },
    property(path, iface, name) {
      if (!fake.running) return Promise.reject(new BusError('UNREACHABLE', 'The name is not activatable'));
      if (path === RUNTIME_PATH && iface === FIREWALLD && name === 'state') return Promise.resolve('RUNNING');
      const m = new RegExp(`^${CONFIG_PATH}/zone/(\\w+)$`).exec(path);
      if (m && iface === CONFIG_ZONE_IFACE && name === 'default') return Promise.resolve(!fake.copied.has(m[1]!));
      return Promise.reject(new BusError('UNKNOWN_PROPERTY', name));
    },
    call(path, iface, method, args = []) {
      try {
        if (!fake.running) throw new BusError('UNREACHABLE', 'The name is not activatable');
        const [a = '', ...rest] = args.map(String);
        if (path === RUNTIME_PATH && iface === FIREWALLD && method === 'getDefaultZone') return Promise.resolve([fake.defaultZone]);
        if (path === RUNTIME_PATH && iface === ZONE_IFACE) {
          if (method === 'getZoneOfInterface') return Promise.resolve([zoneOf('runtime', a)]);
          return Promise.resolve(apply('runtime', method, a, method === 'addPort' ? rest.slice(0, 2) : rest));
        }
        if (path === CONFIG_PATH && iface === CONFIG_IFACE) {
          if (method === 'getZoneOfInterface') return Promise.resolve([zoneOf('permanent', a)]);
          if (method === 'getZoneByName') {
            zone('permanent', a);
            return Promise.resolve([`${CONFIG_PATH}/zone/${a}`]);
          }
        }
        const m = new RegExp(`^${CONFIG_PATH}/zone/(\\w+)$`).exec(path);
        if (m && iface === CONFIG_ZONE_IFACE) return Promise.resolve(apply('permanent', method, m[1]!, args));
        throw new BusError('UNKNOWN_METHOD', `Call failed: no method ${iface}.${method} on ${path}`);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
  };
  return fake;
}
