import type { Command } from 'commander';
import { createContext, resolveBackend } from '../context.js';
import type { CommonOptions } from '../context.js';
import { desiredFor } from '../desired.js';
import { configOption } from '../options.js';

/** `tsfw metrics`: per-rule kernel counters as Prometheus text, on stdout or into a textfile. */
export function registerMetrics(program: Command): void {
  program
    .command('metrics')
    .description('print Prometheus metrics (per-rule packet/byte counters from the kernel), or write them for node_exporter')
    .addOption(configOption())
    .option('--textfile <path>', 'write atomically to this file (node_exporter textfile collector) instead of stdout')
    .addHelpText('after', `
The daemon writes the same file after every pass when metrics.textfile is set, and serves
/metrics on metrics.listen (loopback only). Pass counters only exist in the daemon.
Examples:
  tsfw metrics | grep tsfw_rule_packets_total
  tsfw metrics --textfile /var/lib/prometheus/node-exporter/tsfw.prom`)
    .action(async (opts: CommonOptions & { textfile?: string }) => {
      // prom-client is loaded only by the command that needs it (start-up time of the others).
      const [{ createMetrics, observeRuleCounters }, { writeTextfile }] = await Promise.all([
        import('../../metrics/registry.js'),
        import('../../metrics/textfile.js'),
      ]);
      const ctx = await createContext(opts);
      const { backend } = await resolveBackend(ctx);
      const metrics = createMetrics();
      await observeRuleCounters(metrics, backend, (await desiredFor(ctx)).ruleset);
      const text = await metrics.text();
      if (opts.textfile) writeTextfile(opts.textfile, text);
      else process.stdout.write(text);
    });
}
