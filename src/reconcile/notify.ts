import type { CommandRunner } from '../exec/runner.js';
import type { Logger } from '../log/logger.js';

/**
 * systemd readiness, watchdog and status through the `systemd-notify` binary (Node cannot write
 * to the AF_UNIX datagram NOTIFY_SOCKET itself). Active only when NOTIFY_SOCKET is set, i.e.
 * under a Type=notify unit; the unit sets NotifyAccess=all because the message comes from a
 * child of the main process. READY=1 is repeated with every watchdog ping: if systemd missed the
 * first one (the sender had already exited), the next one still completes start-up.
 */

export interface Notifier {
  readonly enabled: boolean;
  /** After a successful pass: READY=1 + WATCHDOG=1 (rate-limited) and STATUS= when it changed. */
  passed(status: string): void;
  /** STOPPING=1 on shutdown. */
  stopping(): Promise<void>;
  /** Resolves when no notification is in flight. */
  flush(): Promise<void>;
}

export interface NotifierOptions {
  readonly runner: CommandRunner;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  /** Monotonic milliseconds. */
  readonly now: () => number;
}

/** How often a ping is worth a process: a quarter of the watchdog period, at most once a second. */
export function pingIntervalMs(env: NodeJS.ProcessEnv): number {
  const usec = Number(env.WATCHDOG_USEC);
  return Number.isFinite(usec) && usec > 0 ? Math.max(250, Math.min(usec / 4_000, 1_000)) : 1_000;
}

/** The watchdog period systemd asked for (WATCHDOG_USEC), if it is meant for this process. */
export function watchdogMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.NOTIFY_SOCKET || !Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return usec / 1_000;
}

/** A notifier that does nothing without NOTIFY_SOCKET. */
export function createNotifier(options: NotifierOptions): Notifier {
  const enabled = Boolean(options.env.NOTIFY_SOCKET);
  const interval = pingIntervalMs(options.env);
  let lastPing = -Infinity;
  let lastStatus = '';
  let inFlight: Promise<void> = Promise.resolve();
  let busy = false;
  let warned = false;

  const send = (fields: readonly string[]): Promise<void> => {
    busy = true;
    inFlight = options.runner
      .run('systemd-notify', fields, { timeoutMs: 5_000 })
      .then(() => undefined, (error: unknown) => {
        if (!warned) options.log.warn({ err: error }, 'systemd-notify failed');
        warned = true;
      })
      .finally(() => {
        busy = false;
      });
    return inFlight;
  };

  return {
    enabled,
    passed(status) {
      if (!enabled || busy) return;
      const now = options.now();
      const statusChanged = status !== lastStatus;
      if (!statusChanged && now - lastPing < interval) return;
      lastPing = now;
      lastStatus = status;
      void send(['READY=1', 'WATCHDOG=1', `STATUS=${status}`]);
    },
    async stopping() {
      if (!enabled) return;
      await inFlight;
      await send(['STOPPING=1', 'STATUS=stopping']);
    },
    flush: () => inFlight,
  };
}
