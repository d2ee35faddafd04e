import type { CommandRunner } from '../exec/runner.js';
import { createIntegrations } from '../integrations/registry.js';
import { integrationsStep } from '../integrations/step.js';
import type { Logger } from '../log/logger.js';
import type { PassSteps } from '../reconcile/converge.js';
import type { WatchHints } from '../reconcile/freshness.js';
import { sysctlStep } from '../sysctl/host.js';

/**
 * The one place that builds the host steps every write path runs after the backend's write
 * (apply, reconcile, off, cleanup, the daemon): kernel settings and the other firewall managers,
 * both recorded in `runDir` so that off and cleanup undo exactly what tsfw changed. The daemon
 * passes its watchers' hints, so probes they vouch for are not repeated every pass.
 */
export function passSteps(runDir: string, runner: CommandRunner, log: Logger, hints?: WatchHints): PassSteps {
  return {
    sysctls: sysctlStep(runDir, log.child({ component: 'sysctl' })),
    integrations: integrationsStep(runDir, createIntegrations(runner, hints?.iptFilter), log.child({ component: 'integrations' })),
  };
}
