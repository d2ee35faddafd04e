import cron from 'node-cron';

/**
 * Whether node-cron accepts the expression (5 fields, or 6 with seconds first). The config
 * schema validates `reconcile.schedule` with the same parser the daemon schedules with, so a
 * string that validates always schedules. `validate` is a pure function: importing node-cron
 * starts no timers; only `schedule()` (in schedule.ts) does.
 */
export function isValidCron(expression: string): boolean {
  return cron.validate(expression);
}
