// data_pipeline run by Airflow itself: the local stack's scheduler, LocalExecutor and DAG processor (not
// `airflow dags test`), with the real tasks against the real stack, writing the demo's own cube db.
//   - unpaused with catchup off, the scheduler created the run of the latest daily interval and ran it;
//   - a run triggered over the REST API is picked up by the scheduler and its four tasks succeed;
//   - a task that fails once is retried by the scheduler and the run ends green.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  followRun,
  TASK_IDS,
  waitFor,
  type AirflowClient,
  type DagRun,
  type TaskInstance,
} from '../../scripts/airflow/client.ts';
import { ensureAirflow, REPO_DIR } from './airflow-stack.ts';

const RUN_TIMEOUT_MS = 600_000;
// The tasks run with the Airflow processes' environment: the default VAR_DIR of the repository.
const CUBE_DB = path.join(REPO_DIR, 'var', 'cube_analytics.db');

let client: AirflowClient;
let work: string;

beforeAll(async () => {
  client = await ensureAirflow();
  work = mkdtempSync(path.join(os.tmpdir(), 'airflow-scheduler-test-'));
}, RUN_TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function durations(tasks: TaskInstance[]): string {
  return TASK_IDS.map((id) => {
    const ti = tasks.find((t) => t.task_id === id);
    return `${id} ${ti?.duration?.toFixed(1) ?? '?'} s (try ${ti?.try_number ?? '?'})`;
  }).join(', ');
}

async function runToEnd(run: DagRun): Promise<{ run: DagRun; tasks: TaskInstance[] }> {
  const started = Date.now();
  const end = await followRun(client, run.dag_run_id, () => {}, RUN_TIMEOUT_MS);
  console.log(
    `${run.dag_run_id}: ${end.run.state} in ${((Date.now() - started) / 1000).toFixed(1)} s; ${durations(end.tasks)}`,
  );
  return end;
}

function cubeDates(): string[] {
  const db = new Database(CUBE_DB, { readonly: true });
  try {
    return (db.prepare('select distinct date from cube_income').all() as { date: string }[]).map(
      (r) => r.date,
    );
  } finally {
    db.close();
  }
}

describe('data_pipeline run by the scheduler', () => {
  it(
    'unpaused with catchup off, runs the latest daily interval on its own',
    async () => {
      if ((await client.dag()).is_paused) await client.setPaused(false);
      // @daily in Airflow 3 is a cron trigger: the latest interval's run has today's midnight as logical date.
      const midnight = `${new Date().toISOString().slice(0, 10)}T00:00:00Z`;
      const scheduled = await waitFor(
        `the scheduler to create the run of ${midnight}`,
        async () =>
          (await client.dagRuns()).find(
            (r) =>
              r.run_type === 'scheduled' &&
              r.logical_date &&
              Date.parse(r.logical_date) === Date.parse(midnight),
          ),
        120_000,
      );
      const end = await runToEnd(scheduled);
      expect(end.run.state).toBe('success');
      expect(end.tasks.map((t) => [t.task_id, t.state]).sort()).toEqual(
        TASK_IDS.map((id) => [id, 'success']).sort(),
      );
    },
    RUN_TIMEOUT_MS + 150_000,
  );

  it(
    'picks up a run triggered over the REST API and runs the four tasks to success',
    async () => {
      const date = '2026-01-22';
      const run = await client.triggerRun(date, 'scheduler.int.test.ts');
      expect(run.run_type).toBe('manual');
      const end = await runToEnd(run);
      expect(end.run.state).toBe('success');
      for (const id of TASK_IDS) {
        expect(
          end.tasks.find((t) => t.task_id === id),
          id,
        ).toMatchObject({ state: 'success', try_number: 1 });
      }
      expect(existsSync(CUBE_DB)).toBe(true);
      expect(cubeDates()).toContain(date);
    },
    RUN_TIMEOUT_MS + 30_000,
  );

  it(
    'retries a task that fails once, and the run ends green',
    async () => {
      const marker = path.join(work, 'compute-cube-failed-once');
      // The DAG resolves its runner at run time from this Variable: fail_once.sh fails compute-cube's first
      // try (leaving the marker) and runs every other call as `npm run --silent`.
      const runner = `FAIL_ONCE_SCRIPT=compute-cube FAIL_ONCE_MARKER=${marker} bash ${path.join(REPO_DIR, 'test/dags/fail_once.sh')}`;
      await client.setVariable('PIPELINE_LOCAL_RUNNER', runner);
      try {
        const run = await client.triggerRun('2026-01-23', 'scheduler.int.test.ts: retry');
        const end = await runToEnd(run);
        expect(existsSync(marker), 'compute_cube was never made to fail').toBe(true);
        expect(end.run.state).toBe('success');
        for (const id of TASK_IDS.slice(0, -1)) {
          expect(
            end.tasks.find((t) => t.task_id === id),
            id,
          ).toMatchObject({ state: 'success', try_number: 1 });
        }
        expect(end.tasks.find((t) => t.task_id === 'compute_cube')).toMatchObject({
          state: 'success',
          try_number: 2,
        });
        const tries = await client.tries(run.dag_run_id, 'compute_cube');
        expect(tries.map((t) => [t.try_number, t.state])).toEqual([
          [1, 'failed'],
          [2, 'success'],
        ]);
      } finally {
        await client.deleteVariable('PIPELINE_LOCAL_RUNNER');
      }
    },
    RUN_TIMEOUT_MS + 30_000,
  );
});
