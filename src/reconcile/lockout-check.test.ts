import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/parse.js';
import type { CommandRunner } from '../exec/runner.js';
import { parseSshSessions } from '../profiles/ssh-sessions.js';
import { daemonLockoutProblem } from './lockout-check.js';

const SS = [
  '0      0        198.51.100.1:22      198.51.100.2:50022 users:(("sshd",pid=812,fd=4))',
  '0      0    [2001:db8::1]:2222    [2001:db8::9]:40000 users:(("sshd",pid=900,fd=4))',
  '0      0        127.0.0.1:5432         127.0.0.1:40001 users:(("postgres",pid=77,fd=9))',
].join('\n');
const IP_ADDR = JSON.stringify([
  { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
  { ifname: 'wan0', addr_info: [{ family: 'inet', local: '198.51.100.1', prefixlen: 24 }, { family: 'inet6', local: '2001:db8::1', prefixlen: 64 }] },
]);

function runner(ss: string): CommandRunner {
  return {
    async run(file) {
      if (file === 'ss') return { stdout: ss, stderr: '', exitCode: 0 };
      if (file === 'ip') return { stdout: IP_ADDR, stderr: '', exitCode: 0 };
      throw new Error(`unexpected ${file}`);
    },
  };
}

const lockdown = (extra = '') => parseConfigText(`profiles: [tailscale, lockdown]\n${extra}`, 'test').config;

describe('the daemon lockout check', () => {
  it('finds sshd sessions in ss output, IPv4 and IPv6, and nothing else', () => {
    expect(parseSshSessions(SS)).toEqual([
      { clientAddr: '198.51.100.2', serverAddr: '198.51.100.1', serverPort: 22 },
      { clientAddr: '2001:db8::9', serverAddr: '2001:db8::1', serverPort: 2222 },
    ]);
  });

  it('rejects lockdown that would drop an open SSH session, naming the way out', async () => {
    const problem = await daemonLockoutProblem(lockdown(), runner(SS));
    expect(problem).toMatch(/^lockout: refusing to apply lockdown: your SSH session arrives at 198\.51\.100\.1 port 22 on wan0.*\{ interface: wan0, port: 22 \}.*connect over the tunnel and reload again$/);
  });

  it('accepts lockdown when every open session is on a listed management port, or none is open', async () => {
    const listed = lockdown('lockdown:\n  managementPorts:\n    - { interface: wan0, proto: tcp, port: 22 }\n    - { interface: wan0, proto: tcp, port: 2222 }\n');
    expect(await daemonLockoutProblem(listed, runner(SS))).toBeUndefined();
    expect(await daemonLockoutProblem(lockdown(), runner(''))).toBeUndefined();
    expect(await daemonLockoutProblem(parseConfigText('mode: on\n', 'test').config, runner(SS))).toBeUndefined();
  });
});
