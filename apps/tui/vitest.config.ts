import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file gets a temp folder of its own, cleaned when it ends; anything left fails it.
    setupFiles: ['@netchat/testkit/vitest-setup'],
    testTimeout: 30_000,
    // The JSON report is what .ci/run adds up into its "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: '.test-report.json' }]],
  },
});
