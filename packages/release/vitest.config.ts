import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Test against core's source, so this package tests on its own without a build first.
  resolve: { alias: { '@netchat/core': fileURLToPath(new URL('../core/src/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    // The JSON report is what .ci/run adds up into its "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: '.test-report.json' }]],
  },
});
