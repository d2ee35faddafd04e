import { parseConfigText } from '../../src/config/parse.js';
import type { Config } from '../../src/config/schema.js';
import type { Mode, Ruleset } from '../../src/model/types.js';
import { rulesetFor } from '../../src/profiles/load.js';

/**
 * Named configs shared by golden renders, planner tables, captured fixtures and the fake-backend
 * tests, so every layer is checked against the same inputs.
 */

/** Every optional rule switched on: own addresses (both families), stateful filtering, a second
 * WireGuard port, a second CGNAT exemption, an IPv6 exemption, MSS clamping, and CGNAT spoofing answered with return. */
export const EVERYTHING_YAML = `addresses: [100.100.0.1, "fd7a:115c:a1e0::1"]
statefulFiltering: true
mssClamp: true
ports: [41641, 41642]
cgnat:
  mode: return
  exempt: [100.115.92.0/23, 100.127.0.0/16]
  exempt6: ["fd7a:115c:a1e0:ab12::/64"]
`;

/** A validated config from YAML text (throws ConfigError like the loader). */
export function configFrom(yaml: string): Config {
  return parseConfigText(yaml, 'test').config;
}

/** The desired ruleset for YAML text in a mode. */
export function rulesetFrom(yaml: string, mode: Mode): Ruleset {
  return rulesetFor(configFrom(yaml), mode);
}
