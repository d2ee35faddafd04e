/**
 * `reconcile.schedule` checked without node-cron: the config schema is pure and must not pull in
 * the scheduler library (it runs timers, and loading it costs start-up time). The grammar is the
 * plain one node-cron also reads: 5 fields (minute hour day-of-month month day-of-week) or 6 with
 * seconds first; each field a comma list of `N`, or `*` or `N-M` with an optional `/STEP`; month and day
 * names (`jan`, `mon`) allowed. It is deliberately no wider than node-cron: cron.test.ts checks
 * that every expression accepted here is accepted by node-cron too, so a schedule that validates
 * always schedules. Pure.
 */

interface Field {
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const SECOND: Field = { min: 0, max: 59 };
const FIELDS: readonly Field[] = [SECOND, { min: 0, max: 59 }, { min: 0, max: 23 }, { min: 1, max: 31 }, { min: 1, max: 12, names: MONTHS }, { min: 0, max: 7, names: DAYS }];
/** The longest month each month can be (February in a leap year). */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** `*`, `N` or `N-M`; a `/STEP` only after `*` or a range (node-cron reads `N/STEP` as nothing). */
const ITEM = /^(?:(\*|[0-9a-z]+-[0-9a-z]+)(?:\/([0-9]+))?|([0-9a-z]+))$/;

/** Whether `expression` is a cron schedule tsfw can run: 5 fields, or 6 with seconds first. */
export function isValidCron(expression: string): boolean {
  const parts = expression.trim().toLowerCase().split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) return false;
  const fields = parts.length === 5 ? ['0', ...parts] : parts;
  const sets = fields.map((text, i) => values(text, FIELDS[i]!));
  if (sets.some((s) => s === undefined)) return false;
  // A day that no selected month has (`30 2`) never fires; node-cron refuses it as well.
  const [days, months] = [sets[3]!, sets[4]!];
  return [...months].some((m) => [...days].some((d) => d <= MONTH_DAYS[m - 1]!));
}

/** The values one field selects, or undefined when it is not valid. */
function values(text: string, field: Field): Set<number> | undefined {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const m = ITEM.exec(item);
    if (!m) return undefined;
    const step = m[2] === undefined ? 1 : Number(m[2]);
    const base = m[1] ?? m[3]!;
    const [from, to] = base === '*' ? [field.min, field.max] : bounds(base, field);
    if (from === undefined || to === undefined || from > to || step < 1) return undefined;
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

/** `N` or `N-M` (numbers or names) → its first and last value, undefined where out of range. */
function bounds(range: string, field: Field): [number | undefined, number | undefined] {
  const [a = '', b = a] = range.split('-');
  return [value(a, field), value(b, field)];
}

function value(token: string, field: Field): number | undefined {
  const named = field.names?.indexOf(token) ?? -1;
  const n = named >= 0 ? named + (field.min === 1 ? 1 : 0) : /^[0-9]{1,2}$/.test(token) ? Number(token) : undefined;
  return n !== undefined && n >= field.min && n <= field.max ? n : undefined;
}
