import type { Ruleset } from '../model/types.js';

/**
 * Kernel settings tsfw's rules depend on, planned like rules: what is wanted, what tsfw changed
 * before (a record kept in the run dir), and the smallest set of writes between them. Pure; the
 * reads and writes live in host.ts.
 *
 * Today there is one: `net.ipv4.conf.all.src_valid_mark`. The connmark restore puts tailscaled's
 * bypass mark back on a reply in prerouting, but the reverse-path check looks up the route with
 * mark 0 unless src_valid_mark is on (the kernel ORs `all` with the interface's value), so under a
 * non-zero rp_filter the reply would still be dropped as a martian.
 */

export const SRC_VALID_MARK = 'net.ipv4.conf.all.src_valid_mark';

/** A value tsfw wrote, and the one it replaced (restored when no longer wanted). */
export interface SysctlRecordEntry {
  readonly was: string;
  readonly set: string;
}

/** What tsfw has changed, by key. */
export type SysctlRecord = Readonly<Record<string, SysctlRecordEntry>>;

/** One write tsfw makes (or, in a dry run, would make). */
export interface SysctlChange {
  readonly key: string;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

/** What the planner reads from the host. */
export interface SysctlReading {
  /** Current values of the keys that matter; absent when the key does not exist here. */
  readonly values: Readonly<Record<string, string | undefined>>;
  /** Every `net.ipv4.conf.<name>.rp_filter` (all, default and each interface), by name. */
  readonly rpFilter: Readonly<Record<string, string>>;
}

/** Whether the ruleset restores connection marks for IPv4 (the reverse-path check is IPv4's). */
export function restoresMarks(ruleset: Ruleset): boolean {
  return ruleset.mode !== 'off' && ruleset.chains.some((c) => c.rules.some((r) => r.action.kind === 'restore-mark' && r.families.includes('ip')));
}

/**
 * Whether some interface (or `default`, for interfaces yet to come) filters strictly: the kernel
 * uses max(all, interface), and only strict mode (1) drops a reply whose source routes elsewhere;
 * loose mode (2) accepts any route, which table 52's default route always is.
 */
export function rpFilterStrict(rpFilter: SysctlReading['rpFilter']): boolean {
  const all = Number(rpFilter.all ?? 0);
  return Object.entries(rpFilter).some(([name, v]) => name !== 'all' && Math.max(all, Number(v)) === 1);
}

/** The values tsfw wants, by key: src_valid_mark = 1 when marks are restored under strict rp_filter. */
export function wantedSysctls(ruleset: Ruleset, reading: SysctlReading): Record<string, string> {
  return restoresMarks(ruleset) && rpFilterStrict(reading.rpFilter) ? { [SRC_VALID_MARK]: '1' } : {};
}

/** The outcome of one sysctl pass: what was written, and records dropped because someone else changed the value. */
export interface SysctlOutcome {
  readonly changes: readonly SysctlChange[];
  readonly released: readonly string[];
}

export interface SysctlPlan {
  readonly changes: readonly SysctlChange[];
  /** The record after the changes are made. */
  readonly record: SysctlRecord;
  /** Keys tsfw had set that someone else has changed since: forgotten, never overwritten. */
  readonly released: readonly string[];
}

/**
 * wanted + current + record → writes. A wanted value already in place is left alone and not
 * recorded (it is the admin's). A recorded value no longer wanted goes back to what it was, but
 * only if it still holds what tsfw wrote.
 */
export function planSysctls(wanted: Readonly<Record<string, string>>, reading: SysctlReading, record: SysctlRecord): SysctlPlan {
  const changes: SysctlChange[] = [];
  const next: Record<string, SysctlRecordEntry> = {};
  const released: string[] = [];
  for (const [key, value] of Object.entries(wanted)) {
    const current = reading.values[key];
    if (current === undefined) continue;
    const mine = record[key];
    if (current === value) {
      if (mine && mine.set === value) next[key] = mine;
      continue;
    }
    changes.push({ key, from: current, to: value, reason: 'connmark restore under strict rp_filter needs the mark in the reverse-path lookup' });
    next[key] = { was: mine?.was ?? current, set: value };
  }
  for (const [key, mine] of Object.entries(record)) {
    if (key in wanted) continue;
    const current = reading.values[key];
    if (current === mine.set) changes.push({ key, from: current, to: mine.was, reason: 'no longer needed: restored the value tsfw replaced' });
    else released.push(key);
  }
  return { changes, record: next, released };
}
