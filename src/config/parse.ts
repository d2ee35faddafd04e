import { parse as parseYaml, YAMLParseError } from 'yaml';
import { Config } from './schema.js';
import { ConfigError, describeIssues } from './errors.js';

/** Pure part of loading: YAML text + environment → validated config. */
export function parseConfigText(
  text: string,
  label: string,
  env: Readonly<Record<string, string | undefined>> = {},
): { config: Config; overrides: string[] } {
  if (text.includes('\u0000')) throw new ConfigError(label, ['not a text file (contains NUL bytes)']);
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true, uniqueKeys: true, maxAliasCount: 50 });
  } catch (error) {
    const message = error instanceof YAMLParseError ? yamlErrorLine(error, text) : String(error);
    throw new ConfigError(label, [`invalid YAML: ${message}`], { cause: error });
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(label, [`(top level): must be a mapping of keys, got ${Array.isArray(raw) ? 'a list' : typeof raw}`]);
  }
  const overrides: string[] = [];
  const withEnv: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  if (env.TSFW_MODE) {
    withEnv.mode = env.TSFW_MODE;
    overrides.push('mode');
  }
  if (env.TSFW_BACKEND) {
    withEnv.backend = env.TSFW_BACKEND;
    overrides.push('backend');
  }
  const result = Config.safeParse(withEnv);
  if (!result.success) {
    const problems = describeIssues(result.error.issues).map((line) => {
      const key = line.split(':', 1)[0];
      return overrides.includes(key ?? '') ? `${line} (from TSFW_${key?.toUpperCase()})` : line;
    });
    throw new ConfigError(label, problems);
  }
  return { config: result.data, overrides };
}

function yamlErrorLine(error: YAMLParseError, text: string): string {
  // prettyErrors adds "at line L, column C:" and a source excerpt below it; keep the first line.
  const first = (error.message.split('\n', 1)[0] ?? error.message).replace(/:$/, '');
  const pos = error.linePos?.[0];
  const line = pos && !first.includes('line') ? `${first} (line ${pos.line}, column ${pos.col})` : first;
  if (error.code !== 'DUPLICATE_KEY' || !pos) return line;
  // Name the repeated key, as every other config error names its key.
  const key = /^\s*["']?([^"':#]+)/.exec(text.split('\n')[pos.line - 1]?.slice(pos.col - 1) ?? '')?.[1]?.trim();
  return key ? `${key}: duplicate key (line ${pos.line})` : line;
}
