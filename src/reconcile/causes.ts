/**
 * Every reason the daemon runs a pass, in one table: where the trigger comes from and whether it
 * carries the admin's intent. Admin causes never spend the anti-fight budget and win a queued
 * follow-up pass (it must use the new config). docs/daemon.md shows the same table. Pure.
 */
export const PASS_CAUSES = {
  startup: { source: 'daemon start (daemon.ts)', admin: true, why: 'converge once before saying READY' },
  schedule: { source: 'node-cron (schedule.ts)', admin: false, why: 'the safety net for what no event reports (iptables-legacy, a monitor that was down)' },
  event: { source: 'nft monitor (monitor.ts)', admin: false, why: 'another program committed a change to tsfw\'s objects' },
  resync: { source: 'nft monitor (monitor.ts)', admin: false, why: 'the kernel dropped netlink events: read everything again' },
  'monitor-restart': { source: 'nft monitor (monitor.ts)', admin: false, why: 'changes made while the monitor was down were not reported' },
  sighup: { source: 'SIGHUP, systemctl reload, tsfw reload (signals.ts)', admin: true, why: 're-read the config and converge now' },
  config: { source: 'config file watcher (daemon-triggers.ts)', admin: true, why: 'the config file changed (e.g. tsfw apply --mode recorded a mode)' },
  addresses: { source: 'ip monitor address (address-watch.ts)', admin: true, why: 'the tunnel\'s own addresses changed: the desired rules changed' },
  firewalld: { source: 'busctl monitor (firewalld-watch.ts)', admin: false, why: 'firewalld reloaded or (re)started: its configuration was rebuilt from the permanent one, check tsfw\'s items in it' },
  watchdog: { source: 'systemd WatchdogSec (daemon-triggers.ts)', admin: false, why: 'a pass at least every WatchdogSec/2; only successful passes feed the watchdog' },
  'backoff-end': { source: 'token bucket (reconciler.ts)', admin: false, why: 'a repair token is back after backing off from a fight' },
} as const satisfies Record<string, { source: string; admin: boolean; why: string }>;

/** Why a pass ran. */
export type PassCause = keyof typeof PASS_CAUSES;

/** Whether a cause expresses the admin's intent (never spends the repair budget). */
export function isAdminCause(cause: PassCause): boolean {
  return PASS_CAUSES[cause].admin;
}
