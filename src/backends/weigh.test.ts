import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { landscapeKey, readLandscape } from '../integrations/landscape.js';
import type { ManagerLandscape } from '../integrations/landscape.js';
import type { Detection } from './iptables/detect.js';
import { weighManagers } from './weigh.js';

const none: Detection = { backend: 'nftables', reason: 'auto: no iptables rules in either flavour', evidence: ['iptables-nft: 0 rule(s)'], warnings: [] };
const ufwOn: ManagerLandscape = { ufw: { enabled: true, flavour: 'iptables-nft', evidence: 'ufw enabled' } };
const fwOn: ManagerLandscape = { firewalld: { running: true, evidence: 'firewalld runs' } };

describe('weighManagers', () => {
  it('an enabled ufw picks the flavour ufw writes, before it has loaded a rule (boot order)', () => {
    expect(weighManagers(none, ufwOn)).toMatchObject({ backend: 'iptables-nft', reason: 'auto: ufw is enabled and keeps its rules in iptables-nft', evidence: ['ufw enabled', 'iptables-nft: 0 rule(s)'] });
    expect(weighManagers(none, { ufw: { ...ufwOn.ufw!, flavour: 'iptables-legacy' } }).backend).toBe('iptables-legacy');
  });

  it('a running firewalld picks nftables even where iptables rules exist', () => {
    const rules: Detection = { ...none, backend: 'iptables-nft', reason: 'auto: iptables-nft already holds rules' };
    expect(weighManagers(rules, fwOn)).toMatchObject({ backend: 'nftables', reason: 'auto: firewalld runs (nftables)' });
  });

  it('Kubernetes still decides first; both managers at once weigh nothing and say so; a disabled ufw weighs nothing', () => {
    const kube: Detection = { ...none, backend: 'iptables-legacy', reason: 'auto: Kubernetes uses iptables-legacy' };
    expect(weighManagers(kube, ufwOn).backend).toBe('iptables-legacy');
    const both = weighManagers(none, { ...ufwOn, ...fwOn });
    expect(both.backend).toBe('nftables');
    expect(both.warnings).toEqual(['ufw is enabled and firewalld runs: neither decides the backend, the rules present do']);
    expect(weighManagers(none, { ufw: { enabled: false, flavour: 'iptables-nft', evidence: 'ufw installed but not enabled' } })).toMatchObject({ backend: 'nftables', evidence: ['ufw installed but not enabled', 'iptables-nft: 0 rule(s)'] });
  });
});

describe('readLandscape', () => {
  it('reads ufw.conf and the iptables alternative; a stale firewalld pid file is not a running firewalld', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsfw-land-'));
    const paths = { binary: join(dir, 'ufw'), iptables: join(dir, 'iptables'), conf: join(dir, 'ufw.conf'), defaults: join(dir, 'default'), rules4: join(dir, 'u4'), rules6: join(dir, 'u6') };
    writeFileSync(paths.binary, '');
    writeFileSync(paths.conf, 'ENABLED=yes\n');
    writeFileSync(join(dir, 'xtables-legacy-multi'), '');
    symlinkSync(join(dir, 'xtables-legacy-multi'), join(dir, 'iptables'));
    writeFileSync(join(dir, 'firewalld.pid'), '999999999\n');
    const l = readLandscape({ ufw: paths, iptables: join(dir, 'iptables'), firewalldPid: join(dir, 'firewalld.pid') });
    expect(l.ufw).toMatchObject({ enabled: true, flavour: 'iptables-legacy' });
    expect(l.firewalld).toMatchObject({ running: false });
    const off = readLandscape({ ufw: { ...paths, conf: join(dir, 'missing') }, firewalldPid: join(dir, 'none') });
    expect(off).toEqual({});
    expect(landscapeKey(l)).not.toBe(landscapeKey(off));
    rmSync(dir, { recursive: true, force: true });
  });
});
