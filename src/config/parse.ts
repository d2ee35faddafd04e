import { parseDocument, YAMLParseError } from 'yaml';
import type { YAMLWarning } from 'yaml';
import { Config } from './schema.js';
import { ConfigError, describeIssues } from './errors.js';

/**
 * Pure part of loading: YAML text + environment → validated config. `empty` says the file holds
 * no document at all (nothing, blank lines or comments only), which the daemon treats as a file
 * caught half-written rather than as "use every default".
 */
export function parseConfigText(
  text: string,
  label: string,
  env: Readonly<Record<string, string | undefined>> = {},
): { config: Config; overrides: string[]; empty: boolean } {
  if (text.includes('\u0000')) throw new ConfigError(label, ['not a text file (contains NUL bytes)']);
  let raw: unknown = parseYamlText(text, label);
  const empty = raw === null || raw === undefined;
  if (empty) raw = {};
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
  return { config: result.data, overrides, empty };
}

/** YAML text → plain data. Errors, and warnings such as an unknown `!!js/function` tag, are one line each. */
function parseYamlText(text: string, label: string): unknown {
  try {
    // logLevel silent: the yaml library would otherwise print warnings itself (process.emitWarning).
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, logLevel: 'silent' });
    const first = doc.errors[0] ?? doc.warnings[0];
    if (first) throw first;
    return doc.toJS({ maxAliasCount: 50 });
  } catch (error) {
    if (error instanceof YAMLParseError) throw new ConfigError(label, [`invalid YAML: ${yamlErrorLine(error, text)}`], { cause: error });
    if (isWarning(error)) throw new ConfigError(label, [`invalid YAML: ${warningLine(error)}`]);
    throw new ConfigError(label, [`invalid YAML: ${error instanceof Error ? error.message.split('\n', 1)[0] : String(error)}`], { cause: error });
  }
}

function isWarning(error: unknown): error is YAMLWarning {
  return error instanceof Error && error.name === 'YAMLWarning';
}

/** `unknown tag !!js/function (line 1, column 7)`: tsfw resolves no custom tags. */
function warningLine(warning: YAMLWarning): string {
  const pos = warning.linePos?.[0];
  const at = pos ? ` (line ${pos.line}, column ${pos.col})` : '';
  if (warning.code === 'TAG_RESOLVE_FAILED') {
    const tag = /Unresolved tag: (\S+)/.exec(warning.message)?.[1]?.replace(/^tag:yaml\.org,2002:/, '!!') ?? 'tag';
    return `unknown tag ${tag}${at}`;
  }
  return `${(warning.message.split('\n', 1)[0] ?? warning.message).replace(/ at line \d+, column \d+:?$/, '')}${at}`;
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
