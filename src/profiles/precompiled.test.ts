import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfile, parseProfile, precompileProfiles, RULES_DIR } from './load.js';
import type { PrecompiledProfiles } from './precompiled.js';

const BUILT = join(RULES_DIR, '..', 'dist', 'precompiled-profiles.json');

describe('precompiled built-in profiles', () => {
  it('the build carries exactly what rules/*.yaml give now (run `make build` after editing a profile)', () => {
    expect(existsSync(BUILT), `${BUILT} is missing: run make build`).toBe(true);
    const built = JSON.parse(readFileSync(BUILT, 'utf8')) as PrecompiledProfiles;
    const now = precompileProfiles();
    expect(Object.keys(built).sort()).toEqual(Object.keys(now).sort());
    for (const [name, entry] of Object.entries(now)) {
      expect(built[name]?.text, `rules/${name}.yaml changed since the build`).toBe(entry.text);
      expect(built[name]?.profile).toEqual(JSON.parse(JSON.stringify(entry.profile)));
    }
    expect(Object.keys(now)).toEqual(expect.arrayContaining(['tailscale', 'lockdown', 'required-ports']));
  });

  it('stands in for the parse only while the file holds the text it was made from', () => {
    const dir = `${mkdtempSync(join(tmpdir(), 'tsfw-rules-'))}/`;
    copyFileSync(`${RULES_DIR}tailscale.yaml`, `${dir}tailscale.yaml`);
    const text = readFileSync(`${dir}tailscale.yaml`, 'utf8');
    const marker = { ...parseProfile(text, 'rules/tailscale.yaml'), description: 'from the precompiled form' };
    expect(loadProfile('tailscale', dir, { tailscale: { text, profile: marker } }).description).toBe('from the precompiled form');

    // An edited file (here: one chain fewer) is parsed again, whatever the build carried.
    const edited = `${mkdtempSync(join(tmpdir(), 'tsfw-rules-'))}/`;
    writeFileSync(`${edited}tailscale.yaml`, text.replace('description:', 'description: edited'));
    const loaded = loadProfile('tailscale', edited, { tailscale: { text, profile: marker } });
    expect(loaded.description).not.toBe('from the precompiled form');
    expect(loaded.description).toMatch(/^edited/);
  });
});
