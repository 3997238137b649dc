import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Test against core's source, so this package tests on its own without a build first (each
  // entry exactly: a plain prefix would send the testkit's `@netchat/core/testing` into index.ts).
  resolve: {
    alias: [
      { find: /^@netchat\/core$/, replacement: fileURLToPath(new URL('../core/src/index.ts', import.meta.url)) },
      {
        find: /^@netchat\/core\/testing$/,
        replacement: fileURLToPath(new URL('../core/src/testing/index.ts', import.meta.url)),
      },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file gets a temp folder of its own, cleaned when it ends; anything left fails it.
    setupFiles: ['@netchat/testkit/vitest-setup'],
    testTimeout: 30_000,
    // The JSON report is what .ci/run adds up into its "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: '.test-report.json' }]],
  },
});
