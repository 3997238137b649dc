import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    // A temp folder of their own, which must be empty when they end (nothing left behind).
    globalSetup: ['test/support/temp-folder-guard.ts'],
    // The JSON report is what .ci/run adds up into its "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: '.test-report.json' }]],
  },
});
