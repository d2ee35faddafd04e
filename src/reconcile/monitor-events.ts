/**
 * Reading `nft -j monitor` lines: each JSON line is one change (`{"add": {"rule": {...}}}`); the
 * non-JSON `# ERROR: We lost some netlink events!` means the kernel dropped notifications and
 * the state must be read again. Pure.
 */

/** One monitor line, classified. */
export type MonitorLine =
  | { readonly kind: 'change'; readonly summary: string; readonly family?: string; readonly table?: string }
  | { readonly kind: 'lost-events' }
  | { readonly kind: 'other'; readonly text: string };

/** Which tables' changes can concern tsfw (the rest still never cause a write). */
export interface EventScope {
  /** `family table` pairs, e.g. `inet tsfw`, or `ip filter` for iptables-nft. */
  readonly tables: readonly string[];
}

/** Parses one line of `nft -j monitor` output. */
export function parseMonitorLine(line: string): MonitorLine {
  const text = line.trim();
  if (/lost some netlink events/i.test(text)) return { kind: 'lost-events' };
  if (!text.startsWith('{')) return { kind: 'other', text };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { kind: 'other', text };
  }
  const [op, body] = Object.entries((doc ?? {}) as Record<string, unknown>)[0] ?? [];
  const [object, fields] = Object.entries((body ?? {}) as Record<string, unknown>)[0] ?? [];
  if (!op || !object) return { kind: 'other', text };
  const f = (fields ?? {}) as Record<string, unknown>;
  const family = typeof f.family === 'string' ? f.family : undefined;
  const table = object === 'table' ? str(f.name) : str(f.table);
  const chain = object === 'rule' ? str(f.chain) : object === 'chain' ? str(f.name) : undefined;
  const summary = [op, object, family, table, chain].filter(Boolean).join(' ');
  return { kind: 'change', summary, ...(family ? { family } : {}), ...(table ? { table } : {}) };
}

/** Whether a change can concern tsfw: in one of its tables, or not attributable to a table. */
export function isRelevant(line: MonitorLine, scope: EventScope): boolean {
  if (line.kind === 'lost-events') return true;
  if (line.kind !== 'change') return false;
  if (!line.family || !line.table) return true;
  return scope.tables.includes(`${line.family} ${line.table}`);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
