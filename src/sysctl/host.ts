import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNetnsRecord, writeNetnsRecord } from '../fsx/netns-record.js';
import type { Ruleset } from '../model/types.js';
import { planSysctls, restoresMarks, SRC_VALID_MARK, wantedSysctls } from './plan.js';
import type { SysctlOutcome, SysctlReading, SysctlRecord } from './plan.js';

/**
 * The effects behind plan.ts: reads and writes under /proc/sys (per network namespace: the
 * values are those of the namespace tsfw runs in) and the record of what tsfw changed, kept in
 * the run dir so that `off`, `cleanup` and a restarted daemon can put the admin's value back.
 */

const PROC_SYS = '/proc/sys';

function procPath(key: string): string {
  return join(PROC_SYS, ...key.split('.'));
}

function readValue(key: string): string | undefined {
  try {
    return readFileSync(procPath(key), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Every net.ipv4.conf.<name>.rp_filter. */
function readRpFilter(): Record<string, string> {
  const out: Record<string, string> = {};
  let names: string[] = [];
  try {
    names = readdirSync(join(PROC_SYS, 'net/ipv4/conf'));
  } catch {
    return out;
  }
  for (const name of names) {
    const value = readValue(`net.ipv4.conf.${name}.rp_filter`);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

const RECORD_FILE = 'sysctl.json';

/** What tsfw recorded in `runDir` for this network namespace; malformed entries count as absent. */
export function readSysctlRecord(runDir: string): SysctlRecord {
  const mine = readNetnsRecord(runDir, RECORD_FILE);
  if (mine === null || typeof mine !== 'object') return {};
  const out: Record<string, { was: string; set: string }> = {};
  for (const [key, entry] of Object.entries(mine as Record<string, unknown>)) {
    const e = entry as { was?: unknown; set?: unknown } | null;
    if (e && typeof e.was === 'string' && typeof e.set === 'string') out[key] = { was: e.was, set: e.set };
  }
  return out;
}

function writeRecord(runDir: string, record: SysctlRecord): void {
  writeNetnsRecord(runDir, RECORD_FILE, Object.keys(record).length > 0 ? record : undefined);
}

/** The host's current values that the planner needs; rp_filter only when marks are restored (else it decides nothing). */
function readSysctls(record: SysctlRecord, withRpFilter: boolean): SysctlReading {
  const keys = new Set([SRC_VALID_MARK, ...Object.keys(record)]);
  return { values: Object.fromEntries([...keys].map((k) => [k, readValue(k)])), rpFilter: withRpFilter ? readRpFilter() : {} };
}

/** Brings the kernel settings in line with `ruleset` (a dry run only plans). Writes under /proc/sys. */
export function convergeSysctls(ruleset: Ruleset, runDir: string, options: { dryRun?: boolean } = {}): SysctlOutcome {
  const record = readSysctlRecord(runDir);
  const restores = restoresMarks(ruleset);
  // The common case on every daemon pass without connmark: nothing wanted, nothing to put back.
  if (!restores && Object.keys(record).length === 0) return { changes: [], released: [] };
  const reading = readSysctls(record, restores);
  const plan = planSysctls(wantedSysctls(ruleset, reading), reading, record);
  if (options.dryRun) return { changes: plan.changes, released: plan.released };
  for (const change of plan.changes) writeFileSync(procPath(change.key), `${change.to}\n`);
  if (plan.changes.length > 0 || plan.released.length > 0) writeRecord(runDir, plan.record);
  return { changes: plan.changes, released: plan.released };
}

/** For status: the current value of each key tsfw manages, and whether tsfw set it. */
export function describeSysctls(runDir: string): { key: string; value: string | null; setByTsfw: boolean; was?: string }[] {
  const record = readSysctlRecord(runDir);
  return [SRC_VALID_MARK].map((key) => {
    const mine = record[key];
    return { key, value: readValue(key) ?? null, setByTsfw: mine !== undefined, ...(mine ? { was: mine.was } : {}) };
  });
}

/** A minimal logger (the shape of log/logger.ts), so this module does not depend on the log setup. */
interface StepLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/**
 * The sysctl step of a convergence pass (ConvergeOptions.sysctls), for the CLI and the daemon
 * alike: converges in `runDir` and logs each write with the key, both values and why.
 */
export function sysctlStep(runDir: string, log: StepLog): (desired: Ruleset, dryRun: boolean) => SysctlOutcome {
  return (desired, dryRun) => {
    const outcome = convergeSysctls(desired, runDir, { dryRun });
    if (!dryRun) {
      for (const change of outcome.changes) log.info({ key: change.key, from: change.from, to: change.to, reason: change.reason }, 'sysctl set');
      for (const key of outcome.released) log.warn({ key }, 'sysctl changed by someone else since tsfw set it: left as it is, no longer restored');
    }
    return outcome;
  };
}
