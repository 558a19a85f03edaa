import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Live and tmux tests open real sockets and terminals; keep file-level parallelism modest.
    maxWorkers: 2,
  },
});
