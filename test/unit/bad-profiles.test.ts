import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/parse.js';
import { concreteConfig } from '../../src/discovery/facts.js';
import { expandProfile, ProfileError } from '../../src/profiles/expand.js';
import { parseProfile } from '../../src/profiles/load.js';

/**
 * The malformed-profile corpus (test/fixtures/bad-profiles): every file must be refused with a
 * ProfileError whose message names the offending key (first line of each file: `# expect: TEXT`),
 * never accepted and never crash with anything else. Profiles are refused before any backend runs,
 * so a bad profile changes nothing in the kernel.
 */
const DIR = fileURLToPath(new URL('../fixtures/bad-profiles/', import.meta.url));
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();
const config = parseConfigText('', 'test').config;

describe('malformed rule profiles are refused with the key named', () => {
  it('has a corpus', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
  });
  for (const file of files) {
    it(file, () => {
      const text = readFileSync(`${DIR}${file}`, 'utf8');
      const expected = /^# expect: (.+)$/m.exec(text)?.[1];
      expect(expected, 'fixture names what the error must say').toBeDefined();
      let error: unknown;
      try {
        expandProfile(parseProfile(text, file), concreteConfig(config));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ProfileError);
      const message = (error as ProfileError).problems.join('\n');
      expect(message).toContain(expected);
    });
  }
});
