import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../../backends/iptables/parse.js';
import { healthyFacts, runDoctor } from '../../../test/helpers/doctor-facts.js';
import { parseNftRuleset } from '../parse-ruleset.js';
import { doctorExitCode } from '../run.js';
import type { DoctorFacts } from '../types.js';
import { evalXtMatch } from './xt-matches.js';

/**
 * doctor on a router running dockerd 20.10 (iptables-nft, FORWARD policy DROP) beside tsfw.
 * Fixtures captured in test/e2e/doctor-docker.test.ts (TSFW_CAPTURE): `nft -j list ruleset` and
 * both families' iptables-nft-save after `tsfw apply` with
 *   nftables-auto       backend nftables, tsfw's two DOCKER-USER rules in place;
 *   nftables-off        backend nftables, integrations.docker: off (Docker's policy drops);
 *   iptables-nft-auto   backend iptables-nft (tsfw's jump first in FORWARD, no DOCKER-USER rule);
 *   iptables-nft-restarted  the same after a dockerd restart: Docker's jumps above tsfw's.
 */

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/doctor/docker-${name}`, import.meta.url), 'utf8');

function facts(name: string, edit: (text: string) => string = (t) => t, editJson: (doc: { nftables: Record<string, unknown>[] }) => void = () => {}): Partial<DoctorFacts> {
  const doc = JSON.parse(fixture(`${name}.ruleset.json`)) as { nftables: Record<string, unknown>[] };
  editJson(doc);
  return {
    ruleset: parseNftRuleset(JSON.stringify(doc)),
    xtablesSaves: (['ip', 'ip6'] as const).map((family) => ({ family, tables: parseIptablesSave(family === 'ip' ? edit(fixture(`${name}.${family}.save`)) : fixture(`${name}.${family}.save`)) })),
    // The router's links as the e2e saw them: Docker's bridge is one of them, and not the LAN.
    links: ['lo', 'docker0', 'tailscale0', 'lan0', 'wan0'],
  };
}

function doctor(name: string, backend: 'nftables' | 'iptables-nft', over: Partial<DoctorFacts> = facts(name)) {
  return runDoctor(healthyFacts({
    configuredBackend: backend,
    backend,
    ...(backend === 'iptables-nft' ? { tools: ['iptables', 'iptables-nft', 'ip6tables-nft', 'iptables-nft-restore', 'ip6tables-nft-restore'].map((binary) => ({ binary, available: true, output: 'iptables v1.8.9 (nf_tables)' })) } : {}),
    ...over,
  }), `backend: ${backend}\n`);
}

describe('doctor beside dockerd', () => {
  it.each([['nftables-auto', 'nftables'], ['iptables-nft-auto', 'iptables-nft'], ['iptables-nft-restarted', 'iptables-nft']] as const)('%s: no finding, Docker confirmed, exit 0', (name, backend) => {
    const { checks, byId } = doctor(name, backend);
    expect(checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(byId.get('manager-docker')?.message).toMatch(backend === 'nftables'
      ? /passes Docker's FORWARD \(iptables-nft ip: DOCKER-USER accepts tailscale0 both ways\)/
      : /passes Docker's FORWARD \(iptables-nft ip: tsfw's ts-forward jump is in Docker's FORWARD chain\)/);
    expect(doctorExitCode(checks)).toBe(0);
  });

  it('nftables with the integration off: Docker named, and its policy drop of both directions reported', () => {
    const { byId } = doctor('nftables-off', 'nftables');
    expect(byId.get('manager-docker')).toMatchObject({ status: 'warn', fix: expect.stringContaining('integrations.docker: auto') });
    expect(byId.get('other-tables-forward')?.message).toBe('an nftables accept is not final across tables: table ip filter chain FORWARD (hook forward, priority 0) drops traffic routed from tailscale0 to lan0 (policy drop), traffic routed from lan0 into tailscale0 (policy drop)');
  });

  it('an admin\'s own DOCKER-USER accepts count as the fix; a restricted one does not', () => {
    const addUser = (lines: string) => (t: string) => t.replace('-A DOCKER-USER -j RETURN', `${lines}\n-A DOCKER-USER -j RETURN`);
    const own = '-A DOCKER-USER -i tailscale0 -j ACCEPT\n-A DOCKER-USER -o tailscale0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT';
    expect(doctor('nftables-off', 'nftables', facts('nftables-off', addUser(own))).byId.get('manager-docker')?.status).toBe('ok');
    const narrow = '-A DOCKER-USER -s 100.100.0.2/32 -i tailscale0 -j ACCEPT\n-A DOCKER-USER -o tailscale0 -j ACCEPT';
    expect(doctor('nftables-off', 'nftables', facts('nftables-off', addUser(narrow))).byId.get('manager-docker')?.status).toBe('warn');
  });

  it('an xt conntrack match in another table is read from iptables-nft-save: the reply passes an established-only accept, not a new-only one', () => {
    const withRule = (ctstate: string) => {
      const save = (t: string) => t.replace('-A FORWARD -j DOCKER-USER', `-A FORWARD -o tailscale0 -m conntrack --ctstate ${ctstate} -j ACCEPT\n-A FORWARD -j DOCKER-USER`);
      const json = (doc: { nftables: Record<string, unknown>[] }) => {
        const at = doc.nftables.findIndex((i) => (i.rule as { chain?: string; family?: string } | undefined)?.chain === 'FORWARD' && (i.rule as { family: string }).family === 'ip');
        doc.nftables.splice(at, 0, { rule: { family: 'ip', table: 'filter', chain: 'FORWARD', handle: 999, expr: [{ match: { op: '==', left: { meta: { key: 'oifname' } }, right: 'tailscale0' } }, { xt: { type: 'match', name: 'conntrack' } }, { counter: { packets: 0, bytes: 0 } }, { accept: null }] } });
      };
      return doctor('nftables-off', 'nftables', facts('nftables-off', save, json)).byId.get('other-tables-forward')?.message;
    };
    expect(withRule('RELATED,ESTABLISHED')).toMatch(/drops traffic routed from tailscale0 to lan0 \(policy drop\)$/);
    expect(withRule('NEW')).toMatch(/drops traffic routed from tailscale0 to lan0 \(policy drop\), traffic routed from lan0 into tailscale0 \(policy drop\)$/);
  });
});

describe('native matches other managers write', () => {
  it('ct status dnat (firewalld\'s forward) does not match the probes; iif names stand for the interface', () => {
    const chain = { family: 'inet', table: 'admin', name: 'fwd', handle: 1, type: 'filter', hook: 'forward', prio: 0, policy: 'drop' };
    const rule = (handle: number, expr: unknown[]) => ({ rule: { family: 'inet', table: 'admin', chain: 'fwd', handle, expr } });
    const doc = { nftables: [{ table: { family: 'inet', name: 'admin', handle: 1 } }, { chain }, rule(2, [{ match: { op: 'in', left: { ct: { key: 'status' } }, right: 'dnat' } }, { accept: null }]), rule(3, [{ match: { op: '==', left: { meta: { key: 'iif' } }, right: 'tailscale0' } }, { accept: null }])] };
    const message = runDoctor(healthyFacts({ ruleset: parseNftRuleset(JSON.stringify(doc)) })).byId.get('other-tables-forward')?.message;
    expect(message).toBe('an nftables accept is not final across tables: table inet admin chain fwd (hook forward, priority 0) drops traffic routed from lan0 into tailscale0 (policy drop)');
  });
});

describe('evalXtMatch', () => {
  const p = { family: 'ip', iif: 'lan0', oif: 'tailscale0', src: '192.0.2.10', dst: '100.100.0.2', proto: 'tcp', ctState: 'established' } as const;
  const tokens = (s: string) => s.split(' ');
  it('reads --ctstate, ! --ctstate, --state and --ctstatus; anything else is unknown', () => {
    expect(evalXtMatch('conntrack', tokens('-o tailscale0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'), p)).toBe(true);
    expect(evalXtMatch('conntrack', tokens('-m conntrack ! --ctstate ESTABLISHED -j DROP'), p)).toBe(false);
    expect(evalXtMatch('state', tokens('-m state --state NEW -j ACCEPT'), p)).toBe(false);
    expect(evalXtMatch('conntrack', tokens('-m conntrack --ctstatus DNAT -j ACCEPT'), p)).toBe(false);
    expect(evalXtMatch('conntrack', tokens('-m conntrack --ctorigdst 192.0.2.1 -j ACCEPT'), p)).toBe('unknown');
    expect(evalXtMatch('addrtype', tokens('-m addrtype --dst-type LOCAL -j DOCKER'), p)).toBe('unknown');
    expect(evalXtMatch('conntrack', tokens('-j ACCEPT'), p)).toBe('unknown');
  });
});
