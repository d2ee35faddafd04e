import cron from 'node-cron';
import type { Logger } from '../log/logger.js';

/**
 * The periodic pass (config.reconcile.schedule, default every 10 s): the safety net for changes
 * no event reports (iptables-legacy, a monitor that was down). systemd's watchdog has its own
 * timer in the daemon. Passes never overlap: the reconciler queues, so the task itself just triggers.
 *
 * node-cron parses the expression (the same parser that validates the config); the daemon's own
 * one-second timer matches it against the local time with Date's getters. node-cron's timer reads
 * the time through Intl.DateTimeFormat on every tick, which maps ICU's locale and time-zone data:
 * about 10 MB more RSS (docs/PERFORMANCE.md). node-cron's day tokens (`L`, `1#2`, `W`), which the
 * config refuses (config/cron.ts), would still run on node-cron's timer.
 */

/** A running schedule. */
export interface Schedule {
  stop(): Promise<void>;
  readonly expression: string;
}

/** The allowed values of each field, as node-cron parses them (day of week 0-6, Sunday 0). */
export interface CronFields {
  readonly second: readonly number[];
  readonly minute: readonly number[];
  readonly hour: readonly number[];
  readonly dayOfMonth: readonly number[];
  readonly month: readonly number[];
  readonly dayOfWeek: readonly number[];
}

/** node-cron's fields of a valid expression, or undefined when a day field holds a token (L, 1#2). */
export function numericCronFields(expression: string): CronFields | undefined {
  const fields = cron.parse(expression) as Record<keyof CronFields, ReadonlyArray<number | string>>;
  const all = Object.values(fields).every((values) => values.every((v) => typeof v === 'number'));
  return all ? (fields as unknown as CronFields) : undefined;
}

/** Whether a local time matches (every field, as node-cron matches: day of month AND day of week). */
export function cronMatches(fields: CronFields, date: Date): boolean {
  return fields.second.includes(date.getSeconds())
    && fields.minute.includes(date.getMinutes())
    && fields.hour.includes(date.getHours())
    && fields.dayOfMonth.includes(date.getDate())
    && fields.month.includes(date.getMonth() + 1)
    && fields.dayOfWeek.includes(date.getDay());
}

/** Starts `onTick` on a node-cron expression (5 fields, or 6 with seconds first). */
export function startSchedule(expression: string, onTick: () => void, log: Logger): Schedule {
  const fields = numericCronFields(expression);
  if (!fields) return startNodeCron(expression, onTick, log);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const arm = (): void => {
    // Wake just after the next whole second; a timer never fires early, so rounding names it.
    timer = setTimeout(fire, 1000 - (Date.now() % 1000) + 5);
  };
  const fire = (): void => {
    if (stopped) return;
    if (cronMatches(fields, new Date(Math.floor(Date.now() / 1000) * 1000))) onTick();
    arm();
  };
  arm();
  return {
    expression,
    async stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function startNodeCron(expression: string, onTick: () => void, log: Logger): Schedule {
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
