import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          // Starts (or reuses) moto, OpenSearch and the HEC receiver; fails the run naming any that cannot start.
          globalSetup: ['test/services/global-setup.ts'],
          setupFiles: ['test/integration/support/env.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          // Integration files share the real services; running them one at a time keeps a 2-core machine honest.
          fileParallelism: false,
        },
      },
    ],
  },
});
