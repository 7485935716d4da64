// npm run compose -- up | run-dag --date D | test [--date D] | down [--volumes]
// The whole system in containers (docker-compose.yml): builds the images here (every one but Grafana's,
// from docker/ and Dockerfile.task), starts everything, waits until every service is healthy, runs the
// DAG in Docker mode through Airflow's REST API, and checks the result. Installs and starts a Docker
// engine where there is none (scripts/compose/engine.sh) and stops only what it started.
import { spawnSync } from 'node:child_process';
import { existsSync, copyFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { composeAirflow, runDag, settleScheduledRun, type DagRunResult } from './airflow.ts';
import {
  buildImages,
  compose,
  composeBinary,
  defaultServices,
  ENV_FILE,
  isReady,
  log,
  readBuildTimes,
  REPO_DIR,
  serviceStates,
  setting,
  sleep,
  urls,
  type ServiceState,
} from './compose.ts';
import {
  checkLoginAndDocs,
  checkPrometheus,
  checkTaskContainers,
  compareRows,
  containerRows,
  dockerEvents,
  expectedRows,
  killTaskContainer,
  storedEvents,
} from './checks.ts';

const EXTRA_CA = path.join(REPO_DIR, 'docker', 'ca', 'extra-ca.crt');

function sh(script: string, ...args: string[]): void {
  const result = spawnSync('bash', [path.join(REPO_DIR, 'scripts', 'compose', script), ...args], {
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error(`scripts/compose/${script} ${args.join(' ')} failed`);
}

/** Engine, base image and the optional extra CA of the builds (DOCKER_BUILD_EXTRA_CA=<PEM file>). */
function prepareEngine(): void {
  sh('engine.sh', 'start');
  sh('base-image.sh', 'debian:bookworm-slim');
  const ca = process.env.DOCKER_BUILD_EXTRA_CA;
  if (ca) {
    if (!existsSync(ca)) throw new Error(`DOCKER_BUILD_EXTRA_CA=${ca}: no such file`);
    copyFileSync(ca, EXTRA_CA);
    log(`image builds trust the extra CA certificates of ${ca}`);
  } else rmSync(EXTRA_CA, { force: true });
}

/** Polls the containers until every wanted service is ready; fails on an unhealthy or failed one. */
async function waitUntilReady(
  wanted: string[],
  started: number,
  healthyAfter: Map<string, number>,
  upState: () => { upDone: boolean; upError: string },
): Promise<ServiceState[]> {
  const deadline = started + 15 * 60_000;
  for (;;) {
    const states = await serviceStates();
    for (const s of states)
      if (isReady(s) && !healthyAfter.has(s.service))
        healthyAfter.set(s.service, (Date.now() - started) / 1000);
    const failed = states.find(
      (s) => s.health === 'unhealthy' || (s.status === 'exited' && s.exitCode !== 0),
    );
    if (failed) {
      const logs = await compose(['logs', '--tail', '30', failed.service], { capture: true });
      throw new Error(
        `${failed.service} is ${failed.health || `exited ${failed.exitCode}`}:\n${logs.stdout}${logs.stderr}`,
      );
    }
    const { upDone, upError } = upState();
    if (upDone && upError) throw new Error(`compose up failed:\n${upError}`);
    if (upDone && wanted.every((w) => healthyAfter.has(w))) return states;
    if (Date.now() > deadline) {
      const waiting = wanted.filter((w) => !healthyAfter.has(w));
      throw new Error(`not healthy after 15 min: ${waiting.join(', ')}`);
    }
    await sleep(1000);
  }
}

async function up(): Promise<void> {
  prepareEngine();
  log(`${composeBinary().join(' ')} with ${ENV_FILE}; building the images`);
  const buildStarted = Date.now();
  const times = await buildImages();
  log(`images ready in ${((Date.now() - buildStarted) / 1000).toFixed(0)} s`);

  const wanted = defaultServices();
  const started = Date.now();
  const healthyAfter = new Map<string, number>();
  let upDone = false;
  let upError = '';
  // `up -d` returns once every service started (1.29 waits for the healthy dependencies in between);
  // meanwhile the poll records when each service became ready. A failure stops `up` before it returns.
  const abort = new AbortController();
  const upRun = compose(['up', '-d', '--no-build'], { capture: true, signal: abort.signal }).then((r) => {
    upDone = true;
    if (r.code !== 0) upError = (r.stdout + r.stderr).trim().split('\n').slice(-20).join('\n');
  });
  let states: ServiceState[] = [];
  try {
    states = await waitUntilReady(wanted, started, healthyAfter, () => ({ upDone, upError }));
  } catch (err) {
    abort.abort();
    await upRun;
    throw err;
  }
  await upRun;

  const imageTimes = Object.values(times);
  const rows = wanted.map((service) => {
    const state = states.find((s) => s.service === service);
    const image = state?.image ?? '';
    const build = imageTimes.find((t) => t.image === image);
    return `  ${service.padEnd(22)} ${image.padEnd(38)} ${build ? `${String(build.seconds).padStart(5)} s ${String(build.mb).padStart(5)} MB` : '        -        -'}   healthy after ${healthyAfter.get(service)?.toFixed(0)} s`;
  });
  const u = urls();
  const user = setting('AIRFLOW_ADMIN_USER', 'admin');
  const password = setting('AIRFLOW_ADMIN_PASSWORD', 'admin');
  process.stdout.write(
    [
      `services (image, seconds of its last build that was not all cached, size, seconds from \`up\` to healthy):`,
      ...rows,
      `  (the node-base image of the task image: ${readBuildTimes()['node-base']?.seconds ?? '?'} s)`,
      '',
      `API          ${u.api}/docs  (Swagger UI), ${u.api}/api/income`,
      `Airflow      ${u.airflow}  login ${user} / ${password}`,
      `Prometheus   ${u.prometheus}  (classic UI: /classic/targets, /classic/alerts)`,
      `Pushgateway  ${u.pushgateway}`,
      `HDFS         ${u.hdfs}  (WebHDFS /webhdfs/v1/)`,
      `Kafka        ${u.kafka}`,
      `Grafana      not started: \`${composeBinary().join(' ')} --profile grafana up -d\` (official image, needs a registry)`,
      '',
    ].join('\n'),
  );
}

async function down(volumes: boolean): Promise<void> {
  const result = await compose([
    '--profile',
    'streaming',
    '--profile',
    'grafana',
    'down',
    '--remove-orphans',
    ...(volumes ? ['--volumes'] : []),
  ]);
  // Task containers that failed stay for inspection (auto_remove="success"): they belong to this system too.
  const leftovers = spawnSync(
    'docker',
    ['ps', '-aq', '--filter', 'ancestor=population-pipeline-task:latest'],
    { encoding: 'utf8' },
  );
  const ids = leftovers.stdout.split('\n').filter(Boolean);
  if (ids.length) spawnSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  if (volumes) spawnSync('docker', ['volume', 'rm', 'population-pipeline-var'], { stdio: 'ignore' });
  sh('engine.sh', 'stop');
  if (result.code !== 0) throw new Error('compose down failed');
}

async function test(date: string): Promise<void> {
  const results: string[] = [];
  const started = Date.now();
  try {
    // A killed task is retried after this delay (the DAG's default is 30 s, doubling).
    process.env.PIPELINE_RETRY_DELAY_SECONDS ??= '3';
    await up();
    const client = await composeAirflow();
    const expected = await expectedRows(date);

    // 0. Unpaused, the daily schedule runs the latest interval at once (catchup is off).
    await client.waitForDag();
    const scheduled = await settleScheduledRun(client);
    if (scheduled.state !== 'success')
      throw new Error(`the scheduled run ${scheduled.runId} ${scheduled.state}`);
    results.push(
      `daily schedule: run ${scheduled.runId} (${scheduled.logicalDate}) success after the unpause`,
    );

    // 1. A run of the sample date, in Docker mode.
    const since = Math.floor(Date.now() / 1000) - 1;
    const first = await runDag(date, client);
    results.push(`run 1 (${first.runId}): success in ${first.seconds.toFixed(0)} s; ${taskDurations(first)}`);
    results.push(...(await checkTaskContainers(await dockerEvents(since), first, client, since)));
    const rows1 = await containerRows(date);
    results.push(
      compareRows(rows1, expected, `API ${urls().api} vs the local pipeline's code on data/sample`),
    );
    const events1 = await storedEvents(date);
    results.push(
      `consumer db: ${events1.events} events for ${date} (${events1.distinct} distinct ids), ${events1.latest} latest`,
    );
    results.push(...(await checkPrometheus(date)));
    results.push(...(await checkLoginAndDocs(client)));

    // 2. The same date again, with the consumer's container killed while it runs: Airflow retries it.
    // On a quiet machine the whole consumer task takes under 2 s, so by default the kill comes as soon
    // as the container is seen (in its start-up); COMPOSE_TEST_KILL_AFTER_MS delays it.
    const killing = killTaskContainer(
      'tasks/consumer/cli.ts',
      date,
      Number(process.env.COMPOSE_TEST_KILL_AFTER_MS ?? 0),
    );
    const second = await runDag(date, client);
    const killed = await killing;
    if (!killed) throw new Error('the consumer container of the re-run ended before it could be killed');
    // Clearing the run made every task's try_number one higher; the killed consumer has one more.
    const tries = (id: string) => second.tasks.find((t) => t.task_id === id)?.try_number ?? 0;
    if (tries('start_consumer') <= tries('start_producer'))
      throw new Error(
        `start_consumer was not retried after the kill (try ${tries('start_consumer')}, start_producer try ${tries('start_producer')})`,
      );
    results.push(
      `run 2 (same date again): ${killed}; start_consumer retried (try ${tries('start_consumer')} vs ${tries('start_producer')} for the others), run success in ${second.seconds.toFixed(0)} s`,
    );
    results.push(compareRows(await containerRows(date), rows1, 'cubes after the re-run vs after run 1'));
    const events2 = await storedEvents(date);
    if (JSON.stringify(events2) !== JSON.stringify(events1))
      throw new Error(
        `consumer db after the re-run: ${JSON.stringify(events2)}, after run 1: ${JSON.stringify(events1)}`,
      );
    results.push(`consumer db after the re-run: the same ${events2.events} events, none lost or duplicated`);
    log(`PASS in ${((Date.now() - started) / 1000).toFixed(0)} s:\n  ${results.join('\n  ')}`);
  } catch (err) {
    log(`FAIL after ${((Date.now() - started) / 1000).toFixed(0)} s: ${(err as Error).message}`);
    if (results.length) log(`passed before the failure:\n  ${results.join('\n  ')}`);
    throw err;
  } finally {
    await down(true).catch((e: Error) => log(`down: ${e.message}`));
  }
}

function taskDurations(run: DagRunResult): string {
  return run.tasks.map((t) => `${t.task_id} ${t.duration?.toFixed(1) ?? '-'} s`).join(', ');
}

const dateOption = ['--date <YYYY-MM-DD>', 'logical date of the run', '2026-01-15'] as const;
const program = new Command('compose')
  .description('The pipeline in containers: build, start, run the DAG in Docker mode, check, stop.')
  .showHelpAfterError();
program.command('up').description('build the images, start every service, wait until healthy').action(up);
program
  .command('run-dag')
  .description('unpause and trigger data_pipeline for a date through the Airflow REST API; wait for it')
  .option(...dateOption)
  .action(async (o: { date: string }) => {
    await runDag(o.date);
  });
program
  .command('test')
  .description('up, run-dag on the sample data, the checks, down --volumes (always)')
  .option(...dateOption)
  .action((o: { date: string }) => test(o.date));
program
  .command('down')
  .description('stop and remove the containers (and the engine, if `up` started it)')
  .option('--volumes', 'remove the volumes too')
  .action((o: { volumes?: boolean }) => down(Boolean(o.volumes)));

program.parseAsync().catch((err: Error) => {
  log(err.message);
  process.exit(1);
});
