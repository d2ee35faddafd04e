import type { BucketSnapshot } from './bucket.js';
import type { PassCause } from './causes.js';
import type { FightCount } from './drift.js';

/**
 * The daemon's state file (/run/tsfw/state.json): what `tsfw status` shows about the daemon and
 * what an operator reads after a page. Pure: the shape and its human rendering.
 */

/** Why a pass ran (the table of causes is causes.ts). */
export type { PassCause } from './causes.js';

/** How a pass ended: nothing to do, repaired, repair held back by the anti-fight budget, failed. */
export type PassResult = 'quiet' | 'repaired' | 'held' | 'error';

export interface PassRecord {
  readonly at: string;
  readonly cause: PassCause;
  /** The first monitor event of the burst, the config problem, … */
  readonly detail?: string;
  readonly result: PassResult;
  readonly durationMs: number;
  readonly error?: string;
}

export interface RepairRecord {
  readonly at: string;
  readonly cause: PassCause;
  readonly detail?: string;
  readonly drift: readonly string[];
  readonly actions: readonly string[];
  readonly durationMs: number;
}

export interface BackoffState {
  readonly active: boolean;
  readonly since?: string;
  readonly until?: string;
  /** Passes that found drift but did not write during this backoff. */
  readonly heldPasses: number;
  /** How many times the daemon had to back off since it started. */
  readonly episodes: number;
  /** What keeps being changed, and how often (the anti-fight window). */
  readonly objects: readonly FightCount[];
  /** Who changed it, by process name as nft monitor reported it (`firewalld`), most frequent first. */
  readonly writers?: readonly string[];
}

/** Everything in state.json. */
export interface DaemonState {
  readonly version: 1;
  readonly pid: number;
  readonly running: boolean;
  readonly ready: boolean;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly stoppedAt?: string;
  readonly config: string | null;
  readonly mode: string;
  readonly backend: string;
  /** Why the daemon chose that backend, and the evidence (absent in files of older versions). */
  readonly backendReason?: string;
  readonly evidence?: readonly string[];
  readonly schedule: string;
  readonly lastPass?: PassRecord;
  readonly lastRepair?: RepairRecord;
  readonly repairs: { readonly total: number; readonly byCause: Readonly<Record<string, number>>; readonly byObject: Readonly<Record<string, number>> };
  readonly passes: { readonly total: number; readonly errors: number };
  readonly backoff: BackoffState;
  readonly bucket: BucketSnapshot;
  readonly monitor: { readonly enabled: boolean; readonly running: boolean; readonly restarts: number; readonly lostEvents: number };
  readonly lastConfigError?: { readonly at: string; readonly problems: readonly string[] };
}

/** The `daemon:` block of `tsfw status`. `alive` says whether the recorded pid still runs. */
export function formatDaemonState(state: DaemonState, alive: boolean): string[] {
  const lines: string[] = [];
  const running = state.running && alive;
  const how = running ? `running (pid ${state.pid}, since ${state.startedAt})`
    : state.running ? `NOT RUNNING (pid ${state.pid} is gone; state from ${state.updatedAt})`
    : `stopped at ${state.stoppedAt ?? state.updatedAt}`;
  lines.push(`daemon:   ${how}`);
  lines.push(`          ${state.backend}, mode ${state.mode}, schedule "${state.schedule}", events ${!running ? '-' : !state.monitor.enabled ? 'off' : state.monitor.running ? 'watched' : 'NOT watched (monitor restarting)'}`);
  if (state.lastPass) {
    const p = state.lastPass;
    lines.push(`          last pass: ${p.at} (${p.cause}) ${p.result}${p.error ? `: ${p.error}` : ''}, ${p.durationMs} ms`);
  }
  const causes = Object.entries(state.repairs.byCause).map(([c, n]) => `${c} ${n}`).join(', ');
  lines.push(`          repairs: ${state.repairs.total}${causes ? ` (${causes})` : ''}; passes ${state.passes.total}, failed ${state.passes.errors}`);
  if (state.lastRepair) {
    const r = state.lastRepair;
    lines.push(`          last repair: ${r.at} (${r.cause}${r.detail ? `: ${r.detail}` : ''}) ${r.drift.join('; ')}`);
  }
  if (state.backoff.active) {
    const who = state.backoff.objects.map((o) => `${o.object} ×${o.count}`).join(', ');
    const by = state.backoff.writers?.length ? ` by ${state.backoff.writers.join(', ')}` : '';
    lines.push(`          BACKING OFF since ${state.backoff.since}: repairs keep being undone (${who})${by}; next repair at ${state.backoff.until}`);
  } else if (state.backoff.episodes > 0) {
    lines.push(`          backed off ${state.backoff.episodes} time(s) since start`);
  }
  if (state.lastConfigError) {
    lines.push(`          config reload REJECTED at ${state.lastConfigError.at}, running on the last good config:`);
    for (const p of state.lastConfigError.problems.slice(0, 5)) lines.push(`            ${p}`);
  }
  return lines;
}

/** The one-line `STATUS=` text for systemd. */
export function statusLine(state: DaemonState): string {
  if (state.backoff.active) {
    const top = state.backoff.objects[0];
    return `backing off: ${top ? `${top.object} undone ${top.count}x` : 'repairs keep being undone'}`;
  }
  const base = `mode ${state.mode} on ${state.backend}, ${state.repairs.total} repair(s)`;
  const r = state.lastRepair;
  return r ? `${base}; last ${r.at}: ${r.drift[0] ?? r.cause}` : base;
}
