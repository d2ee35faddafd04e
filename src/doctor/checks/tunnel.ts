import type { Check } from '../types.js';
import { isUnreadable } from '../types.js';
import type { CheckInput } from './context.js';

/** The tunnel interface missing is a warning: rules match it by name and work once it appears. */
export function checkTunnel(input: CheckInput): Check {
  const id = 'tunnel-interface';
  const { links } = input.facts;
  const name = input.config.interface;
  if (isUnreadable(links)) return { id, status: 'warn', message: `could not list interfaces: ${links.error}`, fix: null };
  if (links.includes(name)) return { id, status: 'ok', message: `tunnel interface ${name} exists`, fix: null };
  return {
    id,
    status: 'warn',
    message: `tunnel interface ${name} does not exist (yet): tsfw's rules match it by name and apply once it appears`,
    fix: `systemctl start tailscaled   # or set \`interface: <name>\` in the config if the tunnel has another name`,
  };
}
