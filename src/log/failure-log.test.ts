import { describe, expect, it } from 'vitest';
import type { Logger } from './logger.js';
import { createFailureLog } from './failure-log.js';

function recorder() {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const log = {
    warn: (fields: Record<string, unknown>, msg: string) => lines.push({ level: 'warn', fields, msg }),
    info: (fields: Record<string, unknown>, msg: string) => lines.push({ level: 'info', fields, msg }),
  } as unknown as Logger;
  return { log, lines };
}

describe('createFailureLog', () => {
  it('logs the first failure, then at most once per interval with the count skipped, and the recovery once', () => {
    const { log, lines } = recorder();
    let t = 1_000;
    const f = createFailureLog(log, 'cannot write', 'writing again', 60_000, () => t);
    for (let i = 0; i < 100; i++) {
      f.failed({ path: '/run/x' });
      t += 1_000; // a pass per second
    }
    f.succeeded({ path: '/run/x' });
    f.succeeded({ path: '/run/x' });
    expect(lines.map((l) => `${l.level} ${l.msg} ${String(l.fields.suppressed ?? 0)}`)).toEqual([
      'warn cannot write 0',
      'warn cannot write 59',
      'info writing again 0',
    ]);
  });
});
