import { describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../../backends/iptables/parse.js';
import type { IptFlavour } from '../../backends/iptables/backend.js';
import type { Family } from '../../model/types.js';
import { copiesIn, itemOf, planDocker, restoreScript, ruleOf, wantedRules } from './plan.js';
import type { DockerView } from './plan.js';

/** dockerd 20.10's filter table as iptables-nft-save printed it in a test namespace (FORWARD policy DROP). */
const DOCKER_FILTER = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
`;

const OURS = [
  '-A DOCKER-USER -o tailscale0 -m comment --comment "tsfw:docker-out" -j ACCEPT',
  '-A DOCKER-USER -i tailscale0 -m comment --comment "tsfw:docker-in" -j ACCEPT',
];

function view(text: string, flavour: IptFlavour = 'nft', family: Family = 'ip'): DockerView {
  return { flavour, family, filter: parseIptablesSave(text).find((t) => t.table === 'filter') };
}

/** Docker's table with extra DOCKER-USER lines before its RETURN. */
function withUser(lines: readonly string[]): string {
  return DOCKER_FILTER.replace('-A DOCKER-USER -j RETURN', [...lines, '-A DOCKER-USER -j RETURN'].join('\n'));
}

const EMPTY_FILTER = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n';

describe('docker wantedRules', () => {
  it('wants both directions in each Docker table, none where Docker is absent', () => {
    const views = [view(DOCKER_FILTER), view(EMPTY_FILTER, 'nft', 'ip6'), view(EMPTY_FILTER, 'legacy')];
    expect(wantedRules(views, 'tailscale0')).toEqual([
      { flavour: 'nft', family: 'ip', direction: 'in', iface: 'tailscale0' },
      { flavour: 'nft', family: 'ip', direction: 'out', iface: 'tailscale0' },
    ]);
  });

  it('wants nothing in a table whose FORWARD already jumps to ts-forward (an iptables backend of that flavour)', () => {
    const same = DOCKER_FILTER.replace(':DOCKER-USER - [0:0]', ':DOCKER-USER - [0:0]\n:ts-forward - [0:0]')
      .replace('-A FORWARD -j DOCKER-USER', '-A FORWARD -j DOCKER-USER\n-A FORWARD -m comment --comment "tsfw:jump" -j ts-forward');
    expect(wantedRules([view(same)], 'tailscale0')).toEqual([]);
  });
});

describe('planDocker', () => {
  const wanted = wantedRules([view(DOCKER_FILTER)], 'tailscale0');

  it('inserts both rules at the top of DOCKER-USER without declaring the chain (which would flush it)', () => {
    const plan = planDocker([view(DOCKER_FILTER)], wanted, []);
    expect(plan.edits).toHaveLength(1);
    expect(restoreScript(plan.edits[0]!)).toBe([
      '*filter',
      '-I DOCKER-USER 1 -i tailscale0 -m comment --comment tsfw:docker-in -j ACCEPT',
      '-I DOCKER-USER 1 -o tailscale0 -m comment --comment tsfw:docker-out -j ACCEPT',
      'COMMIT',
      '',
    ].join('\n'));
    expect(plan.edits[0]!.changes.map((c) => `${c.op} ${c.value}`)).toEqual(['add iptables-nft ip in tailscale0', 'add iptables-nft ip out tailscale0']);
    expect(plan.record.map((i) => i.value)).toEqual(['iptables-nft ip in tailscale0', 'iptables-nft ip out tailscale0']);
  });

  it('does nothing when the rules are there, and adopts them into the record when it was lost', () => {
    const plan = planDocker([view(withUser(OURS))], wanted, []);
    expect(plan.edits).toEqual([]);
    expect(plan.record).toHaveLength(2);
  });

  it('removes every copy of a recorded rule no longer wanted, and only tagged rules', () => {
    const admin = '-A DOCKER-USER -i tailscale0 -j ACCEPT';
    const v = view(withUser([...OURS, OURS[1]!, admin]));
    const plan = planDocker([v], [], wanted.map(itemOf));
    expect(plan.edits[0]!.lines).toEqual([
      '-D DOCKER-USER -i tailscale0 -m comment --comment tsfw:docker-in -j ACCEPT',
      '-D DOCKER-USER -i tailscale0 -m comment --comment tsfw:docker-in -j ACCEPT',
      '-D DOCKER-USER -o tailscale0 -m comment --comment tsfw:docker-out -j ACCEPT',
    ]);
    expect(plan.record).toEqual([]);
  });

  it('follows a renamed tunnel: the old interface\'s rules go, the new ones come', () => {
    const v = view(withUser(OURS));
    const plan = planDocker([v], wantedRules([v], 'ts1'), wanted.map(itemOf));
    expect(plan.edits[0]!.changes.map((c) => `${c.op} ${c.value}`)).toEqual([
      'remove iptables-nft ip in tailscale0', 'remove iptables-nft ip out tailscale0', 'add iptables-nft ip in ts1', 'add iptables-nft ip out ts1',
    ]);
  });

  it('keeps a recorded rule whose table could not be read; forgets one already gone from a table it read', () => {
    const legacy = itemOf({ flavour: 'legacy', family: 'ip', direction: 'in', iface: 'tailscale0' });
    const plan = planDocker([view(DOCKER_FILTER)], [], [...wanted.map(itemOf), legacy]);
    expect(plan.edits).toEqual([]);
    expect(plan.record).toEqual([legacy]);
  });
});

describe('docker items', () => {
  it('round-trip through the record and ignore foreign values', () => {
    const rule = { flavour: 'legacy', family: 'ip6', direction: 'out', iface: 'tailscale0' } as const;
    expect(ruleOf(itemOf(rule))).toEqual(rule);
    expect(ruleOf({ kind: 'docker-user-rule', value: 'nonsense', permanent: false })).toBeUndefined();
    expect(ruleOf({ kind: 'port', value: 'iptables-nft ip in tailscale0', permanent: false })).toBeUndefined();
  });

  it('copiesIn matches the interface exactly, not as a prefix', () => {
    const v = view(withUser(['-A DOCKER-USER -i tailscale01 -m comment --comment "tsfw:docker-in" -j ACCEPT']));
    expect(copiesIn(v, { flavour: 'nft', family: 'ip', direction: 'in', iface: 'tailscale0' })).toBe(0);
  });
});
