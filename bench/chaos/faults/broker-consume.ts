// Broker stopped while the consumer runs, once some but not all of the topic is committed in SQLite;
// the consumer is re-run until it succeeds. A stop that met no work in flight is repeated.
import type { ChaosContext } from '../context.ts';
import type { ChaosInputs, Fault } from '../fault.ts';
import { LANDED, count, missedRow, type Row } from '../report.ts';
import {
  BROKER_TRIES,
  CONSUME_FETCH_BYTES,
  brokerOutage,
  committed,
  consumerArgs,
  freshDb,
  produce,
  topicSize,
  verifyConsumed,
} from '../stage.ts';
import { CONSUMER, retryUntilSuccess, running, start, waitForProgress } from '../tasks.ts';
import { isClean, landing } from '../verify.ts';

const TITLE = 'broker restart mid-consume';

async function run(ctx: ChaosContext, { population, loops }: ChaosInputs): Promise<Row> {
  const topic = `chaos.bconsume.${ctx.tag}`;
  await produce(ctx, topic, population, loops);
  const total = await topicSize(ctx, topic);
  const tries: string[] = [];
  for (let i = 1; i <= BROKER_TRIES; i++) {
    const db = freshDb(ctx, `broker-consume-${i}`);
    const group = `chaos-bconsume-${ctx.tag}-${i}`;
    // The default 2 MiB fetches take a --short topic (about 1 MiB per partition) in one go, after
    // which the consumer no longer needs the broker; small fetches keep it fetching all along.
    const args = [
      ...consumerArgs(ctx, topic, db, group),
      '--max-bytes-per-partition',
      String(CONSUME_FETCH_BYTES),
    ];
    const consumer = start(ctx, `consumer ${i} (broker restart)`, CONSUMER, args);
    // Anywhere in the first 60%: the whole stream is committed in a few seconds.
    const target = 1 + Math.floor(ctx.random() * Math.max(1, total * 0.6));
    const atStop = await waitForProgress(consumer, target, () => committed(db, group));
    const runningAtStop = running(consumer) && atStop < total;
    let backSeconds = 0;
    let runningWhenBack = false;
    if (runningAtStop) {
      backSeconds = await brokerOutage(ctx);
      runningWhenBack = running(consumer);
      ctx.say(`broker stopped at ${atStop}/${total} committed (consumer try ${i}), back in ${backSeconds} s`);
    }
    const exit = await consumer.exited;
    const landed = landing({
      runningAtStop,
      doneAtStop: atStop,
      total,
      exitCode: exit.code,
      runningWhenBack,
    });
    const retries =
      exit.code === 0
        ? 0
        : await retryUntilSuccess(ctx, `consumer ${i} after broker restart`, CONSUMER, args);
    const stop = runningAtStop
      ? `stopped at ${count(atStop)}/${count(total)} committed, broker back in ${backSeconds.toFixed(0)} s`
      : `consumer done at ${count(atStop)} committed before the stop`;
    tries.push(
      `try ${i}: ${stop}; consumer exit ${exit.code ?? exit.signal} (${landed}), ${retries} re-runs`,
    );
    if (landed === 'missed') continue;
    const { tally: t, deadLetters } = await verifyConsumed(ctx, topic, db);
    return {
      fault: TITLE,
      runs: 1,
      tally: t,
      ok: isClean(t) && deadLetters === 0,
      landed: `${count(atStop)}/${count(total)} committed; ${LANDED[landed]}`,
      detail: `${tries.join('; ')}; ${count(t.stored)}/${count(t.expected)} events; dead letters ${deadLetters}`,
    };
  }
  return missedRow(TITLE, tries);
}

export const brokerConsumeFault: Fault = { name: 'broker-consume', title: TITLE, run };
