import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { Config } from '../../src/config/schema.js';

/**
 * docs/config.md must match src/config/schema.ts: one `### \`key.path\`` section per leaf key,
 * no section for a key that does not exist, and each documented default equal to the schema's.
 */

const DOC = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable']);

/** Leaf key paths of a zod object schema (arrays and scalars are leaves). */
function leafPaths(schema: z.core.$ZodType, prefix = ''): string[] {
  let inner = schema;
  for (;;) {
    const def = inner._zod.def as unknown as { type: string; innerType: z.core.$ZodType; getter: () => z.core.$ZodType };
    // The schema is built on first use (z.lazy): unwrap it like default/optional.
    if (def.type === 'lazy') inner = def.getter();
    else if (WRAPPERS.has(def.type)) inner = def.innerType;
    else break;
  }
  if (inner._zod.def.type !== 'object') return [prefix];
  const shape = (inner._zod.def as unknown as { shape: Record<string, z.core.$ZodType> }).shape;
  return Object.entries(shape).flatMap(([key, value]) => leafPaths(value, prefix ? `${prefix}.${key}` : key));
}

function documented(): Map<string, string> {
  const sections = new Map<string, string>();
  for (const part of DOC.split(/^### /m).slice(1)) {
    const key = /^`([^`]+)`/.exec(part)?.[1];
    if (key) sections.set(key, part);
  }
  return sections;
}

function valueAt(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], value);
}

describe('docs/config.md matches the schema', () => {
  const leaves = leafPaths(Config);
  const sections = documented();

  it('finds the schema keys (the walk itself works)', () => {
    expect(leaves).toContain('mode');
    expect(leaves).toContain('nftables.priorities.postrouting');
    expect(leaves).toContain('marks.subnetRoute');
    expect(leaves.length).toBeGreaterThan(25);
  });

  it('documents every key, and only keys that exist', () => {
    expect([...sections.keys()].sort()).toEqual([...leaves].sort());
  });

  it('states each key\'s type and the schema\'s default', () => {
    const defaults = Config.parse({});
    for (const key of leaves) {
      const section = sections.get(key) ?? '';
      expect(section, key).toMatch(/^- \*\*Type:\*\* /m);
      const cell = /^- \*\*Default:\*\* (.+)$/m.exec(section)?.[1];
      expect(cell, `${key}: no default line`).toBeDefined();
      const expected = valueAt(defaults, key);
      if (expected === undefined) {
        expect(cell, key).toBe('none');
      } else {
        const literal = /^`(.+)`$/.exec(cell!)?.[1];
        expect(literal, `${key}: default must be one \`literal\``).toBeDefined();
        expect(parseYaml(literal!), key).toEqual(expected);
      }
    }
  });

  it('the example config is valid', () => {
    const example = /```yaml\n([\s\S]*?)```/.exec(DOC)?.[1];
    expect(example).toBeDefined();
    expect(Config.safeParse(parseYaml(example!)).success).toBe(true);
  });
});
