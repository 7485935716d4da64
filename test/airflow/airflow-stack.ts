// The local stack's Airflow for the tests that need it, started at most once per test run: the first
// caller runs `npm run stack -- up` (idempotent: it starts only what does not answer) when Airflow's
// health endpoint does not report every component healthy; later callers find it answering.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AirflowClient, localAirflowOptions } from '../../scripts/airflow/client.ts';

export const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const COMPONENTS = ['metadatabase', 'scheduler', 'dag_processor', 'triggerer'];

async function unhealthy(client: AirflowClient): Promise<string | undefined> {
  try {
    const health = await client.health();
    const down = COMPONENTS.filter((c) => health[c]?.status !== 'healthy');
    return down.length ? `not healthy: ${down.join(', ')}` : undefined;
  } catch (err) {
    return String(err);
  }
}

/** A logged-in client of a healthy Airflow; starts the stack when needed (about a minute). */
export async function ensureAirflow(): Promise<AirflowClient> {
  const client = new AirflowClient(localAirflowOptions());
  const problem = await unhealthy(client);
  if (problem) {
    console.log(`airflow tests: Airflow ${problem}; running \`npm run stack -- up\``);
    const up = spawnSync('bash', [path.join(REPO_DIR, 'scripts/stack/stack.sh'), 'up'], {
      cwd: REPO_DIR,
      stdio: ['ignore', 'inherit', 'pipe'],
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (up.status !== 0) {
      throw new Error(
        `npm run stack -- up failed: ${(up.stderr ?? '').trim().split('\n').pop() ?? up.error?.message}`,
      );
    }
    const still = await unhealthy(client);
    if (still) throw new Error(`Airflow after stack up: ${still}`);
  }
  await client.login();
  return client;
}
