// npm run chaos [-- --short] [--only a,b] [--hard]: injects faults into real runs against the local
// stack and checks that nothing is lost or duplicated:
//   consumer-kill     SIGKILL of the consumer at random points (>= 5), restart, until done
//   broker-produce    Kafka broker stopped while the producer has messages acknowledged and more to
//                     send (topic end offsets), restarted with `npm run stack -- up`
//   broker-consume    Kafka broker stopped while the consumer has committed part of the topic,
//                     restarted the same way; a broker stop that met no work in flight is repeated
//   namenode          NameNode stopped mid-transform: all_data_joined.csv must be the whole previous
//                     or the whole new file, never a part
// A failed task is re-run, as the DAG's retries would. Prints a table; exits 1 on any loss,
// duplicate, partial file or fault that could not be injected.
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { Command, InvalidArgumentError } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../lib/config.ts';
import { HdfsClient } from '../lib/hdfs.ts';
import { createKafka, ensureTopic } from '../lib/kafka.ts';
import { SOURCES, SOURCE_NAMES } from '../lib/sources.ts';
import { acknowledged, hdfsHash, readTopicEvents, storedEvents, type EventKey } from './chaos/observe.ts';
import { stackUp, stopService } from './chaos/stack-control.ts';
import {
  EMPTY_TALLY,
  fileVerdict,
  isClean,
  landing,
  randomDelays,
  tally,
  type Tally,
} from './chaos/verify.ts';
import { markdownTable } from './table.ts';

const FAULTS = ['namenode', 'consumer-kill', 'broker-consume', 'broker-produce', 'producer-kill'] as const;
type Fault = (typeof FAULTS)[number];

const program = new Command('chaos')
  .description('Fault injection against the local stack: consumer SIGKILL, broker and NameNode restarts.')
  .option('--short', 'CI form: small data, 5 kills, one restart of each service (a few minutes)')
  .option('--only <faults>', `comma-separated subset of ${FAULTS.join(',')}`, (v: string) => {
    const names = v.split(',').map((s) => s.trim());
    for (const n of names)
      if (!(FAULTS as readonly string[]).includes(n)) throw new InvalidArgumentError(`unknown fault "${n}"`);
    return names as Fault[];
  })
  .option('--hard', 'SIGKILL the broker and NameNode instead of SIGTERM')
  .option('--seed <n>', 'seed of the random kill points (default: random)')
  .showHelpAfterError();

interface Row {
  fault: string;
  runs: number;
  tally: Tally;
  ok: boolean;
  /** Evidence that the fault met work in flight (the table's "fault landed" column). */
  landed: string;
  detail: string;
}

const ROOT = process.cwd();
const DATE = '2000-01-02';
const TAG = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
const WORK = path.join(ROOT, 'var', 'chaos');
const LOGS = path.join(WORK, 'logs', TAG);
const RAW = '/chaos/raw';
const PROCESSED = '/chaos/processed';
const ENV = {
  RUN_DATE: DATE,
  HDFS_RAW_DIR: RAW,
  HDFS_PROCESSED_DIR: PROCESSED,
  DB_PATH: path.join(WORK, 'unused.db'),
  CUBE_DB: path.join(WORK, 'unused-cube.db'),
  LOG_LEVEL: 'info',
};
const config = loadConfig({ ...process.env, ...ENV });
const hdfs = HdfsClient.fromConfig(config.hdfs);
const kafka = createKafka(config.kafka, { retries: 10 });
const say = (line: string): void => void process.stderr.write(`chaos: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let seed = 0;
/** mulberry32: reproducible kill points for a given --seed. */
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

interface Running {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  started: number;
}

/** A repo CLI in its own process group (so a SIGKILL takes its workers too), logs to LOGS. */
function start(label: string, file: string, args: string[]): Running {
  fs.mkdirSync(LOGS, { recursive: true });
  const log = fs.openSync(path.join(LOGS, `${label.replace(/[^a-zA-Z0-9._-]+/g, '-')}.log`), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, file), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...ENV },
    stdio: ['ignore', log, log],
    detached: true,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      fs.closeSync(log);
      resolve({ code, signal });
    }),
  );
  return { child, exited, started: Date.now() };
}

async function runToEnd(label: string, file: string, args: string[]): Promise<number | null> {
  return (await start(label, file, args).exited).code;
}

/** Re-runs a task until it exits 0 (the DAG's retries); returns the attempts used. */
async function retryUntilSuccess(label: string, file: string, args: string[], attempts = 5): Promise<number> {
  for (let i = 1; i <= attempts; i++) {
    if ((await runToEnd(`${label} retry ${i}`, file, args)) === 0) return i;
    await sleep(2000);
  }
  throw new Error(`${label} still failing after ${attempts} attempts; see ${LOGS}`);
}

async function ensureData(name: string, rows: number): Promise<string> {
  const dir = path.join(WORK, 'data', `${name}-${rows}`);
  if (!fs.existsSync(path.join(dir, '.complete'))) {
    const code = await runToEnd(`generate ${name}`, 'scripts/generate/cli.ts', [
      '--rows',
      String(rows),
      '--out',
      dir,
      '--seed',
      `chaos-${name}`,
      '--quiet',
    ]);
    if (code !== 0) throw new Error(`generator failed for ${name}`);
    fs.writeFileSync(path.join(dir, '.complete'), '');
  }
  return dir;
}

async function upload(dir: string): Promise<void> {
  await hdfs.mkdirs(RAW);
  for (const name of SOURCE_NAMES) {
    await hdfs.writeAtomic(
      `${RAW}/${SOURCES[name].file}`,
      fs.createReadStream(path.join(dir, SOURCES[name].file)),
    );
  }
}

const JOINED = `${PROCESSED}/date=${DATE}/all_data_joined.csv`;
const LATEST = `${PROCESSED}/all_data_joined.csv`;
const TRANSFORM = 'tasks/transform-hdfs/cli.ts';
const PRODUCER = 'tasks/producer/cli.ts';
const CONSUMER = 'tasks/consumer/cli.ts';
const faultSignal = (): NodeJS.Signals => (program.opts().hard ? 'SIGKILL' : 'SIGTERM');

async function hashes(): Promise<[string | undefined, string | undefined]> {
  return [await hdfsHash(hdfs, JOINED), await hdfsHash(hdfs, LATEST)];
}

/** NameNode stopped during transform_hdfs: the joined file stays whole (previous or new). */
async function namenodeFault(small: string, big: string, runs: number): Promise<Row> {
  await upload(big);
  const t0 = Date.now();
  if ((await runToEnd('transform new (reference)', TRANSFORM, ['--date', DATE])) !== 0)
    throw new Error('reference transform failed');
  const duration = Date.now() - t0;
  const [newDated, newLatest] = await hashes();
  const details: string[] = [];
  let ok = true;
  let injected = 0;
  // A transform that finished before the stop proves nothing: such a run is repeated with an earlier
  // stop (up to 3 tries per wanted run), since a quiet machine can finish before the drawn delay.
  let window = 1;
  for (let i = 1; injected < runs && i <= runs * 3; i++) {
    await upload(small);
    if ((await runToEnd(`transform previous ${i}`, TRANSFORM, ['--date', DATE])) !== 0)
      throw new Error('previous transform failed');
    const [prevDated, prevLatest] = await hashes();
    await upload(big);
    const run = start(`transform faulted ${i}`, TRANSFORM, ['--date', DATE]);
    const [delay] = randomDelays(
      1,
      Math.max(150, duration * 0.2 * window),
      Math.max(300, duration * 0.6 * window),
      random,
    );
    await sleep(delay!);
    const stillRunning = run.child.exitCode === null;
    await stopService(ROOT, 'namenode', faultSignal());
    say(
      `NameNode stopped ${delay} ms into transform ${i} (transform ${stillRunning ? 'running' : 'already done'})`,
    );
    // Restarted at once (as a supervisor would) while the transform sees it gone.
    const up = stackUp(ROOT, path.join(LOGS, 'stack-up.log'));
    const exit = await Promise.race([run.exited, sleep(180_000).then(() => ({ code: -1, signal: null }))]);
    if (exit.code === -1) run.child.kill('SIGKILL');
    // Seen with the NameNode back, before any retry: the state the fault left.
    const upSeconds = await up;
    const [afterDated, afterLatest] = await hashes();
    const seen = [
      fileVerdict(afterDated, prevDated!, newDated!),
      fileVerdict(afterLatest, prevLatest!, newLatest!),
    ];
    let retries = 0;
    if (exit.code !== 0) retries = await retryUntilSuccess(`transform ${i}`, TRANSFORM, ['--date', DATE]);
    const [finalDated, finalLatest] = await hashes();
    const final = [
      fileVerdict(finalDated, prevDated!, newDated!),
      fileVerdict(finalLatest, prevLatest!, newLatest!),
    ];
    const good = seen.every((v) => v === 'previous' || v === 'new') && final.every((v) => v === 'new');
    if (stillRunning) injected++;
    else window /= 2;
    ok &&= good;
    details.push(
      `run ${i}: stop at ${delay} ms, transform exit ${exit.code ?? exit.signal}, NameNode back in ${upSeconds.toFixed(0)} s; after fault dated=${seen[0]} latest=${seen[1]}; after ${retries} retries dated=${final[0]} latest=${final[1]}`,
    );
  }
  return {
    fault: 'NameNode restart during transform',
    runs: injected,
    tally: EMPTY_TALLY,
    ok: ok && injected === runs,
    landed: `${injected} stop(s) with the transform running`,
    detail: details.join('; '),
  };
}

function eventTallies(expected: EventKey[], stored: EventKey[]): Tally {
  const byId = tally(
    expected.map((e) => e.eventId),
    stored.map((e) => e.eventId),
  );
  const byOffset = tally(
    expected.map((e) => `${e.partition}:${e.offset}`),
    stored.map((e) => `${e.partition}:${e.offset}`),
  );
  // Lost/duplicated by event id; a duplicate by Kafka coordinates (same message stored twice under
  // two ids) would show in the second tally.
  return { ...byId, duplicated: Math.max(byId.duplicated, byOffset.duplicated) };
}

function freshDb(name: string): string {
  const db = path.join(WORK, `${name}-${TAG}.db`);
  for (const s of ['', '-wal', '-shm']) fs.rmSync(`${db}${s}`, { force: true });
  return db;
}

const consumerArgs = (topic: string, db: string, group: string) => [
  '--date',
  DATE,
  '--topic',
  topic,
  '--db',
  db,
  '--group',
  group,
];

async function produce(topic: string, population: string, loops: number): Promise<void> {
  if (
    (await runToEnd(`produce ${topic}`, PRODUCER, [
      '--file',
      population,
      '--loops',
      String(loops),
      '--topic',
      topic,
      '--date',
      DATE,
    ])) !== 0
  ) {
    throw new Error(`producer failed for ${topic}`);
  }
}

async function verifyConsumed(topic: string, db: string): Promise<{ tally: Tally; deadLetters: number }> {
  const expected = await readTopicEvents(kafka, topic, `chaos-reader-${TAG}-${topic}`);
  const { events, deadLetters } = storedEvents(db, DATE);
  return { tally: eventTallies(expected, events), deadLetters };
}

/** Messages committed so far by a group (sum of its stored next offsets), 0 before the first commit. */
function committed(db: string, group: string): number {
  if (!fs.existsSync(db)) return 0;
  try {
    const conn = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return (
        (conn
          .prepare('SELECT coalesce(sum(next_offset), 0) FROM kafka_offsets WHERE group_id = ?')
          .pluck()
          .get(group) as number) ?? 0
      );
    } finally {
      conn.close();
    }
  } catch {
    return 0; // schema not created yet
  }
}

/**
 * SIGKILL of the consumer at random points, restarted each time, then run to the end. One kill at a
 * random time after start (start-up, joined-attributes load), then `kills` kills at random committed
 * positions, one in each k-th slice of the stream, so every phase of a run is hit at any speed.
 */
async function consumerKillFault(population: string, loops: number, kills: number): Promise<Row> {
  const topic = `chaos.kill.${TAG}`;
  const db = freshDb('kill');
  const group = `chaos-kill-${TAG}`;
  await produce(topic, population, loops);
  const total = (await readTopicEvents(kafka, topic, `chaos-count-${TAG}`)).length;
  const points: string[] = [];
  let done = 0;
  let midStream = 0;
  // Small fetches, as for the broker fault: with the default 2 MiB a --short partition commits in
  // steps of ~33k messages, and kill points bunch up at those steps or after the last one.
  const args = [...consumerArgs(topic, db, group), '--max-bytes-per-partition', String(CONSUME_FETCH_BYTES)];
  // Start-up kill: by time.
  {
    const [delay] = randomDelays(1, 200, 1500, random);
    const run = start('consumer kill startup', CONSUMER, args);
    const exit = await Promise.race([run.exited, sleep(delay!).then(() => undefined)]);
    if (exit === undefined) {
      process.kill(-run.child.pid!, 'SIGKILL');
      await run.exited;
      done++;
      points.push(`${delay} ms (start-up, ${committed(db, group)} committed)`);
    }
  }
  // Progress kills: at a random committed position inside slice k of the stream.
  for (let k = 0; k < kills; k++) {
    const from = committed(db, group);
    const sliceStart = Math.max(from, Math.floor((k * total) / (kills + 1)));
    const sliceEnd = Math.floor(((k + 1) * total) / (kills + 1));
    const target = sliceStart + Math.floor(random() * Math.max(1, sliceEnd - sliceStart));
    const run = start(`consumer kill ${k + 1}`, CONSUMER, args);
    let killed = false;
    while (run.child.exitCode === null && run.child.signalCode === null) {
      if (committed(db, group) >= target) {
        process.kill(-run.child.pid!, 'SIGKILL');
        killed = true;
        break;
      }
      await sleep(20);
    }
    await run.exited;
    if (!killed) break; // drained before the target: the stream is done
    done++;
    const at = committed(db, group);
    if (at < total) midStream++;
    points.push(`${at.toLocaleString('en-US')}/${total.toLocaleString('en-US')} committed`);
    say(`consumer SIGKILLed at ${at} of ${total} committed (${done})`);
  }
  if ((await runToEnd('consumer final', CONSUMER, args)) !== 0) throw new Error('final consumer run failed');
  const { tally: t, deadLetters } = await verifyConsumed(topic, db);
  return {
    fault: 'consumer SIGKILL at random points',
    runs: done,
    tally: t,
    ok: isClean(t) && deadLetters === 0 && done >= Math.min(5, kills),
    landed: `${done} kills with the consumer running, ${midStream} mid-stream`,
    detail: `kills at ${points.join('; ')}; ${t.stored.toLocaleString('en-US')} events stored of ${t.expected.toLocaleString('en-US')} produced; dead letters ${deadLetters}`,
  };
}

const running = (run: Running): boolean => run.child.exitCode === null && run.child.signalCode === null;

/**
 * Stops the broker and brings it back at once, also when the stop failed (the stack is shared and
 * other work waits on it). Resolves with the seconds from the stop signal to a ready broker.
 */
async function brokerOutage(): Promise<number> {
  const started = Date.now();
  try {
    await stopService(ROOT, 'kafka', faultSignal());
  } finally {
    await stackUp(ROOT, path.join(LOGS, 'stack-up.log'));
  }
  return (Date.now() - started) / 1000;
}

/** Polls `done()` until it reaches `target` or the task exits; resolves with the last value seen. */
async function waitForProgress(run: Running, target: number, done: () => Promise<number> | number) {
  let seen = await done();
  while (running(run) && seen < target) {
    await sleep(20);
    seen = await done();
  }
  return seen;
}

/** Data lines of a CSV (its header excluded): the messages one producer loop plans to send. */
function dataLines(file: string): number {
  const text = fs.readFileSync(file, 'utf8');
  let lines = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
  return lines - (text.endsWith('\n') ? 1 : 0);
}

/**
 * Sum of a topic's end offsets, through a short-lived admin client. Retried for a while: right after
 * a broker restart a partition can still be without a leader (kafkajs' admin does not wait for one).
 */
async function topicSize(topic: string, attempts = 30): Promise<number> {
  for (let i = 1; ; i++) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      return await acknowledged(admin, topic);
    } catch (err) {
      if (i >= attempts) throw err;
    } finally {
      await admin.disconnect();
    }
    await sleep(1000);
  }
}

const LANDED = { failed: 'exit ≠ 0, re-run', 'rode out': 'rode out the outage', missed: 'missed' } as const;
// A stop that misses the work in flight (task done first, or not yet begun) is repeated.
const BROKER_TRIES = 3;

const CONSUME_FETCH_BYTES = 64 * 1024;

/**
 * Broker stopped while the consumer runs, once some but not all of the topic is committed in
 * SQLite; the consumer is re-run until it succeeds.
 */
async function brokerConsumeFault(population: string, loops: number): Promise<Row> {
  const topic = `chaos.bconsume.${TAG}`;
  await produce(topic, population, loops);
  const total = await topicSize(topic);
  const tries: string[] = [];
  for (let i = 1; i <= BROKER_TRIES; i++) {
    const db = freshDb(`broker-consume-${i}`);
    const group = `chaos-bconsume-${TAG}-${i}`;
    // The default 2 MiB fetches take a --short topic (about 1 MiB per partition) in one go, after
    // which the consumer no longer needs the broker; small fetches keep it fetching all along.
    const args = [
      ...consumerArgs(topic, db, group),
      '--max-bytes-per-partition',
      String(CONSUME_FETCH_BYTES),
    ];
    const run = start(`consumer ${i} (broker restart)`, CONSUMER, args);
    // Anywhere in the first 60%: the whole stream is committed in a few seconds.
    const target = 1 + Math.floor(random() * Math.max(1, total * 0.6));
    const atStop = await waitForProgress(run, target, () => committed(db, group));
    const runningAtStop = running(run) && atStop < total;
    let backSeconds = 0;
    let runningWhenBack = false;
    if (runningAtStop) {
      backSeconds = await brokerOutage();
      runningWhenBack = running(run);
      say(`broker stopped at ${atStop}/${total} committed (consumer try ${i}), back in ${backSeconds} s`);
    }
    const exit = await run.exited;
    const landed = landing({
      runningAtStop,
      doneAtStop: atStop,
      total,
      exitCode: exit.code,
      runningWhenBack,
    });
    const retries =
      exit.code === 0 ? 0 : await retryUntilSuccess(`consumer ${i} after broker restart`, CONSUMER, args);
    const stop = runningAtStop
      ? `stopped at ${atStop.toLocaleString('en-US')}/${total.toLocaleString('en-US')} committed, broker back in ${backSeconds.toFixed(0)} s`
      : `consumer done at ${atStop.toLocaleString('en-US')} committed before the stop`;
    tries.push(
      `try ${i}: ${stop}; consumer exit ${exit.code ?? exit.signal} (${landed}), ${retries} re-runs`,
    );
    if (landed === 'missed') continue;
    const { tally: t, deadLetters } = await verifyConsumed(topic, db);
    return {
      fault: 'broker restart mid-consume',
      runs: 1,
      tally: t,
      ok: isClean(t) && deadLetters === 0,
      landed: `${atStop.toLocaleString('en-US')}/${total.toLocaleString('en-US')} committed; ${LANDED[landed]}`,
      detail: `${tries.join('; ')}; ${t.stored.toLocaleString('en-US')}/${t.expected.toLocaleString('en-US')} events; dead letters ${deadLetters}`,
    };
  }
  return {
    fault: 'broker restart mid-consume',
    runs: 0,
    tally: EMPTY_TALLY,
    ok: false,
    landed: LANDED.missed,
    detail: tries.join('; '),
  };
}

// The producer's default --batch-size, passed explicitly: acknowledgements advance by whole batches.
const PRODUCER_BATCH = 1_000;

/** What hits the producer mid-send: a broker restart, or a SIGKILL of the producer itself. */
type ProduceFault = 'broker' | 'kill';

const PRODUCE_FAULT_NAMES: Record<ProduceFault, string> = {
  broker: 'broker restart mid-produce',
  kill: 'producer SIGKILL mid-send, re-run',
};

/**
 * The broker stopped (or the producer killed) while the producer sends: once the topic's end
 * offsets show that some but not all of the planned messages are acknowledged, with at least two
 * batches still to send. A failed producer is re-run (a DAG retry: it resends from the start, under
 * the same event ids), then the topic is consumed. Checked end to end by (loop, Id): every row of
 * every loop stored exactly once.
 */
async function produceFault(population: string, loops: number, fault: ProduceFault): Promise<Row> {
  const name = PRODUCE_FAULT_NAMES[fault];
  const planned = dataLines(population) * loops;
  const tries: string[] = [];
  for (let i = 1; i <= BROKER_TRIES; i++) {
    const topic = `chaos.${fault}produce.${TAG}.${i}`;
    const args = [
      ...['--file', population, '--loops', String(loops), '--topic', topic, '--date', DATE],
      ...['--batch-size', String(PRODUCER_BATCH)],
    ];
    const target = 1 + Math.floor(random() * Math.max(1, planned - 2 * PRODUCER_BATCH));
    const admin = kafka.admin();
    await admin.connect();
    let run: Running;
    let atStop: number;
    try {
      // Created here (as the producer would) so that its end offsets can be polled from the start.
      await ensureTopic(admin, topic, config.kafka.partitions);
      run = start(`producer ${i} (${name})`, PRODUCER, args);
      atStop = await waitForProgress(run, target, () => acknowledged(admin, topic));
    } finally {
      await admin.disconnect();
    }
    const runningAtStop = running(run) && atStop < planned;
    let backSeconds = 0;
    let runningWhenBack = false;
    if (runningAtStop && fault === 'kill') {
      process.kill(-run.child.pid!, 'SIGKILL');
      say(`producer killed at ${atStop}/${planned} acknowledged (try ${i})`);
    } else if (runningAtStop) {
      backSeconds = await brokerOutage();
      runningWhenBack = running(run);
      say(
        `broker stopped at ${atStop}/${planned} acknowledged (producer try ${i}), back in ${backSeconds} s`,
      );
    }
    const exit = await Promise.race([run.exited, sleep(180_000).then(() => ({ code: -1, signal: null }))]);
    if (exit.code === -1) process.kill(-run.child.pid!, 'SIGKILL');
    const afterFault = await topicSize(topic);
    const landed = landing({
      runningAtStop,
      doneAtStop: atStop,
      total: planned,
      exitCode: exit.code,
      runningWhenBack,
    });
    const retries =
      exit.code === 0 ? 0 : await retryUntilSuccess(`producer ${i} after ${name}`, PRODUCER, args);
    const at = `${atStop.toLocaleString('en-US')}/${planned.toLocaleString('en-US')} acknowledged`;
    const stop = !runningAtStop
      ? `producer done at ${atStop.toLocaleString('en-US')} acknowledged before the fault`
      : fault === 'kill'
        ? `killed at ${at}`
        : `stopped at ${at}, broker back in ${backSeconds.toFixed(0)} s`;
    tries.push(
      `try ${i}: ${stop}; producer exit ${exit.code ?? exit.signal} (${landed}), topic held ${afterFault.toLocaleString('en-US')} after it, ${retries} re-runs`,
    );
    if (landed === 'missed') continue;
    const db = freshDb(`${fault}-produce`);
    if (
      (await runToEnd(
        'consumer (after produce fault)',
        CONSUMER,
        consumerArgs(topic, db, `chaos-${fault}produce-${TAG}`),
      )) !== 0
    )
      throw new Error('consumer failed after the produce fault');
    const topicEvents = await readTopicEvents(kafka, topic, `chaos-reader-${TAG}-${topic}`);
    const { events, deadLetters } = storedEvents(db, DATE);
    const ids = [...new Set(topicEvents.map((e) => e.id))];
    const expectedRows = Array.from({ length: loops }, (_, l) => ids.map((id) => `${l + 1}:${id}`)).flat();
    const rows = tally(
      expectedRows,
      events.map((e) => `${e.loop}:${e.id}`),
    );
    const consumed = eventTallies(topicEvents, events);
    const t = {
      ...rows,
      lost: rows.lost + consumed.lost,
      duplicated: Math.max(rows.duplicated, consumed.duplicated),
    };
    return {
      fault: name,
      runs: 1,
      tally: t,
      ok: isClean(t) && deadLetters === 0,
      landed: `${atStop.toLocaleString('en-US')}/${planned.toLocaleString('en-US')} acknowledged; ${LANDED[landed]}`,
      detail: `${tries.join('; ')}; topic holds ${topicEvents.length.toLocaleString('en-US')} messages for ${expectedRows.length.toLocaleString('en-US')} (loop, Id) rows, stored ${rows.stored.toLocaleString('en-US')} (lost ${rows.lost}, dup ${rows.duplicated}); consumer exact vs topic: lost ${consumed.lost}, dup ${consumed.duplicated}`,
    };
  }
  return {
    fault: name,
    runs: 0,
    tally: EMPTY_TALLY,
    ok: false,
    landed: LANDED.missed,
    detail: tries.join('; '),
  };
}

async function main(): Promise<number> {
  const opts = program.parse().opts<{ short?: boolean; only?: Fault[]; hard?: boolean; seed?: string }>();
  seed = Number(opts.seed ?? Math.floor(Math.random() * 2 ** 31));
  const short = opts.short === true;
  const wanted = new Set<Fault>(opts.only ?? FAULTS);
  const p = short
    ? { rows: 20_000, smallRows: 2_000, loops: 5, kills: 5, nnRuns: 1 }
    : { rows: 100_000, smallRows: 10_000, loops: 10, kills: 10, nnRuns: 3 };
  say(`seed ${seed}; logs in ${LOGS}; ${JSON.stringify(p)}`);
  fs.mkdirSync(LOGS, { recursive: true });
  const big = await ensureData('new', p.rows);
  const small = await ensureData('previous', p.smallRows);
  const population = path.join(big, SOURCES.population.file);
  const rows: Row[] = [];
  const attempt = async (fault: Fault, name: string, fn: () => Promise<Row>) => {
    if (!wanted.has(fault)) return;
    try {
      rows.push(await fn());
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      say(`${fault} could not run: ${message}`);
      rows.push({
        fault: name,
        runs: 0,
        tally: EMPTY_TALLY,
        ok: false,
        landed: 'unknown',
        detail: `did not complete: ${message.split('\n')[0]}`,
      });
      // Leave the shared stack as we found it.
      await stackUp(ROOT, path.join(LOGS, 'stack-up.log')).catch(() => undefined);
    }
  };
  // The NameNode fault also leaves the new joined file in place, which the consumer runs need.
  if (wanted.has('namenode'))
    await attempt('namenode', 'NameNode restart during transform', () => namenodeFault(small, big, p.nnRuns));
  else {
    await upload(big);
    if ((await runToEnd('transform', TRANSFORM, ['--date', DATE])) !== 0) throw new Error('transform failed');
  }
  await attempt('consumer-kill', 'consumer SIGKILL at random points', () =>
    consumerKillFault(population, p.loops, p.kills),
  );
  await attempt('broker-consume', 'broker restart mid-consume', () =>
    brokerConsumeFault(population, p.loops),
  );
  await attempt('broker-produce', PRODUCE_FAULT_NAMES.broker, () =>
    produceFault(population, p.loops, 'broker'),
  );
  await attempt('producer-kill', PRODUCE_FAULT_NAMES.kill, () => produceFault(population, p.loops, 'kill'));

  const table = markdownTable(
    [
      { header: 'fault' },
      { header: 'runs', align: 'right' },
      { header: 'lost', align: 'right' },
      { header: 'duplicated', align: 'right' },
      { header: 'fault landed' },
      { header: 'result' },
    ],
    rows.map((r) => [
      r.fault,
      String(r.runs),
      String(r.tally.lost),
      String(r.tally.duplicated + r.tally.unexpected),
      r.landed,
      r.ok ? 'PASS' : 'FAIL',
    ]),
  );
  process.stdout.write(`\n${table}\n\n${rows.map((r) => `- ${r.fault}: ${r.detail}`).join('\n')}\n`);
  fs.writeFileSync(path.join(LOGS, 'result.json'), JSON.stringify({ seed, params: p, rows }, null, 2));
  return rows.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
