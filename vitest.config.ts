import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'native/**/*.test.ts', 'resolvers/**/*.test.ts', 'test/**/*.test.ts'],
    // Namespaces belong to threads: run each file in its own process.
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
