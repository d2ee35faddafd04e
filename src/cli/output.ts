import type { ConvergeResult } from '../reconcile/converge.js';
import type { BackendChoice } from '../backends/select.js';

/** Writes one JSON object (the machine contract) or human lines to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The `--json` object for apply/reconcile/cleanup. */
export function resultJson(result: ConvergeResult, choice: BackendChoice, extra: Record<string, unknown> = {}) {
  return {
    changed: result.changed,
    dryRun: result.dryRun,
    mode: result.mode,
    backend: result.backend,
    backendReason: choice.reason,
    actions: result.actions,
    writes: result.writes,
    drift: result.drift,
    sysctls: result.sysctls,
    integrations: result.integrations,
    warnings: [...choice.warnings, ...result.warnings],
    durationMs: result.durationMs,
    ...extra,
  };
}

/** Human summary of a convergence pass. */
export function printResult(result: ConvergeResult, verb: string): void {
  const lines: string[] = [];
  if (!result.changed) {
    lines.push(`${verb}: mode ${result.mode} on ${result.backend}: already converged, nothing changed (${result.durationMs} ms)`);
  } else {
    const did = result.dryRun ? 'would change' : 'changed';
    lines.push(`${verb}: mode ${result.mode} on ${result.backend}: ${did} ${result.actions.length} object(s) (${result.durationMs} ms)`);
    for (const d of result.drift) lines.push(`  drift: ${d.detail}`);
    for (const a of result.actions) {
      const where = [a.family, a.table, a.chain].filter(Boolean).join(' ');
      lines.push(`  ${result.dryRun ? 'would ' : ''}${a.op} ${where}: ${a.reason}`);
    }
    for (const c of result.sysctls) lines.push(`  ${result.dryRun ? 'would set' : 'set'} sysctl ${c.key} ${c.from} -> ${c.to}: ${c.reason}`);
    for (const c of result.integrations) {
      lines.push(`  ${result.dryRun ? 'would ' : ''}${c.op} ${c.manager} ${c.kind} ${c.value}${c.permanent ? ' (runtime and permanent)' : ' (runtime only)'}`);
    }
    // A dry run shows exactly what the write would send, byte for byte.
    if (result.dryRun) {
      for (const w of result.writes) lines.push(`  would run: ${[w.file, ...w.args].join(' ')} with stdin:`, w.input.replace(/\n$/, ''));
    }
  }
  for (const w of result.warnings) lines.push(`  warning: ${w}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
