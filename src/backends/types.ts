import type { ConcreteBackend } from '../config/schema.js';
import type { Family, Ruleset } from '../model/types.js';
import type { Op, Piece } from './transaction.js';

/**
 * The contract every backend (nftables, iptables-nft, iptables-legacy, the in-memory fake)
 * fulfils. observe and apply are the only effects; plan and render are pure.
 */

/** One thing a plan does, precise enough for logs, `--json` and Ansible diffs. */
export interface PlannedAction {
  readonly op: 'create-table' | 'delete-table' | 'create-chain' | 'delete-chain' | 'replace-chain' | 'fill-chain'
    | 'flush-chain' | 'add-jump' | 'move-jump' | 'reinsert-jump' | 'delete-jump';
  readonly family: Family | 'inet';
  readonly table: string;
  readonly chain?: string;
  /** Rule ids written (fill-chain) or the jump's target. */
  readonly rules?: readonly string[];
  readonly reason: string;
}

/** What differed between desired and observed state, and why it matters. */
export interface DriftItem {
  readonly kind: 'missing' | 'unexpected' | 'changed' | 'misordered';
  readonly family: Family | 'inet';
  readonly table: string;
  readonly chain?: string;
  readonly rule?: string;
  readonly detail: string;
}

/**
 * A plan: pure data. `ops` is its transaction, the one ordered list that the actions
 * (`actionsOf`) and the writes (`Backend.writes`) are both read from; no ops when converged.
 */
export interface Plan<P extends Piece = Piece> {
  readonly ops: readonly Op<P>[];
  readonly drift: readonly DriftItem[];
  /** Things the admin should know that tsfw deliberately does not fix. */
  readonly warnings: readonly string[];
  /** Families that could not be read (iptables): apply writes the others, then reports these. */
  readonly failures?: readonly { readonly family: Family; readonly error: Error }[];
}

/**
 * One process call that applying a plan makes, exactly as it is made: the command line and its
 * stdin (the nft JSON document, an iptables-restore script). `--dry-run` prints these, apply runs
 * these, so what a dry run shows is byte for byte what a write sends.
 */
export interface ProcessWrite {
  readonly file: string;
  readonly args: readonly string[];
  readonly input: string;
  /** The family an iptables write is for (each family is written and fails on its own). */
  readonly family?: Family;
}

/** Presence and counters of one owned object, for `status`. */
export interface ObjectStatus {
  readonly family: Family | 'inet';
  readonly table: string;
  readonly chain: string;
  readonly rule?: string;
  readonly present: boolean;
  readonly packets?: number;
  readonly bytes?: number;
}

export interface Backend<State = unknown, P extends Piece = Piece> {
  readonly name: ConcreteBackend | 'fake';
  /**
   * Reads everything tsfw could own (and only that, where the tool allows). `desired`, when the
   * caller has it, names what tsfw wants, so a backend can skip reading what it cannot own
   * (iptables-nft beside 20,000 foreign rules); without it the read is complete.
   */
  observe(desired?: Ruleset): Promise<State>;
  /**
   * True when `observe` reads the same without `desired` (nftables: its one table), so a one-shot
   * command may start the read while it is still discovering what it wants.
   */
  readonly observesWithoutDesired?: boolean;
  /** Desired vs observed → the smallest transaction; no ops when converged. Pure. */
  plan(desired: Ruleset, state: State): Plan<P>;
  /** The exact process calls `apply` makes for this plan, read from its ops; none when converged. Pure. */
  writes(plan: Plan<P>): readonly ProcessWrite[];
  /** Writes a plan by running `writes(plan)`: one kernel transaction per table. */
  apply(plan: Plan<P>): Promise<void>;
  /** Owned objects and their counters, for `status`. Pure. */
  inspect(desired: Ruleset, state: State): ObjectStatus[];
  /** The exact ruleset text (or JSON) this backend would write for `desired`. Pure. */
  render(desired: Ruleset, format: 'text' | 'json'): string;
}
