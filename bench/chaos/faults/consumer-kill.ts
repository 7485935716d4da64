// SIGKILL of the consumer at random points, restarted each time, then run to the end. One kill at a
// random time after start (start-up, joined-attributes load), then `kills` kills at random committed
// positions, one in each k-th slice of the stream, so every phase of a run is hit at any speed.
import { sleep, type ChaosContext } from '../context.ts';
import type { ChaosInputs, Fault } from '../fault.ts';
import { readTopicEvents } from '../observe.ts';
import { count, type Row } from '../report.ts';
import { CONSUME_FETCH_BYTES, committed, consumerArgs, freshDb, produce, verifyConsumed } from '../stage.ts';
import { CONSUMER, runToEnd, start } from '../tasks.ts';
import { isClean, randomDelays } from '../verify.ts';

const TITLE = 'consumer SIGKILL at random points';

/** A kill by time, during start-up; returns where it landed, or undefined if the run ended first. */
async function startupKill(ctx: ChaosContext, args: string[], db: string, group: string) {
  const [delay] = randomDelays(1, 200, 1500, ctx.random);
  const run = start(ctx, 'consumer kill startup', CONSUMER, args);
  const exit = await Promise.race([run.exited, sleep(delay!).then(() => undefined)]);
  if (exit !== undefined) return undefined;
  process.kill(-run.child.pid!, 'SIGKILL');
  await run.exited;
  return `${delay} ms (start-up, ${committed(db, group)} committed)`;
}

/** Runs the consumer until `target` messages are committed, then SIGKILLs it; false if it drained first. */
async function killAtCommitted(
  ctx: ChaosContext,
  label: string,
  args: string[],
  db: string,
  group: string,
  target: number,
) {
  const run = start(ctx, label, CONSUMER, args);
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
  return killed;
}

async function run(ctx: ChaosContext, { population, loops, kills }: ChaosInputs): Promise<Row> {
  const topic = `chaos.kill.${ctx.tag}`;
  const db = freshDb(ctx, 'kill');
  const group = `chaos-kill-${ctx.tag}`;
  await produce(ctx, topic, population, loops);
  const total = (await readTopicEvents(ctx.kafka, topic, `chaos-count-${ctx.tag}`)).length;
  const points: string[] = [];
  let done = 0;
  let midStream = 0;
  // Small fetches, as for the broker fault: with the default 2 MiB a --short partition commits in
  // steps of ~33k messages, and kill points bunch up at those steps or after the last one.
  const args = [
    ...consumerArgs(ctx, topic, db, group),
    '--max-bytes-per-partition',
    String(CONSUME_FETCH_BYTES),
  ];
  const startup = await startupKill(ctx, args, db, group);
  if (startup !== undefined) {
    done++;
    points.push(startup);
  }
  // Progress kills: at a random committed position inside slice k of the stream.
  for (let k = 0; k < kills; k++) {
    const from = committed(db, group);
    const sliceStart = Math.max(from, Math.floor((k * total) / (kills + 1)));
    const sliceEnd = Math.floor(((k + 1) * total) / (kills + 1));
    const target = sliceStart + Math.floor(ctx.random() * Math.max(1, sliceEnd - sliceStart));
    if (!(await killAtCommitted(ctx, `consumer kill ${k + 1}`, args, db, group, target))) break; // drained: done
    done++;
    const at = committed(db, group);
    if (at < total) midStream++;
    points.push(`${count(at)}/${count(total)} committed`);
    ctx.say(`consumer SIGKILLed at ${at} of ${total} committed (${done})`);
  }
  if ((await runToEnd(ctx, 'consumer final', CONSUMER, args)) !== 0)
    throw new Error('final consumer run failed');
  const { tally: t, deadLetters } = await verifyConsumed(ctx, topic, db);
  return {
    fault: TITLE,
    runs: done,
    tally: t,
    ok: isClean(t) && deadLetters === 0 && done >= Math.min(5, kills),
    landed: `${done} kills with the consumer running, ${midStream} mid-stream`,
    detail: `kills at ${points.join('; ')}; ${count(t.stored)} events stored of ${count(t.expected)} produced; dead letters ${deadLetters}`,
  };
}

export const consumerKillFault: Fault = { name: 'consumer-kill', title: TITLE, run };
