import type { ConcreteConfig as Config } from '../discovery/facts.js';
import { describeIssues } from '../config/errors.js';
import type { Chain, Family, Rule } from '../model/types.js';
import { ProfileError } from './errors.js';
import { ConcreteAction, ConcreteMatch } from './schema.js';
import type { Profile, RawRule } from './schema.js';

export { ProfileError } from './errors.js';

const TEMPLATE = /\{([A-Za-z][A-Za-z0-9.]*)\}/g;
const WHOLE_TEMPLATE = /^\{([A-Za-z][A-Za-z0-9.]*)\}$/;

/** Reads `a.b.c` from the config (or the forEach item), or undefined. */
function lookup(config: Config, path: string, item: unknown): unknown {
  if (path === 'item') return item;
  const [root, ...rest] = path.split('.');
  // "{item.port}": a field of a forEach item that is a mapping (lockdown.managementPorts).
  let value: unknown = root === 'item' ? item : config;
  for (const key of root === 'item' ? rest : path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The truthiness `when` uses: false, "off", 0, an empty list and missing keys are false. */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return value !== undefined && value !== null && value !== false && value !== 'off' && value !== 0;
}

/** Fills "{path}" templates. A value that is exactly one template keeps the value's type. */
function fill(value: string | number, config: Config, item: unknown, where: string): string | number {
  if (typeof value === 'number') return value;
  const whole = WHOLE_TEMPLATE.exec(value.startsWith('!') ? value.slice(1) : value);
  if (whole) {
    const found = lookup(config, whole[1]!, item);
    if (typeof found !== 'string' && typeof found !== 'number') {
      throw new ProfileError([`${where}: template {${whole[1]}} is not a config value`]);
    }
    return value.startsWith('!') ? `!${found}` : found;
  }
  return value.replace(TEMPLATE, (_, path: string) => {
    const found = lookup(config, path, item);
    if (typeof found !== 'string' && typeof found !== 'number') {
      throw new ProfileError([`${where}: template {${path}} is not a config value`]);
    }
    return String(found);
  });
}

function fillAll<T extends Record<string, string | number | undefined>>(
  raw: T,
  config: Config,
  item: unknown,
  where: string,
): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value !== undefined) out[key] = fill(value, config, item, `${where}.${key}`);
  }
  return out;
}

/** One raw rule → zero or more concrete rules (zero when `when` is false or forEach is empty). */
function expandRule(raw: RawRule, chain: string, config: Config, where: string): Rule[] {
  const when = raw.when === undefined ? [] : Array.isArray(raw.when) ? raw.when : [raw.when];
  if (!when.every((key) => truthy(lookup(config, key, undefined)))) return [];
  let items: readonly unknown[] = [undefined];
  if (raw.forEach !== undefined) {
    const list = lookup(config, raw.forEach, undefined);
    if (!Array.isArray(list)) throw new ProfileError([`${where}.forEach: ${raw.forEach} is not a list in the config`]);
    items = list;
  }
  const allowed = (raw.families ?? ['ip', 'ip6']).filter((f) => config.families.includes(f));
  const rules: Rule[] = [];
  for (const item of items) {
    const match = ConcreteMatch.safeParse(fillAll(raw.match, config, item, `${where}.match`));
    const rawAction = typeof raw.action === 'string' ? fill(raw.action, config, item, `${where}.action`) : fillAll(raw.action, config, item, `${where}.action`);
    const action = ConcreteAction.safeParse(rawAction);
    if (!match.success) throw new ProfileError(issuesUnder(`${where}.match`, match.error.issues));
    if (!action.success) throw new ProfileError(issuesUnder(`${where}.action`, action.error.issues));
    const pinned = match.data.saddr?.family ?? match.data.daddr?.family;
    const families: Family[] = pinned ? allowed.filter((f) => f === pinned) : allowed;
    if (families.length === 0) continue;
    const suffix = item === undefined ? '' : `[${itemLabel(item)}]`;
    rules.push({ id: `${chain}/${raw.id}${suffix}`, families, match: match.data, action: action.data });
  }
  return rules;
}

/** Issue lines under a key prefix: `prefix.key: message`, or `prefix: message` for the whole value. */
function issuesUnder(prefix: string, issues: Parameters<typeof describeIssues>[0]): string[] {
  return describeIssues(issues).map((l) => (l.startsWith('(top level): ') ? `${prefix}: ${l.slice(13)}` : `${prefix}.${l}`));
}

/** A forEach item in a rule id: the value itself, or a mapping's values joined with "/". */
function itemLabel(item: unknown): string {
  return item !== null && typeof item === 'object' ? Object.values(item).map(String).join('/') : String(item);
}

/** Expands one profile against the config into the chains it defines, rules in profile order. */
export function expandProfile(profile: Profile, config: Config): Chain[] {
  const wanted = (when: string | readonly string[] | undefined) => (when === undefined ? [] : typeof when === 'string' ? [when] : when)
    .every((key) => truthy(lookup(config, key, undefined)));
  return profile.chains.flatMap((chain, c) => (!wanted(chain.when) ? [] : [{
    name: chain.name,
    kind: chain.kind,
    hook: chain.hook,
    rules: chain.rules.flatMap((rule, r) =>
      expandRule(rule, chain.name, config, `${profile.profile}: chains[${c}].rules[${r}] (${rule.id})`),
    ),
  }]));
}
