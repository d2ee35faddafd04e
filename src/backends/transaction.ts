import type { DriftItem, Plan, PlannedAction } from './types.js';

/**
 * A plan's transaction, in the spirit of knftables' `Transaction`: one ordered list of
 * operations, each saying what it does (op, object, reason) and carrying the payload pieces that
 * do it (nft commands, iptables-restore lines). The actions printed by converge, `--dry-run`,
 * `--json` and the logs, and the payload `Backend.writes` sends, are all read from this one list,
 * so what a plan says and what it writes cannot drift apart. Pure.
 */

/** One payload piece and the section of the write it belongs in (the order the tool needs). */
export interface Piece<Section extends string = string, Body = unknown> {
  readonly section: Section;
  readonly body: Body;
}

/** One operation: an action in words plus the pieces of the write that carry it out. */
export interface Op<P extends Piece = Piece> extends PlannedAction {
  readonly pieces: readonly P[];
}

/** Builds a transaction for one (family, table), filling those in, beside its drift and warnings. */
export class TransactionBuilder<P extends Piece> {
  readonly ops: Op<P>[] = [];
  readonly drift: DriftItem[] = [];
  readonly warnings: string[] = [];
  /** `prefix` starts each drift detail and warning (iptables names the family and table there). */
  constructor(
    readonly family: PlannedAction['family'],
    readonly table: string,
    private readonly prefix = '',
  ) {}
  op(action: Omit<PlannedAction, 'family' | 'table'>, ...pieces: P[]): void {
    this.ops.push({ family: this.family, table: this.table, ...action, pieces });
  }
  noteDrift(d: Omit<DriftItem, 'family' | 'table'>): void {
    this.drift.push({ family: this.family, table: this.table, ...d, detail: `${this.prefix}${d.detail}` });
  }
  warn(message: string): void {
    this.warnings.push(`${this.prefix}${message}`);
  }
  build(): Plan<P> {
    return { ops: this.ops, drift: this.drift, warnings: this.warnings };
  }
}

/** The actions of a transaction, in its order: what converge, `--json`, the logs and Ansible show. */
export function actionsOf(ops: readonly Op[]): PlannedAction[] {
  return ops.map(({ pieces: _pieces, ...action }) => action);
}

/**
 * The pieces of a transaction in write order: by section first (the order the tool must see
 * them in, e.g. chains before the rules that fill them), then in the order of their operations.
 */
export function piecesInOrder<S extends string, P extends Piece<S>>(ops: readonly Op<P>[], sections: readonly S[]): { op: Op<P>; piece: P }[] {
  const all = ops.flatMap((op) => op.pieces.map((piece) => ({ op, piece })));
  const rank = (s: S) => sections.indexOf(s);
  return all.sort((a, b) => rank(a.piece.section) - rank(b.piece.section));
}
