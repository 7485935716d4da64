// Airflow 3's REST API as `npm run compose -- run-dag` uses it (through scripts/airflow/client.ts): the
// admin login of the compose settings, unpause, trigger (or clear, for a date that already has a run),
// and a poll of the run that prints each task's state and duration as it changes.
import {
  AirflowClient,
  DAG_ID,
  followRun,
  waitFor,
  type AirflowOptions,
  type TaskInstance,
} from '../airflow/client.ts';
import { log, setting, urls } from './compose.ts';

export interface DagRunResult {
  runId: string;
  state: string;
  seconds: number;
  tasks: TaskInstance[];
}

/** The compose stack's Airflow and admin login (the process environment, then .env or .env.example). */
export function composeAirflowOptions(): AirflowOptions {
  return {
    url: urls().airflow,
    username: setting('AIRFLOW_ADMIN_USER', 'admin'),
    password: setting('AIRFLOW_ADMIN_PASSWORD', 'admin'),
  };
}

/** A client of the compose stack's Airflow, logged in. */
export async function composeAirflow(): Promise<AirflowClient> {
  const client = new AirflowClient(composeAirflowOptions());
  await client.login();
  return client;
}

/**
 * Unpauses the DAG and starts a run of `date`: a new run, or, when that date already has one, the
 * same run cleared so every task runs again.
 */
export async function trigger(client: AirflowClient, date: string): Promise<string> {
  await client.setPaused(false);
  const logicalDate = `${date}T00:00:00Z`;
  const created = await client.request<{ dag_run_id: string }>('POST', `/api/v2/dags/${DAG_ID}/dagRuns`, {
    dag_run_id: `compose__${date}`,
    logical_date: logicalDate,
    conf: {},
  });
  if (created.status < 300) return created.data.dag_run_id;
  if (created.status !== 409)
    throw new Error(`trigger answered ${created.status}: ${JSON.stringify(created.data)}`);
  const runs = await client.dagRuns({ logical_date_gte: logicalDate, logical_date_lte: logicalDate });
  const runId = runs[0]?.dag_run_id;
  if (!runId) throw new Error(`a run of ${date} exists (409) but none is listed`);
  await client.clearRun(runId);
  log(`${date} already had run ${runId}: cleared it to run again`);
  return runId;
}

/**
 * Unpauses the DAG and waits for the run the scheduler then creates (catchup is off: the latest
 * daily interval) to end; resolves with that run's id and state.
 */
export async function settleScheduledRun(
  client: AirflowClient,
  timeoutMs = 10 * 60_000,
): Promise<{ runId: string; state: string; logicalDate: string }> {
  await client.setPaused(false);
  let latest = 'was not created';
  return waitFor(
    () => `the scheduled run to end (it ${latest})`,
    async () => {
      const scheduled = (await client.dagRuns({ run_type: 'scheduled' }))[0];
      if (scheduled) latest = `is ${scheduled.state}`;
      if (scheduled && (scheduled.state === 'success' || scheduled.state === 'failed'))
        return {
          runId: scheduled.dag_run_id,
          state: scheduled.state,
          logicalDate: scheduled.logical_date ?? '',
        };
      return undefined;
    },
    timeoutMs,
    2000,
  );
}

/** Polls a run until it ends, printing each task's state change; resolves with the final states. */
export async function waitForRun(
  client: AirflowClient,
  runId: string,
  timeoutMs = 30 * 60_000,
): Promise<DagRunResult> {
  const started = Date.now();
  const { run, tasks } = await followRun(
    client,
    runId,
    (t) => {
      const duration = t.duration == null ? '' : ` ${t.duration.toFixed(1)}s`;
      log(`  ${t.taskId.padEnd(15)} ${t.state.padEnd(15)} try ${t.tryNumber}${duration}`);
    },
    timeoutMs,
  );
  return { runId, state: run.state, seconds: (Date.now() - started) / 1000, tasks };
}

/** `run-dag`: trigger `date`, wait, print the task table; on failure name the task and its log's tail. */
export async function runDag(date: string, client?: AirflowClient): Promise<DagRunResult> {
  client ??= await composeAirflow();
  await client.waitForDag();
  const runId = await trigger(client, date);
  log(`run ${runId} of ${DAG_ID} for ${date}:`);
  const result = await waitForRun(client, runId);
  const table = result.tasks
    .map(
      (t) =>
        `  ${t.task_id.padEnd(15)} ${String(t.state).padEnd(8)} ${t.duration?.toFixed(1) ?? '-'} s (try ${t.try_number})`,
    )
    .join('\n');
  log(`run ${runId}: ${result.state} in ${result.seconds.toFixed(0)} s\n${table}`);
  if (result.state !== 'success') {
    const failed =
      result.tasks.find((t) => t.state === 'failed' || t.state === 'upstream_failed') ?? result.tasks[0];
    if (failed) {
      const text = await client
        .taskLog(runId, failed.task_id, Math.max(1, failed.try_number))
        .catch((e: Error) => e.message);
      log(`task ${failed.task_id} failed; last lines of its log:\n${text.split('\n').slice(-30).join('\n')}`);
      throw new Error(`run ${runId} failed at task ${failed.task_id}`);
    }
    throw new Error(`run ${runId} ended ${result.state}`);
  }
  return result;
}
