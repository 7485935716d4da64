// NameNode stopped during transform_hdfs: the joined file stays whole (previous or new).
import { sleep, type ChaosContext } from '../context.ts';
import type { ChaosInputs, Fault } from '../fault.ts';
import type { Row } from '../report.ts';
import { stopService } from '../stack-control.ts';
import { joinedHashes, restoreStack, upload } from '../stage.ts';
import { TRANSFORM, exitWithin, retryUntilSuccess, runToEnd, start } from '../tasks.ts';
import { EMPTY_TALLY, fileVerdict, randomDelays } from '../verify.ts';

const TITLE = 'NameNode restart during transform';

async function run(ctx: ChaosContext, { small, big, nnRuns: runs }: ChaosInputs): Promise<Row> {
  const transformArgs = ['--date', ctx.date];
  await upload(ctx, big);
  const t0 = Date.now();
  if ((await runToEnd(ctx, 'transform new (reference)', TRANSFORM, transformArgs)) !== 0)
    throw new Error('reference transform failed');
  const duration = Date.now() - t0;
  const [newDated, newLatest] = await joinedHashes(ctx);
  const details: string[] = [];
  let ok = true;
  let injected = 0;
  // A transform that finished before the stop proves nothing: such a run is repeated with an earlier
  // stop (up to 3 tries per wanted run), since a quiet machine can finish before the drawn delay.
  let window = 1;
  for (let i = 1; injected < runs && i <= runs * 3; i++) {
    await upload(ctx, small);
    if ((await runToEnd(ctx, `transform previous ${i}`, TRANSFORM, transformArgs)) !== 0)
      throw new Error('previous transform failed');
    const [prevDated, prevLatest] = await joinedHashes(ctx);
    await upload(ctx, big);
    const faulted = start(ctx, `transform faulted ${i}`, TRANSFORM, transformArgs);
    const [delay] = randomDelays(
      1,
      Math.max(150, duration * 0.2 * window),
      Math.max(300, duration * 0.6 * window),
      ctx.random,
    );
    await sleep(delay!);
    const stillRunning = faulted.child.exitCode === null;
    await stopService(ctx.root, 'namenode', ctx.signal);
    ctx.say(
      `NameNode stopped ${delay} ms into transform ${i} (transform ${stillRunning ? 'running' : 'already done'})`,
    );
    // Restarted at once (as a supervisor would) while the transform sees it gone.
    const up = restoreStack(ctx);
    const exit = await exitWithin(faulted, 180_000, () => faulted.child.kill('SIGKILL'));
    // Seen with the NameNode back, before any retry: the state the fault left.
    const upSeconds = await up;
    const [afterDated, afterLatest] = await joinedHashes(ctx);
    const seen = [
      fileVerdict(afterDated, prevDated!, newDated!),
      fileVerdict(afterLatest, prevLatest!, newLatest!),
    ];
    let retries = 0;
    if (exit.code !== 0) retries = await retryUntilSuccess(ctx, `transform ${i}`, TRANSFORM, transformArgs);
    const [finalDated, finalLatest] = await joinedHashes(ctx);
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
    fault: TITLE,
    runs: injected,
    tally: EMPTY_TALLY,
    ok: ok && injected === runs,
    landed: `${injected} stop(s) with the transform running`,
    detail: details.join('; '),
  };
}

export const namenodeFault: Fault = { name: 'namenode', title: TITLE, run };
