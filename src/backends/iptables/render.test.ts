import { describe, expect, it } from 'vitest';
import { Config } from '../../config/schema.js';
import type { ConfigInput } from '../../config/schema.js';
import type { Mode, Rule } from '../../model/types.js';
import { rulesetFor } from '../../profiles/load.js';
import { createIptablesBackend } from './backend.js';
import { builtinFor, desiredIptTables, quote, renderRuleLine } from './render.js';

const noRunner = { run: () => Promise.reject(new Error('render must not run anything')) };
const render = (mode: Mode, input: ConfigInput = {}, flavour: 'nft' | 'legacy' = 'nft') => {
  const config = Config.parse(input);
  const backend = createIptablesBackend(noRunner, { flavour, families: config.families, jumpPosition: 'first' });
  return backend.render(rulesetFor(config, mode), 'text');
};
const rule = (partial: Partial<Rule>): Rule => ({ id: 'ts-x/r', families: ['ip'], match: {}, action: { kind: 'accept' }, ...partial });

describe('iptables render: golden restore scripts of the default profile', () => {
  it.each(['on', 'nodivert'] as const)('mode %s', async (mode) => {
    await expect(render(mode)).toMatchFileSnapshot(`../../../test/golden/iptables/tailscale-${mode}.rules`);
  });

  it('with addresses, stateful filtering and return-mode CGNAT, on legacy binaries', async () => {
    const text = render('on', { addresses: ['100.100.0.1', '2001:db8:100::1'], statefulFiltering: true, cgnat: { mode: 'return' } }, 'legacy');
    await expect(text).toMatchFileSnapshot('../../../test/golden/iptables/tailscale-on-options-legacy.rules');
  });

  it('mode off writes nothing at all', () => {
    expect(render('off')).toBe('');
  });

  it('never declares a built-in chain (that would reset the admin policy under --noflush)', () => {
    expect(render('on')).not.toMatch(/^:(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) /m);
  });

  it('keeps the IPv4 CGNAT rules out of IPv6, which gets the range6 rules instead', () => {
    const v6 = desiredIptTables(rulesetFor(Config.parse({}), 'on')).filter((t) => t.family === 'ip6');
    const ids = v6.flatMap((t) => t.chains.flatMap((c) => c.rules.map((r) => r.id)));
    expect(ids).toEqual([
      'ts-input/tunnel-accept', 'ts-input/wireguard-port[41641]', 'ts-input/cgnat6-spoof',
      'ts-forward/mark-from-tunnel', 'ts-forward/accept-marked', 'ts-forward/cgnat6-to-tunnel', 'ts-forward/to-tunnel-accept',
      'ts-postrouting/masquerade-marked',
      'ts-prerouting/connmark-restore', 'ts-mangle-out/connmark-save',
    ]);
  });
});

describe('iptables render: one rule in iptables-save form', () => {
  it('orders addresses, interfaces, protocol, modules, comment, target like iptables-save', () => {
    const line = renderRuleLine(rule({
      match: {
        saddr: { family: 'ip', addr: '100.64.0.0', len: 10 },
        daddr: { family: 'ip', addr: '192.0.2.0', len: 24 },
        oif: { name: 'tailscale0', negate: true },
        l4proto: 'tcp', sport: 22, dport: 80,
      },
    }), 'ts-x');
    expect(line).toBe('-A ts-x -s 100.64.0.0/10 -d 192.0.2.0/24 ! -o tailscale0 -p tcp -m tcp --sport 22 --dport 80 -m comment --comment "tsfw:ts-x/r" -j ACCEPT');
  });

  it('prints host prefixes with their length, in IPv6 too', () => {
    expect(renderRuleLine(rule({ match: { saddr: { family: 'ip6', addr: '2001:db8:100::1', len: 128 }, iif: { name: 'lo', negate: false } } }), 'ts-x'))
      .toBe('-A ts-x -s 2001:db8:100::1/128 -i lo -m comment --comment "tsfw:ts-x/r" -j ACCEPT');
  });

  it('prints a protocol without ports bare, and conntrack states in iptables order', () => {
    expect(renderRuleLine(rule({ match: { l4proto: 'udp', ctState: { states: ['established', 'new', 'related'], negate: true } }, action: { kind: 'drop' } }), 'ts-x'))
      .toBe('-A ts-x -p udp -m conntrack ! --ctstate NEW,RELATED,ESTABLISHED -m comment --comment "tsfw:ts-x/r" -j DROP');
  });

  it('omits a full mark mask on --mark but always prints it on --set-xmark', () => {
    expect(renderRuleLine(rule({ match: { mark: { value: 0x40000, mask: 0xffffffff } }, action: { kind: 'set-mark', value: 0x1, mask: 0xffffffff } }), 'ts-x'))
      .toBe('-A ts-x -m mark --mark 0x40000 -m comment --comment "tsfw:ts-x/r" -j MARK --set-xmark 0x1/0xffffffff');
  });

  it('quotes comments the way iptables-save does', () => {
    expect(quote('an "admin" note \\ x')).toBe('"an \\"admin\\" note \\\\ x"');
  });

  it('refuses a hook the table does not have', () => {
    expect(() => builtinFor({ name: 'ts-x', kind: 'filter', hook: 'postrouting', rules: [] })).toThrow(/no postrouting hook in the filter table/);
    expect(builtinFor({ name: 'ts-x', kind: 'nat', hook: 'postrouting', rules: [] })).toBe('POSTROUTING');
  });
});

describe('iptables render: connmark rules equal the ones Tailscale writes (docs/ruleset.md)', () => {
  // Tailscale inserts these straight into mangle PREROUTING / OUTPUT (util/linuxfw, mode on), here
  // in iptables-save's spelling; tsfw keeps them in its own chains behind a tagged jump.
  const TAILSCALE = {
    PREROUTING: '-m conntrack --ctstate RELATED,ESTABLISHED -m connmark ! --mark 0x0/0xff0000 -j CONNMARK --restore-mark --nfmask 0xff0000 --ctmask 0xff0000',
    OUTPUT: '-m conntrack --ctstate NEW -m mark ! --mark 0x0/0xff0000 -j CONNMARK --save-mark --nfmask 0xff0000 --ctmask 0xff0000',
  };

  it.each(['ip', 'ip6'] as const)('%s: the same matches and targets, only the comment added, diverted from the same built-in chains', (family) => {
    const mangle = desiredIptTables(rulesetFor(Config.parse({}), 'on')).find((t) => t.family === family && t.table === 'mangle');
    const bodies = Object.fromEntries((mangle?.chains ?? []).map((c) => [c.builtin, c.rules.map((r) => r.line
      .replace(/^-A \S+ /, '')
      .replace(/ -m comment --comment "[^"]*"/, ''))]));
    expect(bodies).toEqual({ PREROUTING: [TAILSCALE.PREROUTING], OUTPUT: [TAILSCALE.OUTPUT] });
  });
});
