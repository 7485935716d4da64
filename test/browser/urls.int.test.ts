// Every URL a user is told to open: those `npm run demo` prints (`--urls`), those `npm run stack --
// status` prints, and the README's; each opens in headless Chromium without an HTTP error, a console or
// page error, or a warning/error box. The API runs on the sample's cubes (api-server.ts); Airflow's pages
// are opened logged in (the login is one of the printed lines). URLs of services the local stack does not
// run (Grafana, compose-only ports) are listed as skipped.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { localAirflowOptions } from '../../scripts/airflow/client.ts';
import { ensureAirflow, REPO_DIR } from '../airflow/airflow-stack.ts';
import { useApi } from './api-server.ts';
import { checkPage, PROMETHEUS_STATES, useBrowser, watchedPage, type WatchedPage } from './browser.ts';

const API_PORT = 8000;
const AIRFLOW_PORT = 8080;
// Ports the local stack serves over HTTP: the API, Airflow, Prometheus, Pushgateway, NameNode, DataNode.
const LOCAL_HTTP_PORTS = new Set([API_PORT, AIRFLOW_PORT, 9090, 9091, 9870, 9864]);
const URL_RE = /https?:\/\/(?:localhost|127\.0\.0\.1):\d+[^\s`'")<>|]*/g;

function urlsIn(text: string): string[] {
  return [...new Set(text.match(URL_RE) ?? [])].map((u) => u.replace(/[.,;:]+$/, ''));
}

function printed(args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const out = spawnSync('bash', args, { cwd: REPO_DIR, env, encoding: 'utf8', timeout: 120_000 });
  return `${out.stdout ?? ''}\n${out.stderr ?? ''}`;
}

const SOURCES: Record<string, () => string> = {
  'npm run demo': () =>
    printed(['scripts/demo.sh', '--urls'], { ...process.env, API_PORT: String(API_PORT) }),
  'npm run stack -- status': () => printed(['scripts/stack/stack.sh', 'status']),
  'README.md': () => readFileSync(path.join(REPO_DIR, 'README.md'), 'utf8'),
};

beforeAll(async () => {
  await ensureAirflow();
}, 600_000);
const api = useApi();
const browser = useBrowser();
let airflowPage: WatchedPage | undefined;

/** The URL as this test run serves it: the API may run on another port when 8000 is taken. */
function served(url: string): string {
  const u = new URL(url);
  if (Number(u.port) === API_PORT) u.port = String(api().port);
  const prometheus = process.env.PROMETHEUS_URL;
  if (prometheus && u.port === '9090') u.port = new URL(prometheus).port;
  return u.toString();
}

/** One page per Airflow origin, logged in through the form (its unauthenticated 401 is not a problem). */
async function pageFor(url: URL): Promise<WatchedPage> {
  if (Number(url.port) !== AIRFLOW_PORT) return watchedPage(browser());
  if (!airflowPage) {
    airflowPage = await watchedPage(browser());
    const { username, password } = localAirflowOptions();
    await airflowPage.page.goto(`${url.origin}/`);
    await airflowPage.page.getByLabel(/username/i).fill(username);
    await airflowPage.page.getByLabel(/password/i).fill(password);
    await airflowPage.page.getByRole('button', { name: /sign in/i }).click();
    await airflowPage.page.waitForURL((u) => !u.pathname.startsWith('/auth'));
  }
  airflowPage.clear();
  return airflowPage;
}

/** Opens a URL; a download (the API's `format=csv`) counts as opened when it completes. Returns the status. */
async function open(watched: WatchedPage, url: string): Promise<number> {
  const download = watched.page.waitForEvent('download', { timeout: 10_000 }).catch(() => undefined);
  try {
    const res = await watched.page.goto(url, { waitUntil: 'load' });
    await watched.page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
    return res?.status() ?? 0;
  } catch (err) {
    if (!String(err).includes('Download is starting')) throw err;
    const file = await download;
    const failure = file ? await file.failure() : 'no download event';
    if (failure) return 599;
    // A navigation that turns into a download is reported as aborted: that is the download, not an error.
    const aborted = watched.problems.findIndex(
      (p) => p.startsWith(`request failed: ${url}`) && p.includes('ERR_ABORTED'),
    );
    if (aborted >= 0) watched.problems.splice(aborted, 1);
    return 200;
  }
}

function slug(url: string): string {
  const u = new URL(url);
  return `url-${u.port}${u.pathname}${u.search}`.replace(/[^a-zA-Z0-9]+/g, '-').replace(/-+$/, '');
}

for (const [source, read] of Object.entries(SOURCES)) {
  describe(`URLs printed by ${source}`, () => {
    it('opens each one without an error', async () => {
      const urls = urlsIn(read());
      expect(urls.length, `${source} prints no URL`).toBeGreaterThan(0);
      const skipped = urls.filter((u) => !LOCAL_HTTP_PORTS.has(Number(new URL(u).port)));
      if (skipped.length)
        console.log(`${source}: not served by the local stack, skipped: ${skipped.join(' ')}`);
      const failures: string[] = [];
      for (const url of urls.filter((u) => !skipped.includes(u))) {
        const target = new URL(served(url));
        const watched = await pageFor(target);
        const status = await open(watched, target.toString());
        if (status >= 400) failures.push(`${url}: HTTP ${status}`);
        const problems = await checkPage(watched, slug(url), PROMETHEUS_STATES);
        failures.push(...problems.map((p) => `${url}: ${p}`));
        if (watched !== airflowPage) await watched.page.context().close();
      }
      expect(failures).toEqual([]);
    }, 300_000);
  });
}
