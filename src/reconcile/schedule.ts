import cron from 'node-cron';
import type { Logger } from '../log/logger.js';

/**
 * The periodic pass (config.reconcile.schedule, default every 10 s): the safety net for changes
 * no event reports (iptables-legacy, a monitor that was down). systemd's watchdog has its own
 * timer in the daemon. Passes never overlap: the reconciler queues, so the task itself just triggers.
 */

/** A running schedule. */
export interface Schedule {
  stop(): Promise<void>;
  readonly expression: string;
}

/** Starts `onTick` on a node-cron expression (5 fields, or 6 with seconds first). */
export function startSchedule(expression: string, onTick: () => void, log: Logger): Schedule {
  const task = cron.schedule(expression, () => onTick(), {
    name: 'tsfw-reconcile',
    logger: {
      info: (message) => log.debug({ message }, 'node-cron'),
      warn: (message) => log.debug({ message }, 'node-cron'),
      error: (message) => log.warn({ message: String(message) }, 'node-cron error'),
      debug: (message) => log.trace({ message: String(message) }, 'node-cron'),
    },
  });
  return {
    expression,
    async stop() {
      await task.destroy();
    },
  };
}
