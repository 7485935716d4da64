// The Airflow UI as a user sees it, in headless Chromium: log in with the admin login, find
// data_pipeline in the DAG list, trigger it from its page, then see the run and its four tasks succeed.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DAG_ID,
  followRun,
  TASK_IDS,
  waitFor,
  type AirflowClient,
  type DagRun,
} from '../../scripts/airflow/client.ts';
import { ensureAirflow } from '../airflow/airflow-stack.ts';
import { checkPage, useBrowser, watchedPage, type WatchedPage } from './browser.ts';

const UI = 'http://localhost:8080';
const RUN_TIMEOUT_MS = 600_000;

let client: AirflowClient;

beforeAll(async () => {
  client = await ensureAirflow();
}, RUN_TIMEOUT_MS);
const browser = useBrowser();

/** Logs in through the login form; the UI's unauthenticated first request (a 401) is not a problem. */
async function logIn(watched: WatchedPage): Promise<void> {
  const { page } = watched;
  await page.goto(`${UI}/`);
  await page.getByLabel(/username/i).fill(client.options.username);
  await page.getByLabel(/password/i).fill(client.options.password);
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/auth'));
  watched.clear();
}

describe('Airflow UI', () => {
  it(
    'logs in, finds data_pipeline, triggers it and shows the run and its four tasks succeeding',
    async () => {
      const watched = await watchedPage(browser());
      const { page } = watched;
      await logIn(watched);
      expect(await checkPage(watched, 'airflow-home')).toEqual([]);

      await page.goto(`${UI}/dags`);
      const link = page.getByRole('link', { name: DAG_ID, exact: true }).first();
      await link.waitFor();
      await link.click();
      await page.waitForURL(`${UI}/dags/${DAG_ID}`);
      await page.getByText('compute_cube').first().waitFor();
      expect(await checkPage(watched, 'airflow-dag')).toEqual([]);

      const before = new Set((await client.dagRuns()).map((r) => r.dag_run_id));
      await page.getByRole('button', { name: 'Trigger Dag' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText('Single Run', { exact: true }).waitFor();
      expect(await checkPage(watched, 'airflow-trigger-dialog')).toEqual([]);
      await dialog.getByRole('button', { name: 'Trigger', exact: true }).click();
      await dialog.waitFor({ state: 'hidden' });

      const run = await waitFor<DagRun>(
        'the run triggered from the UI',
        async () =>
          (await client.dagRuns()).find((r) => !before.has(r.dag_run_id) && r.run_type === 'manual'),
        30_000,
      );
      const runUrl = `${UI}/dags/${DAG_ID}/runs/${encodeURIComponent(run.dag_run_id)}`;
      await page.goto(runUrl);
      await page.getByText(run.dag_run_id).first().waitFor();
      expect(await checkPage(watched, 'airflow-run-started')).toEqual([]);
      const end = await followRun(client, run.dag_run_id, () => {}, RUN_TIMEOUT_MS);
      expect(end.run.state).toBe('success');

      await page.goto(runUrl);
      await page.getByText('Success', { exact: true }).first().waitFor();
      for (const taskId of TASK_IDS) {
        const row = page.locator('tr', { hasText: taskId });
        await expect.poll(async () => row.innerText(), { timeout: 30_000 }).toContain('Success');
      }
      expect(await checkPage(watched, 'airflow-run-success')).toEqual([]);
      await watched.page.context().close();
    },
    RUN_TIMEOUT_MS + 120_000,
  );
});
