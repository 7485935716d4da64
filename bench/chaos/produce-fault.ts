// What hits the producer mid-send (faults/broker-produce.ts, faults/producer-kill.ts): the broker
// stopped, or the producer itself SIGKILLed, once the topic's end offsets show that some but not all
// of the planned messages are acknowledged, with at least two batches still to send. A failed
// producer is re-run (a DAG retry: it resends from the start, under the same event ids), then the
// topic is consumed. Checked end to end by (loop, Id): every row of every loop stored exactly once.
import { ensureTopic } from '../../lib/kafka.ts';
import type { ChaosContext } from './context.ts';
import type { ChaosInputs } from './fault.ts';
import { acknowledged, readTopicEvents, storedEvents } from './observe.ts';
import { LANDED, count, missedRow, type Row } from './report.ts';
import { BROKER_TRIES, brokerOutage, consumerArgs, dataLines, freshDb, topicSize } from './stage.ts';
import {
  CONSUMER,
  PRODUCER,
  exitWithin,
  retryUntilSuccess,
  runToEnd,
  running,
  start,
  waitForProgress,
  type Running,
} from './tasks.ts';
import { eventTallies, isClean, landing, tally } from './verify.ts';

export type ProduceFault = 'broker' | 'kill';

export const PRODUCE_FAULT_TITLES: Record<ProduceFault, string> = {
  broker: 'broker restart mid-produce',
  kill: 'producer SIGKILL mid-send, re-run',
};

// The producer's default --batch-size, passed explicitly: acknowledgements advance by whole batches.
const PRODUCER_BATCH = 400;

/** Starts the producer on a topic created beforehand, and waits until `target` messages are acknowledged. */
async function produceUntil(ctx: ChaosContext, topic: string, label: string, args: string[], target: number) {
  const admin = ctx.kafka.admin();
  await admin.connect();
  try {
    // Created here (as the producer would) so that its end offsets can be polled from the start.
    await ensureTopic(admin, topic, ctx.config.kafka.partitions);
    const run: Running = start(ctx, label, PRODUCER, args);
    const atStop = await waitForProgress(run, target, () => acknowledged(admin, topic));
    return { run, atStop };
  } finally {
    await admin.disconnect();
  }
}

/** Consumes the topic and checks every (loop, Id) row stored once, and the consumer exact against the topic. */
async function checkEndToEnd(ctx: ChaosContext, fault: ProduceFault, topic: string, loops: number) {
  const db = freshDb(ctx, `${fault}-produce`);
  const args = consumerArgs(ctx, topic, db, `chaos-${fault}produce-${ctx.tag}`);
  if ((await runToEnd(ctx, 'consumer (after produce fault)', CONSUMER, args)) !== 0)
    throw new Error('consumer failed after the produce fault');
  const topicEvents = await readTopicEvents(ctx.kafka, topic, `chaos-reader-${ctx.tag}-${topic}`);
  const { events, deadLetters } = storedEvents(db, ctx.date);
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
  const detail = `topic holds ${count(topicEvents.length)} messages for ${count(expectedRows.length)} (loop, Id) rows, stored ${count(rows.stored)} (lost ${rows.lost}, dup ${rows.duplicated}); consumer exact vs topic: lost ${consumed.lost}, dup ${consumed.duplicated}`;
  return { tally: t, deadLetters, detail };
}

export async function produceFault(
  ctx: ChaosContext,
  { population, loops }: ChaosInputs,
  fault: ProduceFault,
): Promise<Row> {
  const name = PRODUCE_FAULT_TITLES[fault];
  const planned = dataLines(population) * loops;
  const tries: string[] = [];
  for (let i = 1; i <= BROKER_TRIES; i++) {
    const topic = `chaos.${fault}produce.${ctx.tag}.${i}`;
    const args = [
      ...['--file', population, '--loops', String(loops), '--topic', topic, '--date', ctx.date],
      ...['--batch-size', String(PRODUCER_BATCH)],
    ];
    const target = 1 + Math.floor(ctx.random() * Math.max(1, planned - 2 * PRODUCER_BATCH));
    const { run, atStop } = await produceUntil(ctx, topic, `producer ${i} (${name})`, args, target);
    const runningAtStop = running(run) && atStop < planned;
    let backSeconds = 0;
    let runningWhenBack = false;
    if (runningAtStop && fault === 'kill') {
      process.kill(-run.child.pid!, 'SIGKILL');
      ctx.say(`producer killed at ${atStop}/${planned} acknowledged (try ${i})`);
    } else if (runningAtStop) {
      backSeconds = await brokerOutage(ctx);
      runningWhenBack = running(run);
      ctx.say(
        `broker stopped at ${atStop}/${planned} acknowledged (producer try ${i}), back in ${backSeconds} s`,
      );
    }
    const exit = await exitWithin(run, 180_000, () => process.kill(-run.child.pid!, 'SIGKILL'));
    const afterFault = await topicSize(ctx, topic);
    const landed = landing({
      runningAtStop,
      doneAtStop: atStop,
      total: planned,
      exitCode: exit.code,
      runningWhenBack,
    });
    const retries =
      exit.code === 0 ? 0 : await retryUntilSuccess(ctx, `producer ${i} after ${name}`, PRODUCER, args);
    const at = `${count(atStop)}/${count(planned)} acknowledged`;
    const stop = !runningAtStop
      ? `producer done at ${count(atStop)} acknowledged before the fault`
      : fault === 'kill'
        ? `killed at ${at}`
        : `stopped at ${at}, broker back in ${backSeconds.toFixed(0)} s`;
    tries.push(
      `try ${i}: ${stop}; producer exit ${exit.code ?? exit.signal} (${landed}), topic held ${count(afterFault)} after it, ${retries} re-runs`,
    );
    if (landed === 'missed') continue;
    const checked = await checkEndToEnd(ctx, fault, topic, loops);
    return {
      fault: name,
      runs: 1,
      tally: checked.tally,
      ok: isClean(checked.tally) && checked.deadLetters === 0,
      landed: `${at}; ${LANDED[landed]}`,
      detail: `${tries.join('; ')}; ${checked.detail}`,
    };
  }
  return missedRow(name, tries);
}
