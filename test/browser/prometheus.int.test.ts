// Prometheus' pages (Debian's 2.42: the classic UI under /classic/) in headless Chromium: with the API
// and the followers (`consumer --follow`, `compute-cube --follow`) running, the targets page shows every
// scrape target up, and the alerts page lists every rule of prometheus/alerts.yml.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_DIR } from '../airflow/airflow-stack.ts';
import { useApi } from './api-server.ts';
import { checkPage, PROMETHEUS_STATES, useBrowser, watchedPage } from './browser.ts';

// PROMETHEUS_URL: another Prometheus of the same configuration (e.g. one started by hand to try a change).
const PROMETHEUS = (process.env.PROMETHEUS_URL || 'http://localhost:9090').replace(/\/+$/, '');
const CONSUMER_METRICS_PORT = 9464;
const CUBE_METRICS_PORT = 9465;

const followers: ChildProcess[] = [];
let followerDir: string;
const topic = `e2e.browser.${process.pid}`;

function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** A follower task on its metrics port, in a var dir and on a topic of its own, unless one runs there. */
async function startFollower(cli: string, port: number): Promise<void> {
  if (await portTaken(port)) return;
  followers.push(
    spawn(process.execPath, ['--import', 'tsx', cli, '--follow'], {
      cwd: REPO_DIR,
      env: {
        ...process.env,
        KAFKA_TOPIC: topic,
        KAFKA_DLQ_TOPIC: `${topic}.dlq`,
        KAFKA_GROUP_ID: `e2e-browser-${process.pid}`,
        VAR_DIR: followerDir,
        METRICS_PORT: String(port),
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    }),
  );
}

// The API runs for the file as one of Prometheus' scrape targets.
useApi();
beforeAll(async () => {
  followerDir = mkdtempSync(path.join(os.tmpdir(), 'browser-followers-'));
  await startFollower('tasks/consumer/cli.ts', CONSUMER_METRICS_PORT);
  await startFollower('tasks/compute-cube/cli.ts', CUBE_METRICS_PORT);
}, 120_000);

afterAll(async () => {
  for (const follower of followers.filter((f) => f.exitCode === null)) {
    const exited = new Promise((resolve) => follower.once('exit', resolve));
    follower.kill('SIGTERM');
    await exited;
  }
  if (followers.length) {
    spawnSync(process.execPath, ['--import', 'tsx', 'test/e2e/delete-topics.ts', topic, `${topic}.dlq`], {
      cwd: REPO_DIR,
      stdio: 'ignore',
      timeout: 60_000,
    });
  }
  if (followerDir) rmSync(followerDir, { recursive: true, force: true });
});
const browser = useBrowser();

describe('Prometheus (classic UI)', () => {
  it('targets page: every target is up', async () => {
    const watched = await watchedPage(browser());
    const { page } = watched;
    const states = async () => {
      await page.goto(`${PROMETHEUS}/classic/targets`);
      return page.locator('td.state .state_indicator').allInnerTexts();
    };
    // Prometheus scrapes every 5 s: the API and the consumer just started.
    await expect
      .poll(async () => (await states()).map((s) => s.trim().toLowerCase()).join(' '), {
        timeout: 60_000,
        interval: 2000,
      })
      .toMatch(/^up( up)*$/);
    const pools = await page.locator('h2').allInnerTexts();
    const config = parse(readFileSync(path.join(REPO_DIR, 'scripts/stack/prometheus.local.yml'), 'utf8')) as {
      scrape_configs: { job_name: string }[];
    };
    for (const job of config.scrape_configs.map((c) => c.job_name)) {
      expect(pools.join('\n'), `scrape pool ${job}`).toContain(job);
    }
    expect(await checkPage(watched, 'prometheus-targets', PROMETHEUS_STATES)).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('alerts page: lists every rule of prometheus/alerts.yml', async () => {
    const rules = (
      parse(readFileSync(path.join(REPO_DIR, 'prometheus/alerts.yml'), 'utf8')) as {
        groups: { rules: { alert?: string }[] }[];
      }
    ).groups
      .flatMap((g) => g.rules.map((r) => r.alert))
      .filter((name): name is string => !!name);
    expect(rules.length).toBeGreaterThan(0);

    const watched = await watchedPage(browser());
    const { page } = watched;
    await page.goto(`${PROMETHEUS}/classic/alerts`);
    const headers = await page.locator('tr.alert_header').allInnerTexts();
    const listed = headers.map((h) => h.trim().split(/\s+/)[0]);
    expect(listed.sort()).toEqual(expect.arrayContaining(rules.sort()));
    console.log(`alert states: ${headers.map((h) => h.trim().replace(/\s+/g, ' ')).join('; ')}`);
    expect(await checkPage(watched, 'prometheus-alerts', PROMETHEUS_STATES)).toEqual([]);
    await page.context().close();
  });
});
