import { Counter, Gauge, Registry } from 'prom-client';
import type { Backend, DriftItem, ObjectStatus } from '../backends/types.js';
import type { Piece } from '../backends/transaction.js';
import type { Ruleset } from '../model/types.js';

/**
 * tsfw's Prometheus metrics, built on prom-client. The daemon calls `recordPass` after every
 * reconcile pass and `recordObjects` with what the backend observed; `tsfw metrics` fills the
 * rule counters once. Exposition (text, textfile, HTTP) is prom-client's.
 */

/** What one reconcile pass did, as the daemon knows it. */
export interface PassOutcome {
  /** Whether the pass wrote anything (a repair). */
  readonly changed: boolean;
  /** What differed before the pass: each item counts as one repair of its kind. */
  readonly drift: readonly DriftItem[];
  /** The error that ended the pass, if any (its `kind` labels the error counter). */
  readonly error?: unknown;
  /** Whether repairs are currently held back by the token bucket. */
  readonly backoff: boolean;
  /** Drift was found but left in place (backoff): counted as `held`, not as a success. */
  readonly held?: boolean;
  /**
   * Drift was found while another program was still moving tsfw's objects; the repair follows
   * once it is quiet: counted as `settling`, not as a success.
   */
  readonly settling?: boolean;
  readonly at: Date;
}

export interface TsfwMetrics {
  readonly registry: Registry;
  recordPass(outcome: PassOutcome): void;
  /** Per-rule packet/byte counters and presence, from `backend.inspect(desired, observed)`. */
  recordObjects(objects: readonly ObjectStatus[]): void;
  /** Prometheus text exposition of everything. */
  text(): Promise<string>;
}

function errorKind(error: unknown): string {
  const kind = (error as { kind?: unknown } | null)?.kind;
  return typeof kind === 'string' ? kind : 'failed';
}

/** A fresh registry with tsfw's metrics (no default process metrics: the daemon is tiny). */
export function createMetrics(): TsfwMetrics {
  const registry = new Registry();
  const registers = [registry];
  const passes = new Counter({ name: 'tsfw_passes_total', help: 'Reconcile passes by result (converged: nothing to do, repaired: wrote changes, held: drift left in place during backoff, settling: drift left until its writer is quiet, error).', labelNames: ['result'], registers });
  const repairs = new Counter({ name: 'tsfw_repairs_total', help: 'Drift items repaired, by cause (missing, unexpected, changed, misordered).', labelNames: ['cause'], registers });
  const errors = new Counter({ name: 'tsfw_errors_total', help: 'Passes that failed, by error kind.', labelNames: ['kind'], registers });
  const backoff = new Gauge({ name: 'tsfw_backoff', help: '1 while repairs are held back because another program keeps undoing them.', registers });
  const lastPass = new Gauge({ name: 'tsfw_last_pass_timestamp_seconds', help: 'Unix time of the last reconcile pass.', registers });
  const lastSuccess = new Gauge({ name: 'tsfw_last_success_timestamp_seconds', help: 'Unix time of the last pass that ended converged.', registers });
  const ruleLabels = ['family', 'table', 'chain', 'rule'] as const;
  const packets = new Counter({ name: 'tsfw_rule_packets_total', help: 'Packets matched by each tsfw rule, read from the kernel (resets when tsfw rewrites the chain).', labelNames: ruleLabels, registers });
  const bytes = new Counter({ name: 'tsfw_rule_bytes_total', help: 'Bytes matched by each tsfw rule, read from the kernel (resets when tsfw rewrites the chain).', labelNames: ruleLabels, registers });
  const present = new Gauge({ name: 'tsfw_rule_present', help: '1 when the rule exists in the kernel, 0 when it is missing.', labelNames: ruleLabels, registers });
  for (const result of ['converged', 'repaired', 'held', 'settling', 'error']) passes.inc({ result }, 0);
  backoff.set(0);

  return {
    registry,
    recordPass(o) {
      const seconds = o.at.getTime() / 1000;
      lastPass.set(seconds);
      backoff.set(o.backoff ? 1 : 0);
      if (o.error !== undefined) {
        passes.inc({ result: 'error' });
        errors.inc({ kind: errorKind(o.error) });
        return;
      }
      if (o.held || o.settling) {
        passes.inc({ result: o.held ? 'held' : 'settling' });
        return;
      }
      passes.inc({ result: o.changed ? 'repaired' : 'converged' });
      if (o.changed) for (const d of o.drift) repairs.inc({ cause: d.kind });
      lastSuccess.set(seconds);
    },
    recordObjects(objects) {
      // Kernel counters are absolute: replace the previous reading instead of adding to it.
      packets.reset();
      bytes.reset();
      present.reset();
      for (const o of objects) {
        if (o.rule === undefined) continue;
        const labels = { family: o.family, table: o.table, chain: o.chain, rule: o.rule };
        present.set(labels, o.present ? 1 : 0);
        if (o.packets !== undefined) packets.inc(labels, o.packets);
        if (o.bytes !== undefined) bytes.inc(labels, o.bytes);
      }
    },
    text: () => registry.metrics(),
  };
}

/** Reads the kernel's counters for tsfw's rules through the backend and records them. */
export async function observeRuleCounters<S, P extends Piece>(metrics: TsfwMetrics, backend: Backend<S, P>, desired: Ruleset): Promise<void> {
  metrics.recordObjects(backend.inspect(desired, await backend.observe(desired)));
}
