import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/parse.js';
import { lockoutRisk, parseSshConnection } from './lockout.js';

const addrs = [
  { ifname: 'lo', local: '127.0.0.1' },
  { ifname: 'tailscale0', local: '100.100.0.1' },
  { ifname: 'lan0', local: '192.0.2.1' },
  { ifname: 'wan0', local: '198.51.100.1' },
];
const config = (yaml: string) => parseConfigText(yaml, 'test').config;
const LOCKDOWN = 'profiles: [tailscale, lockdown]\nlockdown: { managementPorts: [{ interface: lan0, port: 22 }] }\n';

describe('lockoutRisk', () => {
  it('refuses an SSH session over the WAN that lockdown would cut, naming the fix', () => {
    const v = lockoutRisk(config(LOCKDOWN), parseSshConnection('203.0.113.9 50000 198.51.100.1 22'), addrs);
    expect(v.safe).toBe(false);
    expect(v.reason).toMatch(/on wan0/);
    expect(v.reason).toMatch(/\{ interface: wan0, port: 22 \}/);
    expect(v.reason).toMatch(/--force/);
  });
  it('allows sessions over the tunnel, a listed management port, or loopback', () => {
    expect(lockoutRisk(config(LOCKDOWN), parseSshConnection('100.100.0.2 50000 100.100.0.1 22'), addrs).safe).toBe(true);
    expect(lockoutRisk(config(LOCKDOWN), parseSshConnection('192.0.2.2 50000 192.0.2.1 22'), addrs).safe).toBe(true);
    expect(lockoutRisk(config(LOCKDOWN), parseSshConnection('::ffff:192.0.2.2 50000 ::ffff:192.0.2.1 22'), addrs).safe).toBe(true);
    expect(lockoutRisk(config(LOCKDOWN), parseSshConnection('127.0.0.1 50000 127.0.0.1 22'), addrs).safe).toBe(true);
  });
  it('refuses the right interface on another port, and an address no interface holds', () => {
    expect(lockoutRisk(config(LOCKDOWN), parseSshConnection('192.0.2.2 50000 192.0.2.1 2222'), addrs).safe).toBe(false);
    expect(lockoutRisk(config(LOCKDOWN), parseSshConnection('192.0.2.2 50000 203.0.113.1 22'), addrs).reason).toMatch(/no local interface/);
  });
  it('does not interfere without lockdown, in nodivert/off, or outside SSH', () => {
    const wan = parseSshConnection('203.0.113.9 50000 198.51.100.1 22');
    expect(lockoutRisk(config(''), wan, addrs).safe).toBe(true);
    expect(lockoutRisk(config(`${LOCKDOWN}mode: nodivert\n`), wan, addrs).safe).toBe(true);
    expect(lockoutRisk(config(LOCKDOWN), parseSshConnection(undefined), addrs).safe).toBe(true);
    expect(parseSshConnection('garbage')).toBeUndefined();
  });
});
