import { parseConfigText } from '../../src/config/parse.js';
import type { Check, DoctorFacts } from '../../src/doctor/types.js';
import type { CheckInput } from '../../src/doctor/checks/context.js';
import { runChecks } from '../../src/doctor/run.js';
import { rulesetFor } from '../../src/profiles/load.js';

/** A healthy nftables router's doctor facts; each test changes one thing. */
export function healthyFacts(over: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    configuredBackend: 'auto',
    backend: 'nftables',
    tools: [{ binary: 'nft', available: true, output: 'nftables v1.0.6 (Lester Gooch #5)' }],
    checkTransaction: { ok: true, detail: 'ok' },
    ruleset: { tables: [] },
    clis: {},
    addresses: [{ ifname: 'tailscale0', family: 'inet', local: '100.100.0.1', prefixlen: 24 }, { ifname: 'wan0', family: 'inet', local: '198.51.100.1', prefixlen: 24 }],
    links: ['lo', 'tailscale0', 'lan0', 'wan0'],
    routes: [{ dst: 'default', gateway: '198.51.100.254', dev: 'wan0' }],
    sysctl: { 'ipv4/ip_forward': '1\n', 'ipv6/conf/all/forwarding': '1\n', 'ipv4/conf/all/rp_filter': '0\n', 'ipv4/conf/wan0/rp_filter': '2\n' },
    ...over,
  };
}

/** Runs every check on these facts with the config from `yaml`. */
export function runDoctor(facts: DoctorFacts, yaml = ''): { input: CheckInput; checks: Check[]; byId: Map<string, Check> } {
  const config = parseConfigText(yaml, 'test').config;
  const input = { facts, config, ruleset: rulesetFor(config) };
  const checks = runChecks(input);
  return { input, checks, byId: new Map(checks.map((c) => [c.id, c])) };
}
