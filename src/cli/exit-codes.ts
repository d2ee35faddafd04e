import { ConfigError } from '../config/errors.js';
import { ExecError } from '../exec/errors.js';
import { ProfileError } from '../profiles/errors.js';

/** Exit statuses (sysexits.h where one fits), as documented in docs/cli.md and the README. */
export const EXIT = {
  ok: 0,
  failure: 1,
  /** Only with --detailed-exitcode: something changed, or would change. */
  changed: 2,
  usage: 64,
  unavailable: 69,
  permission: 77,
  config: 78,
} as const;

/** Maps any thrown error to an exit status. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError || error instanceof ProfileError) return EXIT.config;
  if (error instanceof ExecError) {
    if (error.kind === 'not-found' || error.kind === 'unsupported') return EXIT.unavailable;
    if (error.kind === 'permission') return EXIT.permission;
  }
  return EXIT.failure;
}

/** The lines printed on stderr for an error: short, naming the key or object, no stack. */
export function errorLines(error: unknown): string[] {
  if (error instanceof ConfigError) return error.lines().map((l) => `config: ${l}`);
  if (error instanceof ProfileError) return error.problems.slice(0, 5).map((p) => `profile: ${p}`);
  if (error instanceof ExecError) {
    const hint = error.kind === 'permission' && !/root/.test(error.message) ? ' (tsfw needs root or CAP_NET_ADMIN)'
      : error.kind === 'not-found' ? ' (install nftables / iptables, or pick another backend)'
      : '';
    return [`${error.message}${hint}`];
  }
  const message = error instanceof Error ? error.message : String(error);
  return [message.split('\n', 1)[0] ?? message];
}
