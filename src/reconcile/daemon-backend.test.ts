import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/parse.js';
import type { CommandRunner } from '../exec/runner.js';
import type { ManagerLandscape } from '../integrations/landscape.js';
import { createLogger } from '../log/logger.js';
import { createActiveBackend } from './daemon-backend.js';

/** A host with no iptables rules at all: every *-save prints nothing, nft lists nothing. */
const empty: CommandRunner = { run: () => Promise.resolve({ stdout: '', stderr: '', exitCode: 0 }) };

describe('createActiveBackend: following the host with backend auto', () => {
  it('switches to ufw\'s flavour when ufw becomes enabled, once, logging why; the event scope then also watches the filter tables', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('info', { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    let landscape: ManagerLandscape = { ufw: { enabled: false, flavour: 'iptables-nft', evidence: 'ufw installed but not enabled' } };
    const config = parseConfigText('backend: auto', 'test').config;
    const active = await createActiveBackend(config, empty, log, { landscape: () => landscape });
    expect(active.backend.name).toBe('nftables');
    expect(active.eventScope?.tables).toEqual(['inet tsfw', 'ip filter', 'ip6 filter']);
    expect(await active.reconsider(config)).toBe(false);

    landscape = { ufw: { enabled: true, flavour: 'iptables-nft', evidence: 'ufw enabled' } };
    expect(await active.reconsider(config)).toBe(true);
    expect(active.backend.name).toBe('iptables-nft');
    expect(active.choice).toMatchObject({ reason: 'auto: ufw is enabled and keeps its rules in iptables-nft', evidence: expect.arrayContaining(['ufw enabled']) });
    expect(lines.find((l) => l.msg === 'firewall managers changed: switching backend in this pass')).toMatchObject({ from: 'nftables', to: 'iptables-nft' });
    expect(await active.reconsider(config)).toBe(false);
  });

  it('never re-chooses an explicit backend', async () => {
    const log = createLogger('silent');
    let landscape: ManagerLandscape = {};
    const config = parseConfigText('backend: nftables', 'test').config;
    const active = await createActiveBackend(config, empty, log, { landscape: () => landscape });
    landscape = { ufw: { enabled: true, flavour: 'iptables-nft', evidence: 'ufw enabled' } };
    expect(await active.reconsider(config)).toBe(false);
    expect(active.backend.name).toBe('nftables');
    expect(active.eventScope?.tables).toEqual(['inet tsfw']);
  });
});
