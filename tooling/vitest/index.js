// Shared vitest settings: tests sit beside the code (*.test.ts) and under test/.
import { defineConfig } from 'vitest/config';

export function cofferVitest(overrides = {}) {
  return defineConfig({
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      pool: 'forks',
      // The JSON report feeds the repository-wide "N passed, N failed" line (scripts/test.mjs).
      reporters: ['default', 'json'],
      outputFile: { json: 'test-results.json' },
      ...overrides,
    },
  });
}
