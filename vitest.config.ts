import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Worker threads, child daemons and SQLite files: real parts take real time.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
