import { ALL_BACKENDS, cleanupBackends } from '../../backends/leftovers.js';
import type { BackendCleanup } from '../../backends/leftovers.js';
import type { Config } from '../../config/schema.js';
import type { CommandRunner } from '../../exec/runner.js';

/** `cleanup --all-backends` as one JSON object: every backend's outcome, and the failed ones. */
export interface CleanupAllReport {
  readonly changed: boolean;
  readonly mode: 'off';
  readonly backend: 'all';
  readonly backends: readonly BackendCleanup[];
  readonly actions: readonly (BackendCleanup['actions'][number] & { backend: string })[];
  readonly warnings: readonly string[];
  readonly failed: readonly string[];
  readonly durationMs: number;
}

/** Removes tsfw's objects from nftables, iptables-nft and iptables-legacy; missing tools are skipped. */
export async function cleanupAllBackends(config: Config, runner: CommandRunner): Promise<CleanupAllReport> {
  const started = performance.now();
  const backends = await cleanupBackends(ALL_BACKENDS, config, runner);
  return {
    changed: backends.some((b) => b.status === 'removed'),
    mode: 'off',
    backend: 'all',
    backends,
    actions: backends.flatMap((b) => b.actions.map((a) => ({ ...a, backend: b.backend }))),
    warnings: backends.flatMap((b) => [...b.warnings.map((w) => `${b.backend}: ${w}`), ...(b.status === 'skipped' && b.note ? [`skipped ${b.note}`] : [])]),
    failed: backends.filter((b) => b.status === 'failed').map((b) => b.note ?? b.backend),
    durationMs: Math.round((performance.now() - started) * 10) / 10,
  };
}

/** Human lines: one per backend, then what was removed. */
export function printCleanupReport(report: CleanupAllReport): void {
  const lines = report.backends.map((b) => `cleanup: ${b.backend}: ${b.status}${b.note ? ` (${b.note})` : ''}`);
  for (const a of report.actions) lines.push(`  ${a.backend}: ${a.op} ${[a.family, a.table, a.chain].filter(Boolean).join(' ')}: ${a.reason}`);
  for (const w of report.warnings) lines.push(`  warning: ${w}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
