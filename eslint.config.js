// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Modules that perform effects. Pure code (model, render, parse, plan, drift, schema) must not
 * import them: effects enter through injected interfaces so unit tests need no module mocks.
 * This rule sees direct imports only; test/unit/import-boundary.test.ts follows the whole import
 * graph of every file in `pureFiles` with the same two lists. */
export const effectModules = [
  'execa',
  'node:fs',
  'node:fs/promises',
  'fs',
  'fs/promises',
  'node:child_process',
  'child_process',
  'node-cron',
];

/** The pure modules: checked here for direct imports, by the import-boundary test transitively. */
export const pureFiles = [
  'src/model/**/*.ts',
  'src/config/schema.ts',
  'src/config/cron.ts',
  'src/config/errors.ts',
  'src/config/parse.ts',
  'src/config/listen.ts',
  'src/config/mode-edit.ts',
  'src/log/failure-log.ts',
  'src/profiles/lockout.ts',
  'src/doctor/checks/*.ts',
  'src/doctor/parse-*.ts',
  'src/doctor/run.ts',
  'src/doctor/types.ts',
  'src/profiles/expand.ts',
  'src/integrations/decide.ts',
  'src/integrations/types.ts',
  'src/profiles/schema.ts',
  'src/backends/*/render.ts',
  'src/backends/*/parse.ts',
  'src/backends/*/plan.ts',
  'src/backends/iptables/jumps.ts',
  'src/backends/nftables/json.ts',
  'src/backends/nftables/listing.ts',
  'src/backends/nftables/render-text.ts',
  'src/backends/transaction.ts',
  'src/backends/rule-diff.ts',
  'src/backends/types.ts',
  'src/backends/iptables/detect.ts',
  'src/backends/iptables/xtables-evidence.ts',
  'src/backends/fake/*.ts',
  'src/sysctl/plan.ts',
  'src/reconcile/drift.ts',
  'src/reconcile/causes.ts',
  'src/discovery/facts.ts',
  'src/discovery/proc-net.ts',
  'src/reconcile/bucket.ts',
  'src/reconcile/coalesce.ts',
  'src/reconcile/monitor-events.ts',
  'src/reconcile/state-format.ts',
  'src/reconcile/state-tracker.ts',
  'src/ownership.ts',
  'src/snippets/*.ts',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: pureFiles,
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: effectModules.map((name) => ({
            name,
            message: 'pure module: take effects through an injected interface instead',
          })),
        },
      ],
    },
  },
  {
    // bin/ is CommonJS (bin/package.json): the launcher starts without node's ES module loader.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', __filename: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Only the CLI decides the process exit status.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', '**/*.test.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'only src/cli/ exits' }],
    },
  },
);
