import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfigText } from '../../src/config/parse.js';
import { badConfigs } from '../helpers/bad-configs.js';

/**
 * Every malformed config is refused with a ConfigError of at most 6 short lines, each naming the
 * key (or, for YAML that does not parse, the line and column).
 */

const corpus = badConfigs();

function refuse(text: string, label: string): ConfigError {
  try {
    parseConfigText(text, label);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw new Error(`${label}: expected a ConfigError, got ${String(error)}`);
  }
  throw new Error(`${label}: was accepted`);
}

describe('malformed-config corpus (parseConfigText)', () => {
  it('is varied: every class from the acceptance list is present', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(45);
    for (const needed of ['broken-yaml', 'top-level-list', 'bare-scalar', 'unknown-top-key', 'unknown-nested-key', 'bad-mode',
      'interface-quote', 'interface-semicolon', 'interface-space', 'interface-slash', 'interface-colon', 'interface-16-chars',
      'port-zero', 'port-70000', 'port-string', 'cidr-garbage', 'cidr-ipv6-for-ipv4', 'cidr-prefix-33', 'cidr-host-bits',
      'mark-over-32-bits', 'mark-outside-mask', 'cron-', 'binary-garbage', 'empty-families', 'duplicate-keys']) {
      expect(corpus.some((c) => c.file.startsWith(needed)), needed).toBe(true);
    }
  });

  it.each(corpus.map((c) => [c.file, c] as const))('%s', (file, { text, expect: pattern }) => {
    const error = refuse(text, file);
    const lines = error.lines();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(6);
    for (const line of lines) {
      expect(line.startsWith(`${file}: `), line).toBe(true);
      expect(line).not.toMatch(/\n|\r/);
      expect(line.length).toBeLessThanOrEqual(240);
      expect(line.slice(file.length + 2)).toMatch(pattern);
    }
  });

  it('a config with only the comment lines left is valid (the refusals come from the bad keys)', () => {
    for (const { text, file } of corpus.filter((c) => !c.file.startsWith('binary'))) {
      const comments = text.split('\n').filter((l) => l.startsWith('#')).join('\n');
      expect(() => parseConfigText(comments, file)).not.toThrow();
    }
  });

  it('more than five problems: five lines and a count of the rest', () => {
    const lines = refuse(corpus.find((c) => c.file === 'many-problems.yaml')!.text, 'm').lines();
    expect(lines).toHaveLength(6);
    expect(lines[5]).toMatch(/^m: … and [1-9]\d* more problem\(s\)$/);
  });
});
