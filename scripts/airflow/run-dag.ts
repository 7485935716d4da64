// npm run airflow:run -- [--date D] [--timeout 900]
// Runs data_pipeline through Airflow's REST API, as `npm run demo` does: logs in, unpauses the DAG,
// triggers a run for the date, prints each task's state and duration as the scheduler moves it on, and
// exits 0 once the run succeeded (1 when it failed, with the failed task and the URL of its log).
import { Command } from 'commander';
import { parseDate, today } from '../../lib/config.ts';
import { positiveInt, runMain } from '../../lib/cli.ts';
import { AirflowClient, DAG_ID, followRun, localAirflowOptions, type TaskEvent } from './client.ts';

interface Flags {
  date?: string;
  timeout: number;
}

const program = new Command('airflow:run')
  .description(`Trigger a run of ${DAG_ID} for a date through Airflow's REST API and follow it to the end.`)
  .option('--date <YYYY-MM-DD>', 'the run date ({{ ds }}; env RUN_DATE, default today)')
  .option('--timeout <seconds>', 'give up after this long', positiveInt, 900)
  .addHelpText(
    'after',
    '\nEnvironment: AIRFLOW_URL (http://127.0.0.1:8080), AIRFLOW_ADMIN_USER, AIRFLOW_ADMIN_PASSWORD.',
  )
  .showHelpAfterError();

function say(message: string): void {
  process.stdout.write(`[airflow] ${message}\n`);
}

function describe(event: TaskEvent): string {
  const duration = event.duration === null ? '' : `  ${event.duration.toFixed(1)} s`;
  const attempt = event.tryNumber > 1 ? `  (try ${event.tryNumber})` : '';
  return `${event.taskId.padEnd(16)} ${event.state.padEnd(10)}${duration}${attempt}`.trimEnd();
}

async function main(): Promise<void> {
  const flags = program.parse().opts<Flags>();
  const date = parseDate(flags.date ?? (process.env.RUN_DATE || today()));
  const client = new AirflowClient(localAirflowOptions());
  const uiUrl = localAirflowOptions().url.replace('127.0.0.1', 'localhost');
  await client.login();
  if ((await client.dag()).is_paused) {
    say(`unpausing ${DAG_ID} (daily schedule, catchup off)`);
    await client.setPaused(false);
  }
  const started = Date.now();
  const run = await client.triggerRun(date, 'npm run demo');
  say(`triggered ${DAG_ID} run ${run.dag_run_id} for ${date} (state ${run.state})`);
  say(`watch it: ${uiUrl}/dags/${DAG_ID}/runs/${encodeURIComponent(run.dag_run_id)}`);
  const end = await followRun(
    client,
    run.dag_run_id,
    (event) => event.state !== 'none' && say(describe(event)),
    flags.timeout * 1000,
    (r) => say(`run ${r.state}`),
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (end.run.state !== 'success') {
    const failed = end.tasks.filter((t) => t.state !== 'success').map((t) => `${t.task_id} (${t.state})`);
    throw new Error(
      `run ${run.dag_run_id} ${end.run.state} after ${seconds} s: ${failed.join(', ')}; logs: ${uiUrl}/dags/${DAG_ID}/runs/${encodeURIComponent(run.dag_run_id)}`,
    );
  }
  const busy = end.tasks.reduce((sum, t) => sum + (t.duration ?? 0), 0);
  say(`run ${run.dag_run_id} succeeded in ${seconds} s (tasks ${busy.toFixed(1)} s, the rest is scheduling)`);
}

runMain('airflow:run', main);
