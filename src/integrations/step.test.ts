import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Mode, Ruleset } from '../model/types.js';
import { integrationAction } from './decide.js';
import { readIntegrationRecord } from './record.js';
import { integrationsStep } from './step.js';
import type { Integration, IntegrationItem } from './types.js';

const quiet = { info: () => {}, warn: () => {} };

function ruleset(mode: Mode, firewalld: 'auto' | 'off' = 'auto'): Ruleset {
  return { mode, families: ['ip'], chains: [], wants: { tunnel: 'tailscale0', ports: [41641], managers: { firewalld, ufw: 'auto', docker: 'auto' } } };
}

/** A manager that adds one port item per wanted port and removes exactly what it is given. */
function fakeFirewalld(active: boolean, calls: string[]): Integration {
  return {
    manager: 'firewalld',
    active: () => Promise.resolve(active),
    ensure(wants, recorded, dryRun) {
      calls.push(`ensure dry=${dryRun}`);
      const want: IntegrationItem[] = wants.ports.map((p) => ({ kind: 'port', value: `${p}/udp`, permanent: true }));
      const missing = want.filter((w) => !recorded.some((r) => r.value === w.value));
      return Promise.resolve({ record: want, changes: missing.map((i) => ({ ...i, manager: 'firewalld' as const, op: 'add' as const })) });
    },
    undo(recorded, dryRun) {
      calls.push(`undo dry=${dryRun}`);
      return Promise.resolve({ record: [], changes: recorded.map((i) => ({ ...i, manager: 'firewalld' as const, op: 'remove' as const })) });
    },
  };
}

describe('integrationAction', () => {
  it('ensures only in mode on, auto, with the manager active; otherwise undoes what is recorded', () => {
    expect(integrationAction('on', 'auto', true, 0)).toBe('ensure');
    expect(integrationAction('on', 'auto', false, 2)).toBe('undo');
    expect(integrationAction('on', 'off', true, 1)).toBe('undo');
    expect(integrationAction('nodivert', 'auto', true, 1)).toBe('undo');
    expect(integrationAction('nodivert', 'auto', true, 0)).toBe('none');
    expect(integrationAction('off', 'auto', true, 0)).toBe('none');
  });
});

describe('integrationsStep', () => {
  it('records what it added, removes exactly that on off, and leaves no record file behind', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'tsfw-int-'));
    const calls: string[] = [];
    const step = integrationsStep(runDir, [fakeFirewalld(true, calls)], quiet);
    expect(await step(ruleset('on'), false)).toEqual([{ manager: 'firewalld', op: 'add', kind: 'port', value: '41641/udp', permanent: true }]);
    expect(readIntegrationRecord(runDir).firewalld).toEqual([{ kind: 'port', value: '41641/udp', permanent: true }]);
    expect(await step(ruleset('on'), false)).toEqual([]);
    expect(await step(ruleset('off'), true)).toHaveLength(1);
    expect(readIntegrationRecord(runDir).firewalld).toHaveLength(1);
    expect(await step(ruleset('off'), false)).toEqual([{ manager: 'firewalld', op: 'remove', kind: 'port', value: '41641/udp', permanent: true }]);
    expect(existsSync(join(runDir, 'integrations.json'))).toBe(false);
    expect(calls).toEqual(['ensure dry=false', 'ensure dry=false', 'undo dry=true', 'undo dry=false']);
  });

  it('does not ask an inactive or disabled manager for anything when nothing is recorded', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'tsfw-int-'));
    const calls: string[] = [];
    expect(await integrationsStep(runDir, [fakeFirewalld(false, calls)], quiet)(ruleset('on'), false)).toEqual([]);
    expect(await integrationsStep(runDir, [fakeFirewalld(true, calls)], quiet)(ruleset('on', 'off'), false)).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('keeps the record and the other managers going when one manager fails', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'tsfw-int-'));
    const calls: string[] = [];
    const broken: Integration = { ...fakeFirewalld(true, calls), manager: 'ufw', ensure: () => Promise.reject(new Error('ufw: locked')) };
    const warned: string[] = [];
    const step = integrationsStep(runDir, [fakeFirewalld(true, calls), broken], { info: () => {}, warn: (_f, m) => warned.push(m) });
    expect(await step(ruleset('on'), false)).toHaveLength(1);
    expect(warned).toEqual(['integration failed: left for the next pass']);
    expect(JSON.parse(readFileSync(join(runDir, 'integrations.json'), 'utf8'))).toBeTypeOf('object');
  });
});
