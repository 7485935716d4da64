import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure logic and needs nothing running; `integration` talks to the real
// stack (Kafka, HDFS, SQLite files, Airflow) found by test/setup/stack.ts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{lib,tasks,api,scripts,test,bench}/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', 'node_modules/**', 'var/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['{lib,tasks,api,scripts,test,bench}/**/*.int.test.ts'],
          exclude: ['node_modules/**', 'var/**'],
          globalSetup: ['test/setup/stack.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
