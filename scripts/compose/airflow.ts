// Airflow 3's REST API as `npm run compose -- run-dag` uses it: a token from the admin login
// (POST /auth/token), unpause, trigger (or clear, for a date that already has a run), and a poll of
// the run that prints each task's state and duration as it changes.
import { log, setting, sleep, urls } from './compose.ts';

export const DAG_ID = 'data_pipeline';

export interface TaskInstance {
  task_id: string;
  state: string | null;
  try_number: number;
  duration: number | null;
  start_date: string | null;
  end_date: string | null;
}

export interface DagRunResult {
  runId: string;
  state: string;
  seconds: number;
  tasks: TaskInstance[];
}

export class AirflowClient {
  private token = '';

  constructor(
    readonly baseUrl = urls().airflow,
    readonly username = setting('AIRFLOW_ADMIN_USER', 'admin'),
    readonly password = setting('AIRFLOW_ADMIN_PASSWORD', 'admin'),
  ) {}

  /** POST /auth/token with a login; resolves to the HTTP status (201 on success) and keeps the token. */
  async login(username = this.username, password = this.password): Promise<number> {
    const res = await fetch(`${this.baseUrl}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (res.ok) this.token = ((await res.json()) as { access_token: string }).access_token;
    return res.status;
  }

  async request<T>(method: string, apiPath: string, body?: unknown): Promise<{ status: number; data: T }> {
    if (!this.token) {
      const status = await this.login();
      if (status >= 300) throw new Error(`Airflow login as ${this.username} answered ${status}`);
    }
    const res = await fetch(`${this.baseUrl}${apiPath}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let data: unknown = text;
    try {
      data = JSON.parse(text);
    } catch {
      // plain text (logs)
    }
    return { status: res.status, data: data as T };
  }

  async ok<T>(method: string, apiPath: string, body?: unknown): Promise<T> {
    const { status, data } = await this.request<T>(method, apiPath, body);
    if (status >= 300)
      throw new Error(`${method} ${apiPath} answered ${status}: ${JSON.stringify(data).slice(0, 400)}`);
    return data;
  }

  /** Waits until the DAG processor has parsed the DAG (its import errors fail at once). */
  async waitForDag(timeoutMs = 180_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { status } = await this.request('GET', `/api/v2/dags/${DAG_ID}`);
      if (status === 200) return;
      const errors = await this.ok<{ import_errors: { filename: string; stack_trace: string }[] }>(
        'GET',
        '/api/v2/importErrors',
      );
      if (errors.import_errors.length > 0)
        throw new Error(`the DAG does not import: ${errors.import_errors[0]!.stack_trace.slice(-800)}`);
      if (Date.now() > deadline)
        throw new Error(`Airflow has not parsed ${DAG_ID} within ${timeoutMs / 1000}s`);
      await sleep(2000);
    }
  }

  async tasks(runId: string): Promise<TaskInstance[]> {
    const data = await this.ok<{ task_instances: TaskInstance[] }>(
      'GET',
      `/api/v2/dags/${DAG_ID}/dagRuns/${encodeURIComponent(runId)}/taskInstances`,
    );
    return data.task_instances;
  }

  /** The text of one try's log (structured events joined as lines). */
  async taskLog(runId: string, taskId: string, tryNumber: number): Promise<string> {
    const data = await this.ok<{ content: unknown }>(
      'GET',
      `/api/v2/dags/${DAG_ID}/dagRuns/${encodeURIComponent(runId)}/taskInstances/${taskId}/logs/${tryNumber}?full_content=true`,
    );
    const content = data.content;
    if (typeof content === 'string') return content;
    if (Array.isArray(content))
      return content
        .map((e) => (typeof e === 'string' ? e : `${(e as { event?: string }).event ?? JSON.stringify(e)}`))
        .join('\n');
    return JSON.stringify(content);
  }

  /**
   * Unpauses the DAG and starts a run of `date`: a new run, or, when that date already has one, the
   * same run cleared so every task runs again.
   */
  async trigger(date: string): Promise<string> {
    await this.ok('PATCH', `/api/v2/dags/${DAG_ID}`, { is_paused: false });
    const logicalDate = `${date}T00:00:00Z`;
    const created = await this.request<{ dag_run_id: string }>('POST', `/api/v2/dags/${DAG_ID}/dagRuns`, {
      dag_run_id: `compose__${date}`,
      logical_date: logicalDate,
      conf: {},
    });
    if (created.status < 300) return created.data.dag_run_id;
    if (created.status !== 409)
      throw new Error(`trigger answered ${created.status}: ${JSON.stringify(created.data)}`);
    const runs = await this.ok<{ dag_runs: { dag_run_id: string }[] }>(
      'GET',
      `/api/v2/dags/${DAG_ID}/dagRuns?logical_date_gte=${encodeURIComponent(logicalDate)}&logical_date_lte=${encodeURIComponent(logicalDate)}`,
    );
    const runId = runs.dag_runs[0]?.dag_run_id;
    if (!runId) throw new Error(`a run of ${date} exists (409) but none is listed`);
    await this.ok('POST', `/api/v2/dags/${DAG_ID}/dagRuns/${encodeURIComponent(runId)}/clear`, {
      dry_run: false,
      only_failed: false,
    });
    log(`${date} already had run ${runId}: cleared it to run again`);
    return runId;
  }

  /**
   * Unpauses the DAG and waits for the run the scheduler then creates (catchup is off: the latest
   * daily interval) to end; resolves with that run's id and state.
   */
  async settleScheduledRun(
    timeoutMs = 10 * 60_000,
  ): Promise<{ runId: string; state: string; logicalDate: string }> {
    await this.ok('PATCH', `/api/v2/dags/${DAG_ID}`, { is_paused: false });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const runs = await this.ok<{
        dag_runs: { dag_run_id: string; run_type: string; state: string; logical_date: string }[];
      }>('GET', `/api/v2/dags/${DAG_ID}/dagRuns?run_type=scheduled`);
      const scheduled = runs.dag_runs[0];
      if (scheduled && (scheduled.state === 'success' || scheduled.state === 'failed'))
        return { runId: scheduled.dag_run_id, state: scheduled.state, logicalDate: scheduled.logical_date };
      if (Date.now() > deadline)
        throw new Error(
          `the scheduled run ${scheduled ? `is still ${scheduled.state}` : 'was not created'} after ${timeoutMs / 1000}s`,
        );
      await sleep(2000);
    }
  }

  /** Polls a run until it ends, printing each task's state change; resolves with the final states. */
  async waitForRun(runId: string, timeoutMs = 30 * 60_000): Promise<DagRunResult> {
    const started = Date.now();
    const seen = new Map<string, string>();
    for (;;) {
      const run = await this.ok<{ state: string }>(
        'GET',
        `/api/v2/dags/${DAG_ID}/dagRuns/${encodeURIComponent(runId)}`,
      );
      const tasks = await this.tasks(runId);
      for (const t of tasks) {
        const key = `${t.state}#${t.try_number}`;
        if (seen.get(t.task_id) === key) continue;
        seen.set(t.task_id, key);
        const duration = t.duration == null ? '' : ` ${t.duration.toFixed(1)}s`;
        log(
          `  ${t.task_id.padEnd(15)} ${String(t.state ?? 'none').padEnd(15)} try ${t.try_number}${duration}`,
        );
      }
      if (run.state === 'success' || run.state === 'failed')
        return { runId, state: run.state, seconds: (Date.now() - started) / 1000, tasks };
      if (Date.now() - started > timeoutMs)
        throw new Error(`run ${runId} still ${run.state} after ${timeoutMs / 1000}s`);
      await sleep(1000);
    }
  }
}

/** `run-dag`: trigger `date`, wait, print the task table; on failure name the task and its log's tail. */
export async function runDag(date: string, client = new AirflowClient()): Promise<DagRunResult> {
  await client.waitForDag();
  const runId = await client.trigger(date);
  log(`run ${runId} of ${DAG_ID} for ${date}:`);
  const result = await client.waitForRun(runId);
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
