import cron from 'node-cron';

/** Whether node-cron accepts the expression (5 fields, or 6 with seconds first). */
export function isValidCron(expression: string): boolean {
  return cron.validate(expression);
}
