import type { Mode } from '../model/types.js';

/** What a pass does with one manager. */
export type IntegrationAction = 'ensure' | 'undo' | 'none';

/**
 * Pure: mode on with the integration `auto` and the manager active ensures tsfw's additions;
 * anything else (off, nodivert, `integrations.X: off`, the manager gone) removes what tsfw added
 * before, if anything. nodivert leaves the wiring to the admin, other managers included.
 */
export function integrationAction(mode: Mode, setting: 'auto' | 'off', active: boolean, recorded: number): IntegrationAction {
  if (mode === 'on' && setting === 'auto' && active) return 'ensure';
  return recorded > 0 ? 'undo' : 'none';
}
