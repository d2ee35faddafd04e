import { chainPolicy } from '../../backends/iptables/parse.js';
import { foreignBaseChains } from '../parse-ruleset.js';
import type { Check } from '../types.js';
import { isUnreadable } from '../types.js';
import type { CheckInput } from './context.js';
import { describeBlocked, findBlocked } from './foreign-drops.js';
import { requiredPortProbes } from './probes.js';

/**
 * On hosts whose input or output base chains default to drop, whether the ports Tailscale needs
 * get through. Best effort: only base-chain policies and simple accepts are understood.
 */
export function checkRequiredPorts(input: CheckInput): Check {
  const id = 'required-ports';
  const { ruleset, legacy } = input.facts;
  if (isUnreadable(ruleset)) return { id, status: 'warn', message: `could not read the ruleset: ${ruleset.error}`, fix: 'run tsfw doctor as root' };
  const own = { family: 'inet', name: input.config.nftables.table };
  const defaultDrop = foreignBaseChains(ruleset, own).filter((c) => (c.base?.hook === 'input' || c.base?.hook === 'output') && c.base.policy === 'drop');
  const legacyDrop = legacy?.tables.some((t) => t.table === 'filter' && (chainPolicy(t, 'INPUT') === 'DROP' || chainPolicy(t, 'OUTPUT') === 'DROP')) ?? false;
  if (defaultDrop.length === 0 && !legacyDrop) {
    return { id, status: 'ok', message: 'no input/output base chain defaults to drop: the ports Tailscale needs are not blocked by a policy (best effort)', fix: null };
  }
  const blocked = findBlocked(input, requiredPortProbes(input));
  if (typeof blocked === 'string') return { id, status: 'warn', message: blocked, fix: null };
  if (blocked.length === 0) {
    return { id, status: 'ok', message: 'default-drop host: the ports Tailscale needs are accepted (best effort: policies and simple accepts)', fix: null };
  }
  const { message, fix } = describeBlocked(blocked);
  const profile = input.config.profiles.includes('required-ports')
    ? 'the required-ports profile accepts them in tsfw\'s table, but an accept there is not final across tables'
    : 'add required-ports to `profiles:` for tsfw\'s side';
  return { id, status: 'warn', message: `default-drop host (best effort): ${message}; ${profile}`, fix };
}
