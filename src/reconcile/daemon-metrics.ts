import { parseLoopbackListen } from '../config/listen.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { createFailureLog } from '../log/failure-log.js';
import type { TsfwMetrics } from '../metrics/registry.js';
import type { MetricsServer, startMetricsServer } from '../metrics/server.js';
import type { PassOutcome } from './reconciler.js';

/**
 * The daemon's metrics (config `metrics`): after every pass, the pass counters and the per-rule
 * counters that pass read are recorded, `metrics.textfile` is rewritten atomically and
 * `metrics.listen` serves /metrics. The file write happens after the pass, outside the lock.
 * prom-client is loaded only once metrics are enabled; a metrics failure is logged and never
 * stops the daemon (the firewall matters more than its statistics).
 */

/** The metrics side of a running daemon. */
export interface DaemonMetrics {
  /** Whether passes should hand over their objects (rule counters). */
  enabled(): boolean;
  /** Starts, moves or stops the listener and the textfile to match `config.metrics`. Never throws. */
  configure(settings: Config['metrics']): Promise<void>;
  /** Records one pass and queues the textfile rewrite. Never throws. */
  record(outcome: PassOutcome, backoff: boolean): void;
  /** Stops the listener and waits for the last textfile write (daemon stop). */
  close(): Promise<void>;
}

interface Loaded {
  readonly metrics: TsfwMetrics;
  readonly writeTextfile: (path: string, text: string) => void;
  readonly startMetricsServer: typeof startMetricsServer;
}

async function load(): Promise<Loaded> {
  const [registry, textfile, server] = await Promise.all([
    import('../metrics/registry.js'),
    import('../metrics/textfile.js'),
    import('../metrics/server.js'),
  ]);
  return { metrics: registry.createMetrics(), writeTextfile: textfile.writeTextfile, startMetricsServer: server.startMetricsServer };
}

/** Builds the daemon's metrics; nothing is loaded or opened until `configure` enables something. */
export function createDaemonMetrics(log: Logger): DaemonMetrics {
  let settings: Config['metrics'] = {};
  let loaded: Loaded | undefined;
  let server: { listen: string; handle: MetricsServer } | undefined;
  let writes: Promise<void> = Promise.resolve();
  const textfileFailures = createFailureLog(log, 'cannot write the metrics textfile', 'the metrics textfile is written again');

  const enabled = () => settings.textfile !== undefined || settings.listen !== undefined;

  const writeTextfile = (m: Loaded, path: string) => {
    writes = writes
      .then(async () => {
        m.writeTextfile(path, await m.metrics.text());
        textfileFailures.succeeded({ path });
      })
      .catch((err: unknown) => {
        // Rate-limited: a full disk must not flood the journal every pass.
        textfileFailures.failed({ path, problem: err instanceof Error ? err.message : String(err) });
      });
  };

  const syncListener = async (m: Loaded, listen: string | undefined) => {
    if (server?.listen === listen) return;
    if (server) {
      await server.handle.close();
      log.info({ listen: server.listen }, 'metrics listener closed');
      server = undefined;
    }
    if (listen === undefined) return;
    const address = parseLoopbackListen(listen);
    if (typeof address === 'string') {
      log.error({ listen, problem: address }, 'metrics listener not started');
      return;
    }
    try {
      server = { listen, handle: await m.startMetricsServer(m.metrics, address) };
      log.info({ listen, port: server.handle.port }, 'metrics listener started');
    } catch (err) {
      log.error({ err, listen }, 'metrics listener not started');
    }
  };

  return {
    enabled,
    async configure(next) {
      settings = next;
      if (!enabled() && !server) return;
      try {
        loaded ??= await load();
      } catch (err) {
        log.error({ err }, 'metrics unavailable: cannot load the metrics modules');
        return;
      }
      await syncListener(loaded, settings.listen);
    },
    record(outcome, backoff) {
      if (!loaded || !enabled()) return;
      const { metrics } = loaded;
      metrics.recordPass({
        changed: outcome.result === 'repaired',
        held: outcome.result === 'held',
        settling: outcome.result === 'settling',
        drift: outcome.converge?.drift ?? [],
        ...(outcome.error === undefined ? {} : { error: outcome.error }),
        backoff,
        at: new Date(outcome.at),
      });
      if (outcome.objects) metrics.recordObjects(outcome.objects);
      if (settings.textfile !== undefined) writeTextfile(loaded, settings.textfile);
    },
    async close() {
      settings = {};
      if (loaded) await syncListener(loaded, undefined);
      await writes;
    },
  };
}
