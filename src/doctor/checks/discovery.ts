import { describeFact } from '../../discovery/facts.js';
import type { Check } from '../types.js';
import type { CheckInput } from './context.js';

/**
 * `addresses: auto` / `ports: auto`: what was discovered, as notes (tailscaled may simply not be
 * started yet). A fallback port comes with the fix for a tailscaled that runs on another port.
 */
export function checkDiscovery(input: CheckInput): Check[] {
  const found = input.discovered;
  if (!found) return [];
  const out: Check[] = [];
  if (input.config.ports === 'auto') {
    const fallback = found.ports.source === 'fallback';
    out.push({
      id: 'wireguard-port',
      status: 'ok',
      message: `ports: auto → ${describeFact(found.ports)}${fallback ? '; if tailscaled uses another --port, set ports: [PORT]' : ''}`,
      fix: null,
    });
  }
  if (input.config.addresses === 'auto') {
    out.push({ id: 'own-addresses', status: 'ok', message: `addresses: auto → ${describeFact(found.addresses)}`, fix: null });
  }
  return out;
}
