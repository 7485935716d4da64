// Every task CLI refuses a --date that is not a real calendar day, before touching Kafka or HDFS:
// exit 1 and one line naming the flag and the value.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLIS = ['producer', 'transform-hdfs', 'consumer', 'compute-cube'];

describe('--date of every task CLI', () => {
  it.each(CLIS)('%s rejects 2026-02-30 with one line and exit 1', (task) => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', `tasks/${task}/cli.ts`, '--date', '2026-02-30'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        // Unreachable services: a CLI that got past the date check would fail differently.
        env: {
          ...process.env,
          KAFKA_BROKERS: '127.0.0.1:1',
          HDFS_URL: 'http://127.0.0.1:1',
          PUSHGATEWAY_URL: '',
        },
        timeout: 30_000,
      },
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      `${task}: --date must be a calendar date YYYY-MM-DD, got "2026-02-30"`,
    ]);
  });
});
