import type { Check } from './types.js';
import type { CheckInput } from './checks/context.js';
import { checkCgnat } from './checks/cgnat.js';
import { checkDiscovery } from './checks/discovery.js';
import { checkFirewalld } from './checks/firewalld.js';
import { checkForeignDrops } from './checks/foreign-drops.js';
import { checkManagers } from './checks/managers.js';
import { checkMarks } from './checks/marks.js';
import { acceptedProbes } from './checks/probes.js';
import { checkRequiredPorts } from './checks/required-ports.js';
import { checkConnmark, checkForwarding, checkRpFilter } from './checks/sysctl.js';
import { checkBackendTools, checkIptablesFlavours, checkTransaction } from './checks/tools.js';
import { checkTunnel } from './checks/tunnel.js';

/** Every check, in the order doctor prints them. Pure: facts in, findings out. */
export function runChecks(input: CheckInput): Check[] {
  const probes = acceptedProbes(input);
  return [
    checkBackendTools(input),
    checkIptablesFlavours(input),
    checkTransaction(input),
    checkTunnel(input),
    ...checkManagers(input),
    ...checkFirewalld(input),
    checkForeignDrops(input, 'input', probes),
    checkForeignDrops(input, 'forward', probes),
    checkRequiredPorts(input),
    ...checkDiscovery(input),
    checkCgnat(input),
    checkForwarding(input),
    checkRpFilter(input),
    checkConnmark(input),
    checkMarks(input),
  ];
}

/** Exit status for doctor: 1 when any check fails, else 0 (warnings do not fail). */
export function doctorExitCode(checks: readonly Check[]): 0 | 1 {
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}
