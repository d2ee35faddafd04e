import { defineConfig } from 'vitest/config';

// `make reliability`: the long reliability suite (docs/RELIABILITY.md) plus its CI-sized part in
// test/e2e/reliability-*. Real namespaces and kernels, so files run one at a time.
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts', 'test/e2e/reliability-*.test.ts'],
    environment: 'node',
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    testTimeout: 1_800_000,
    hookTimeout: 120_000,
  },
});
