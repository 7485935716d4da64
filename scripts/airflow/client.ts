// A small client of Airflow 3's REST API (v2) for the demo, `npm run compose` and the tests: a JWT from
// POST /auth/token with the admin login, then the few calls the pipeline needs (DAG pause state and
// parsing, DAG runs, task instances and their logs, Variables). Errors carry the method, URL, status and
// Airflow's `detail`.

export const DAG_ID = 'data_pipeline';
export const TASK_IDS = ['start_producer', 'transform_hdfs', 'start_consumer', 'compute_cube'] as const;
export const TERMINAL_RUN_STATES = ['success', 'failed'] as const;

export interface AirflowOptions {
  url: string;
  username: string;
  password: string;
}

/** The local stack's Airflow, with the login of the environment (.env.example's defaults). */
export function localAirflowOptions(env: NodeJS.ProcessEnv = process.env): AirflowOptions {
  return {
    url: (env.AIRFLOW_URL || 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    username: env.AIRFLOW_ADMIN_USER || 'admin',
    password: env.AIRFLOW_ADMIN_PASSWORD || 'admin',
  };
}

export interface DagRun {
  dag_run_id: string;
  logical_date: string | null;
  run_type: string;
  state: string;
  start_date: string | null;
  end_date: string | null;
}

export interface TaskInstance {
  task_id: string;
  state: string | null;
  try_number: number;
  duration: number | null;
  start_date: string | null;
  end_date: string | null;
}

export class AirflowError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'AirflowError';
  }
}

export class AirflowClient {
  private token: string | undefined;

  constructor(readonly options: AirflowOptions) {}

  /** Logs in (POST /auth/token) and keeps the JWT for the next calls. */
  async login(): Promise<void> {
    const res = await this.fetch('POST', '/auth/token', {
      username: this.options.username,
      password: this.options.password,
    });
    this.token = ((await res.json()) as { access_token: string }).access_token;
  }

  /** POST /auth/token with a login, which may be wrong: the HTTP status; a success keeps the JWT. */
  async tryLogin(username = this.options.username, password = this.options.password): Promise<number> {
    const res = await this.send('POST', '/auth/token', { username, password });
    if (res.ok) this.token = ((await res.json()) as { access_token: string }).access_token;
    return res.status;
  }

  async health(): Promise<Record<string, { status: string | null }>> {
    return (await this.fetch('GET', '/api/v2/monitor/health')).json() as Promise<
      Record<string, { status: string | null }>
    >;
  }

  async dag(dagId = DAG_ID): Promise<{ dag_id: string; is_paused: boolean }> {
    return this.json('GET', `/api/v2/dags/${dagId}`);
  }

  async setPaused(paused: boolean, dagId = DAG_ID): Promise<void> {
    await this.json('PATCH', `/api/v2/dags/${dagId}`, { is_paused: paused });
  }

  /** Waits until the DAG processor has parsed the DAG; an import error (of any DAG file) fails at once. */
  async waitForDag(timeoutMs = 180_000, dagId = DAG_ID): Promise<void> {
    await waitFor(
      `Airflow to parse ${dagId}`,
      async () => {
        if ((await this.fetch('GET', `/api/v2/dags/${dagId}`, undefined, [404])).ok) return true;
        const body = await this.json<{ import_errors: { stack_trace: string }[] }>(
          'GET',
          '/api/v2/importErrors',
        );
        const error = body.import_errors[0];
        if (error) throw new AirflowError(`the DAG does not import: ${error.stack_trace.slice(-800)}`);
        return undefined;
      },
      timeoutMs,
      2000,
    );
  }

  /**
   * Triggers a run whose `ds` is `date`: the logical date is that day at the current UTC time of day, so
   * every trigger of a date gets its own run (Airflow keeps one run per logical date), as the UI does.
   */
  async triggerRun(date: string, note?: string, dagId = DAG_ID): Promise<DagRun> {
    const time = new Date().toISOString().slice(10);
    return this.json('POST', `/api/v2/dags/${dagId}/dagRuns`, {
      logical_date: `${date}${time}`,
      ...(note ? { note } : {}),
    });
  }

  async dagRun(runId: string, dagId = DAG_ID): Promise<DagRun> {
    return this.json('GET', `/api/v2/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}`);
  }

  /** The DAG's runs matching `query` (Airflow's list parameters); by default the last 100 started. */
  async dagRuns(
    query: Record<string, string> = { order_by: '-start_date', limit: '100' },
    dagId = DAG_ID,
  ): Promise<DagRun[]> {
    const body = await this.json<{ dag_runs: DagRun[] }>(
      'GET',
      `/api/v2/dags/${dagId}/dagRuns?${new URLSearchParams(query)}`,
    );
    return body.dag_runs;
  }

  /** Clears every task instance of a run, so the scheduler runs them all again. */
  async clearRun(runId: string, dagId = DAG_ID): Promise<void> {
    await this.json('POST', `/api/v2/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}/clear`, {
      dry_run: false,
      only_failed: false,
    });
  }

  async taskInstances(runId: string, dagId = DAG_ID): Promise<TaskInstance[]> {
    const body = await this.json<{ task_instances: TaskInstance[] }>(
      'GET',
      `/api/v2/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}/taskInstances`,
    );
    return body.task_instances;
  }

  /** Every try of one task instance (the retries), oldest first. */
  async tries(runId: string, taskId: string, dagId = DAG_ID): Promise<TaskInstance[]> {
    const body = await this.json<{ task_instances: TaskInstance[] }>(
      'GET',
      `/api/v2/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}/taskInstances/${taskId}/tries`,
    );
    return body.task_instances;
  }

  /** The text of one try's log (structured events joined as lines). */
  async taskLog(runId: string, taskId: string, tryNumber: number, dagId = DAG_ID): Promise<string> {
    const { content } = await this.json<{ content: unknown }>(
      'GET',
      `/api/v2/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}/taskInstances/${taskId}/logs/${tryNumber}?full_content=true`,
    );
    if (typeof content === 'string') return content;
    if (Array.isArray(content))
      return content
        .map((e) => (typeof e === 'string' ? e : ((e as { event?: string }).event ?? JSON.stringify(e))))
        .join('\n');
    return JSON.stringify(content);
  }

  async setVariable(key: string, value: string): Promise<void> {
    const path = `/api/v2/variables/${encodeURIComponent(key)}`;
    const res = await this.fetch('PATCH', path, { key, value }, [404]);
    if (res.status === 404) await this.json('POST', '/api/v2/variables', { key, value });
  }

  async deleteVariable(key: string): Promise<void> {
    await this.fetch('DELETE', `/api/v2/variables/${encodeURIComponent(key)}`, undefined, [404]);
  }

  /**
   * A call whose HTTP status the caller handles (a 409 on a trigger, say): the status and the body, parsed
   * when it is JSON. Throws only when Airflow does not answer.
   */
  async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; data: T }> {
    const res = await this.send(method, path, body);
    const text = await res.text();
    let data: unknown = text;
    try {
      data = JSON.parse(text);
    } catch {
      // plain text
    }
    return { status: res.status, data: data as T };
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.fetch(method, path, body)).json() as Promise<T>;
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.options.url}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new AirflowError(
        `Airflow does not answer at ${this.options.url} (${method} ${path}): ${String(err)}`,
      );
    }
  }

  private async fetch(
    method: string,
    path: string,
    body?: unknown,
    allowed: number[] = [],
  ): Promise<Response> {
    const url = `${this.options.url}${path}`;
    const res = await this.send(method, path, body);
    if (!res.ok && !allowed.includes(res.status)) {
      const text = await res.text();
      let detail = text;
      try {
        detail = JSON.stringify((JSON.parse(text) as { detail?: unknown }).detail ?? text);
      } catch {
        // not JSON: keep the text
      }
      throw new AirflowError(`${method} ${url}: HTTP ${res.status} ${detail.slice(0, 300)}`, res.status);
    }
    return res;
  }
}

/**
 * Polls `probe` every `intervalMs` until it returns a value other than undefined, or throws on timeout
 * naming `what` (a function when the message should say the last state seen).
 */
export async function waitFor<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      const subject = typeof what === 'string' ? what : what();
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${subject}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export type TaskEvent = { taskId: string; state: string; tryNumber: number; duration: number | null };

/**
 * Follows a run until it ends: calls `onRun` when the run's state changes and `onTask` for every task
 * whose state or try changed since the last poll; returns the run's final state with its task instances.
 */
export async function followRun(
  client: AirflowClient,
  runId: string,
  onTask: (event: TaskEvent) => void,
  timeoutMs: number,
  onRun: (run: DagRun) => void = () => {},
): Promise<{ run: DagRun; tasks: TaskInstance[] }> {
  const seen = new Map<string, string>();
  let runState = '';
  return waitFor(
    `DAG run ${runId} to end`,
    async () => {
      const run = await client.dagRun(runId);
      if (run.state !== runState) {
        runState = run.state;
        onRun(run);
      }
      const tasks = await client.taskInstances(runId);
      for (const ti of tasks) {
        const state = ti.state ?? 'none';
        const key = `${state}#${ti.try_number}`;
        if (seen.get(ti.task_id) === key) continue;
        seen.set(ti.task_id, key);
        onTask({ taskId: ti.task_id, state, tryNumber: ti.try_number, duration: ti.duration });
      }
      return (TERMINAL_RUN_STATES as readonly string[]).includes(run.state) ? { run, tasks } : undefined;
    },
    timeoutMs,
  );
}
