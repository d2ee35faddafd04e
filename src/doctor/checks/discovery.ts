import { describeFact } from '../../discovery/facts.js';
import type { Check } from '../types.js';
import type { CheckInput } from './context.js';

/**
 * `addresses: auto` / `ports: auto`: what was discovered. A fallback WireGuard port is a warning
 * (the real port may be closed under a default-drop policy); no own address yet is only a note.
 */
export function checkDiscovery(input: CheckInput): Check[] {
  const found = input.discovered;
  if (!found) return [];
  const out: Check[] = [];
  if (input.config.ports === 'auto') {
    const fallback = found.ports.source === 'fallback';
    out.push({
      id: 'wireguard-port',
      status: fallback ? 'warn' : 'ok',
      message: `ports: auto → ${describeFact(found.ports)}`,
      fix: fallback ? 'start tailscaled in this network namespace, or set `ports: [<tailscaled --port>]` in the config' : null,
    });
  }
  if (input.config.addresses === 'auto') {
    out.push({ id: 'own-addresses', status: 'ok', message: `addresses: auto → ${describeFact(found.addresses)}`, fix: null });
  }
  return out;
}
