import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The malformed-config corpus (test/fixtures/bad-configs), shared by the unit and CLI tests. */
export const BAD_CONFIG_DIR = fileURLToPath(new URL('../fixtures/bad-configs/', import.meta.url));

export interface BadConfig {
  readonly file: string;
  readonly path: string;
  /** The bytes as the loader reads them (utf8). */
  readonly text: string;
  /** What every error line must match after its `FILE: ` prefix. */
  readonly expect: RegExp;
}

/** Binary files cannot carry an `# expect:` line. */
const BINARY_EXPECT: Readonly<Record<string, RegExp>> = {
  'binary-garbage-nul.yaml': /^not a text file \(contains NUL bytes\)$/,
  'binary-garbage-control.yaml': /^invalid YAML: .* at line \d+, column \d+$/,
};

/** Every corpus file with its expectation; throws when a text file lacks its `# expect:` line. */
export function badConfigs(): BadConfig[] {
  return readdirSync(BAD_CONFIG_DIR)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const path = `${BAD_CONFIG_DIR}${file}`;
      const text = readFileSync(path, 'utf8');
      const declared = /^# expect: (.*)$/m.exec(text.split('\n', 1)[0] ?? '')?.[1];
      const expect = BINARY_EXPECT[file] ?? (declared === undefined ? undefined : new RegExp(declared));
      if (!expect) throw new Error(`${file}: first line must be "# expect: REGEX"`);
      return { file, path, text, expect };
    });
}
