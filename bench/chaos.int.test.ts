// CI form of the chaos suite: `npm run chaos -- --short` against the real stack (consumer SIGKILLs,
// broker restarts mid-produce and mid-consume, a producer SIGKILL and re-run, NameNode restart
// mid-transform) must exit 0: nothing lost, nothing duplicated, the joined file never partial.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Restarting a service needs the pid files of the local stack script; against containers it cannot.
const runDir = path.join(process.env.STACK_DIR ?? 'var/stack', 'run');
const localStack =
  fs.existsSync(path.join(runDir, 'kafka.pid')) && fs.existsSync(path.join(runDir, 'namenode.pid'));

describe('chaos --short', () => {
  it.skipIf(!localStack)(
    'survives every fault without loss or duplication',
    () => {
      const run = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'bench/chaos.ts', '--short', '--seed', '20261128'],
        {
          cwd: process.cwd(),
          encoding: 'utf8',
          timeout: 420_000,
        },
      );
      const output = `${run.stdout}\n${run.stderr}`;
      expect(run.error, output).toBeUndefined();
      expect(output).toContain('| fault');
      expect(run.status, output).toBe(0);
    },
    430_000,
  );
});
