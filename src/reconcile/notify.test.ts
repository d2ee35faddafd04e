import { createLogger } from '../log/logger.js';
import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../exec/runner.js';
import { createNotifier, pingIntervalMs, watchdogMs } from './notify.js';

function recorder() {
  const calls: string[][] = [];
  const runner: CommandRunner = {
    async run(file, args) {
      calls.push([file, ...args]);
      return { stdout: '', stderr: '', exitCode: 0 };
    },
  };
  return { calls, runner };
}

const log = createLogger('silent');

describe('systemd notification', () => {
  it('does nothing without NOTIFY_SOCKET', async () => {
    const r = recorder();
    const n = createNotifier({ runner: r.runner, env: {}, log, now: () => 0 });
    n.passed('ok');
    await n.stopping();
    expect(n.enabled).toBe(false);
    expect(r.calls).toEqual([]);
  });

  it('sends READY, WATCHDOG and STATUS after a pass, rate-limited unless the status changes', async () => {
    const r = recorder();
    let now = 0;
    const n = createNotifier({ runner: r.runner, env: { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000' }, log, now: () => now });
    n.passed('mode on, 0 repairs');
    await n.flush();
    now = 100;
    n.passed('mode on, 0 repairs');
    await n.flush();
    now = 200;
    n.passed('mode on, 1 repair');
    await n.flush();
    now = 1_300;
    n.passed('mode on, 1 repair');
    await n.flush();
    await n.stopping();
    expect(r.calls).toEqual([
      ['systemd-notify', 'READY=1', 'WATCHDOG=1', 'STATUS=mode on, 0 repairs'],
      ['systemd-notify', 'READY=1', 'WATCHDOG=1', 'STATUS=mode on, 1 repair'],
      ['systemd-notify', 'READY=1', 'WATCHDOG=1', 'STATUS=mode on, 1 repair'],
      ['systemd-notify', 'STOPPING=1', 'STATUS=stopping'],
    ]);
  });

  it('reads the watchdog period meant for this process', () => {
    expect(watchdogMs({ NOTIFY_SOCKET: 'x', WATCHDOG_USEC: '60000000' }, 7)).toBe(60_000);
    expect(watchdogMs({ NOTIFY_SOCKET: 'x', WATCHDOG_USEC: '60000000', WATCHDOG_PID: '8' }, 7)).toBeUndefined();
    expect(watchdogMs({ WATCHDOG_USEC: '60000000' }, 7)).toBeUndefined();
    expect(pingIntervalMs({ WATCHDOG_USEC: '2000000' })).toBe(500);
    expect(pingIntervalMs({})).toBe(1_000);
  });
});
