import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { healthyFacts, runDoctor } from '../../../test/helpers/doctor-facts.js';
import { parseNftRuleset } from '../parse-ruleset.js';
import { doctorExitCode } from '../run.js';
import type { FirewalldFacts, FirewalldZoneFacts } from '../types.js';

/** firewalld 1.3's table with its default configuration (captured from the real daemon). */
const RULESET = parseNftRuleset(readFileSync(new URL('../../../test/fixtures/doctor/firewalld-1.3.ruleset.json', import.meta.url), 'utf8'));

const PUBLIC: FirewalldZoneFacts = { target: 'default', ports: [], services: ['ssh', 'dhcpv6-client'] };
const TRUSTED: FirewalldZoneFacts = { target: 'ACCEPT', ports: [], services: [] };
const OPEN: FirewalldZoneFacts = { ...PUBLIC, ports: ['41641/udp'] };

/** firewalld's view: `runtime`/`permanent` say where the tunnel is and what public has. */
function firewalld(runtime: { tunnel: string; pub: FirewalldZoneFacts }, permanent = runtime): FirewalldFacts {
  return {
    defaultZone: 'public',
    tunnelZone: { runtime: runtime.tunnel, permanent: permanent.tunnel },
    wanZones: ['public'],
    zones: { runtime: { public: runtime.pub, trusted: TRUSTED }, permanent: { public: permanent.pub, trusted: TRUSTED } },
    servicePorts: { ssh: ['22/tcp'], 'dhcpv6-client': ['546/udp'] },
  };
}

function doctor(fw: FirewalldFacts | undefined, yaml = 'mode: on') {
  return runDoctor(healthyFacts({ ruleset: RULESET, clis: { 'firewall-cmd': 'running' }, ...(fw ? { firewalld: fw } : {}) }), yaml);
}

describe('doctor: firewalld', () => {
  it('confirms the fix in place (tunnel in trusted, port open, both layers): ok everywhere, exit 0', () => {
    const { checks, byId } = doctor(firewalld({ tunnel: 'trusted', pub: OPEN }));
    expect(byId.get('firewalld')).toMatchObject({ status: 'ok', fix: null });
    expect(byId.get('firewalld')!.message).toMatch(/tailscale0 is in zone trusted \(target ACCEPT\) and 41641\/udp is open in zone public/);
    expect(byId.get('manager-firewalld')).toMatchObject({ status: 'ok', fix: null });
    // firewalld's own chains are judged from its zones, never with an `nft insert` advice.
    expect(checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(checks.some((c) => c.fix?.includes('inet firewalld'))).toBe(false);
    expect(doctorExitCode(checks)).toBe(0);
  });

  it('fails on the default configuration, with the persistent fix first and the runtime one labelled', () => {
    const { checks, byId } = doctor(firewalld({ tunnel: '', pub: PUBLIC }), 'mode: on\nintegrations: {firewalld: off}');
    const check = byId.get('firewalld')!;
    expect(check.status).toBe('fail');
    expect(check.message).toMatch(/tailscale0 is in zone public \(the default zone: not bound\), target default/);
    expect(check.message).toMatch(/41641\/udp is not open in zone public/);
    const lines = check.fix!.split('\n');
    expect(lines[0]).toBe('firewall-cmd --permanent --zone=trusted --add-interface=tailscale0 && firewall-cmd --permanent --zone=public --add-port=41641/udp && firewall-cmd --reload');
    expect(lines[1]).toMatch(/^# not persistent \(lost at the next firewall-cmd --reload or restart\): firewall-cmd --zone=trusted --add-interface=tailscale0 && firewall-cmd --zone=public --add-port=41641\/udp$/);
    expect(lines[2]).toMatch(/integrations\.firewalld: auto/);
    expect(doctorExitCode(checks)).toBe(1);
  });

  it('counts a port range or a service that covers the port as open, and a zone the admin chose with target ACCEPT', () => {
    const ranged = { ...PUBLIC, ports: ['41000-42000/udp'] };
    expect(doctor(firewalld({ tunnel: 'trusted', pub: ranged })).byId.get('firewalld')?.status).toBe('ok');
    const viaService = { ...firewalld({ tunnel: 'trusted', pub: { ...PUBLIC, services: ['tailscale'] } }), servicePorts: { tailscale: ['41641/udp'] } };
    expect(doctor(viaService).byId.get('firewalld')?.status).toBe('ok');
    const internalAccept = firewalld({ tunnel: 'internal', pub: OPEN });
    const zones = { runtime: { ...internalAccept.zones.runtime, internal: TRUSTED }, permanent: { ...internalAccept.zones.permanent, internal: TRUSTED } };
    expect(doctor({ ...internalAccept, zones }).byId.get('firewalld')?.status).toBe('ok');
  });

  it('warns when the fix is only at runtime: a --reload would lose it', () => {
    const check = doctor(firewalld({ tunnel: 'trusted', pub: OPEN }, { tunnel: '', pub: PUBLIC })).byId.get('firewalld')!;
    expect(check.status).toBe('warn');
    expect(check.message).toMatch(/permanent configuration does not/);
    expect(check.fix!.split('\n')[0]).toMatch(/^firewall-cmd --permanent --zone=trusted --add-interface=tailscale0 && .* && firewall-cmd --reload$/);
    expect(check.fix).not.toMatch(/not persistent/);
  });

  it('a tunnel the admin bound to another zone gets --change-interface', () => {
    const check = doctor(firewalld({ tunnel: 'public', pub: OPEN })).byId.get('firewalld')!;
    expect(check.status).toBe('fail');
    expect(check.fix).toMatch(/^firewall-cmd --permanent --zone=trusted --change-interface=tailscale0 && firewall-cmd --reload/);
  });

  it('warns when firewalld\'s table is there but firewalld does not answer on the bus; says nothing without firewalld', () => {
    const { byId } = doctor(undefined);
    expect(byId.get('firewalld')).toMatchObject({ status: 'warn' });
    expect(byId.get('firewalld')!.fix).toMatch(/^firewall-cmd --permanent --zone=trusted --add-interface=tailscale0/);
    expect(byId.get('manager-firewalld')?.status).toBe('warn');
    expect(runDoctor(healthyFacts()).byId.has('firewalld')).toBe(false);
  });
});
