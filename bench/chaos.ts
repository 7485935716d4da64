// npm run chaos [-- --short] [--only a,b] [--hard]: injects faults into real runs against the local
// stack and checks that nothing is lost or duplicated (one fault per file under chaos/faults/):
//   consumer-kill     SIGKILL of the consumer at random points (>= 5), restart, until done
//   broker-produce    Kafka broker stopped while the producer has messages acknowledged and more to
//                     send (topic end offsets), restarted with `npm run stack -- up`
//   producer-kill     SIGKILL of the producer mid-send, then a re-run under the same event ids
//   broker-consume    Kafka broker stopped while the consumer has committed part of the topic,
//                     restarted the same way; a broker stop that met no work in flight is repeated
//   namenode          NameNode stopped mid-transform: all_data_joined.csv must be the whole previous
//                     or the whole new file, never a part
// A failed task is re-run, as the DAG's retries would. Prints a table; exits 1 on any loss,
// duplicate, partial file or fault that could not be injected. Nothing happens at import: the
// context (config, clients, seed) is built by main, which runs only when this file is the entry.
import { Command, InvalidArgumentError } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOURCES } from '../lib/sources.ts';
import { createChaosContext, type ChaosContext } from './chaos/context.ts';
import type { ChaosInputs, Fault } from './chaos/fault.ts';
import { FAULTS, FAULT_NAMES } from './chaos/faults/index.ts';
import { notCompletedRow, renderReport, type Row } from './chaos/report.ts';
import { ensureData, restoreStack, upload } from './chaos/stage.ts';
import { TRANSFORM, runToEnd } from './chaos/tasks.ts';

export interface ChaosOptions {
  short?: boolean;
  only?: string[];
  hard?: boolean;
  seed?: string;
}

export function chaosProgram(): Command {
  return new Command('chaos')
    .description('Fault injection against the local stack: consumer SIGKILL, broker and NameNode restarts.')
    .option('--short', 'CI form: small data, 5 kills, one restart of each service (a few minutes)')
    .option('--only <faults>', `comma-separated subset of ${FAULT_NAMES.join(',')}`, (v: string) => {
      const names = v.split(',').map((s) => s.trim());
      for (const n of names)
        if (!FAULT_NAMES.includes(n)) throw new InvalidArgumentError(`unknown fault "${n}"`);
      return names;
    })
    .option('--hard', 'SIGKILL the broker and NameNode instead of SIGTERM')
    .option('--seed <n>', 'seed of the random kill points (default: random)')
    .showHelpAfterError();
}

/** Sizes of a run: --short (CI) or full. */
export function chaosSizes(short: boolean) {
  return short
    ? { rows: 20_000, smallRows: 2_000, loops: 5, kills: 5, nnRuns: 1 }
    : { rows: 100_000, smallRows: 10_000, loops: 10, kills: 10, nnRuns: 3 };
}

/** Runs one fault; one that throws is a FAIL row, and the shared stack is brought back up. */
async function runFault(ctx: ChaosContext, fault: Fault, inputs: ChaosInputs): Promise<Row> {
  try {
    return await fault.run(ctx, inputs);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    ctx.say(`${fault.name} could not run: ${message}`);
    // Leave the shared stack as we found it.
    await restoreStack(ctx).catch(() => undefined);
    return notCompletedRow(fault.title, message);
  }
}

export async function main(argv = process.argv): Promise<number> {
  const opts = chaosProgram().parse(argv).opts<ChaosOptions>();
  const seed = Number(opts.seed ?? Math.floor(Math.random() * 2 ** 31));
  const ctx = createChaosContext({ root: process.cwd(), seed, hard: opts.hard === true });
  const wanted = new Set(opts.only ?? FAULT_NAMES);
  const p = chaosSizes(opts.short === true);
  ctx.say(`seed ${seed}; logs in ${ctx.logs}; ${JSON.stringify(p)}`);
  fs.mkdirSync(ctx.logs, { recursive: true });
  const big = await ensureData(ctx, 'new', p.rows);
  const small = await ensureData(ctx, 'previous', p.smallRows);
  const inputs: ChaosInputs = { big, small, population: path.join(big, SOURCES.population.file), ...p };
  // Without the NameNode fault, the consumer runs still need the new joined file.
  if (!wanted.has('namenode')) {
    await upload(ctx, big);
    if ((await runToEnd(ctx, 'transform', TRANSFORM, ['--date', ctx.date])) !== 0)
      throw new Error('transform failed');
  }
  const rows: Row[] = [];
  for (const fault of FAULTS) if (wanted.has(fault.name)) rows.push(await runFault(ctx, fault, inputs));
  process.stdout.write(renderReport(rows));
  fs.writeFileSync(path.join(ctx.logs, 'result.json'), JSON.stringify({ seed, params: p, rows }, null, 2));
  return rows.every((r) => r.ok) ? 0 : 1;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`chaos: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
