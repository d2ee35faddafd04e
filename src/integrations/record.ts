import { readNetnsRecord, writeNetnsRecord } from '../fsx/netns-record.js';
import { MANAGERS } from './types.js';
import type { IntegrationItem, Manager } from './types.js';

/**
 * What tsfw added to other managers, per network namespace, in `<runDir>/integrations.json`: the
 * one source `off` and `cleanup` remove from, so they undo exactly tsfw's additions.
 */

const RECORD_FILE = 'integrations.json';

export type IntegrationRecord = Readonly<Record<Manager, readonly IntegrationItem[]>>;

function isItem(value: unknown): value is IntegrationItem {
  const v = value as Partial<IntegrationItem> | null;
  return v !== null && typeof v === 'object' && typeof v.kind === 'string' && typeof v.value === 'string' && typeof v.permanent === 'boolean';
}

/** This namespace's record; malformed entries count as absent. */
export function readIntegrationRecord(runDir: string): IntegrationRecord {
  const raw = readNetnsRecord(runDir, RECORD_FILE) as Partial<Record<Manager, unknown>> | undefined;
  const entry = (m: Manager): IntegrationItem[] => {
    const list = raw?.[m];
    return Array.isArray(list) ? list.filter(isItem).map(({ kind, value, permanent }) => ({ kind, value, permanent })) : [];
  };
  return { firewalld: entry('firewalld'), ufw: entry('ufw'), docker: entry('docker') };
}

/** Replaces this namespace's record; an empty one removes the entry (and the file with its last). */
export function writeIntegrationRecord(runDir: string, record: IntegrationRecord): void {
  const kept = Object.fromEntries(MANAGERS.filter((m) => record[m].length > 0).map((m) => [m, record[m]]));
  writeNetnsRecord(runDir, RECORD_FILE, Object.keys(kept).length > 0 ? kept : undefined);
}
