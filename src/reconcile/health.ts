import type { DaemonState } from './state-format.js';

/**
 * Whether a running daemon is doing its job, judged from its state file alone (no nft, no lock):
 * cheap enough for a container HEALTHCHECK every few seconds. A hung or stopped daemon stops
 * rewriting state.json after its passes, so a stale last pass is the signal. Pure.
 */

/** The verdict and the one line that explains it. */
export interface Health {
  readonly healthy: boolean;
  readonly reason: string;
}

/** `found` is what readState returned (undefined: no state file); `nowMs` and `maxAgeMs` in ms. */
export function assessHealth(found: { readonly state: DaemonState; readonly alive: boolean } | undefined, nowMs: number, maxAgeMs: number): Health {
  if (!found) return { healthy: false, reason: 'no daemon state file: the daemon has not started' };
  const { state, alive } = found;
  if (!state.running) return { healthy: false, reason: `the daemon stopped at ${state.stoppedAt ?? state.updatedAt}` };
  if (!alive) return { healthy: false, reason: `the daemon (pid ${state.pid}) is gone` };
  const pass = state.lastPass;
  if (!state.ready || !pass) return { healthy: false, reason: 'no successful pass yet (starting)' };
  const ageMs = nowMs - Date.parse(pass.at);
  const age = `${Math.round(ageMs / 1_000)} s ago`;
  if (!(ageMs <= maxAgeMs)) return { healthy: false, reason: `last pass ${age}, more than ${Math.round(maxAgeMs / 1_000)} s: the daemon is stuck` };
  if (pass.result === 'error') return { healthy: false, reason: `last pass ${age} failed: ${pass.error ?? 'error'}` };
  if (pass.result === 'held') return { healthy: false, reason: `last pass ${age} held back its repair: repairs keep being undone (see tsfw status)` };
  return { healthy: true, reason: `last pass ${age} (${pass.cause}, ${pass.result})` };
}
