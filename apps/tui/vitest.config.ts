import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    // A temporary folder of their own, checked for leftovers at the end (see the file).
    globalSetup: ['test/temporary-folder.ts'],
    // The JSON report is what .ci/run adds up into its "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: '.test-report.json' }]],
  },
});
