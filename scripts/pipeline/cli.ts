// npm run pipeline -- [--data DIR] [--date D]
// Uploads the four source CSVs to HDFS /data/raw, then runs the four tasks in DAG order against the
// running stack, exactly as the DAG's local mode does (`npm run <task> -- --date D` in the repo), and
// prints a summary table read from each task's final JSON line. Exits non-zero at the first failure.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { runMain } from '../../lib/cli.ts';
import { loadConfig, parseDate, today } from '../../lib/config.ts';
import { countsOf, formatTable, lastJsonLine, STEPS, type StepResult } from './steps.ts';
import { uploadSources } from './upload.ts';

const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Flags {
  data: string;
  date?: string;
  upload: boolean;
  uploadOnly?: boolean;
  json?: boolean;
}

const program = new Command('pipeline')
  .description(
    'Upload the source CSVs to HDFS and run start_producer, transform_hdfs, start_consumer and compute_cube in order against the running stack (as the DAG in local mode).',
  )
  .option('--data <dir>', 'folder holding the four source CSVs', 'data/sample')
  .option('--date <YYYY-MM-DD>', 'logical date of the run (env RUN_DATE, default today)')
  .option('--no-upload', 'skip the upload: use the files already in HDFS_RAW_DIR')
  .option('--upload-only', 'upload the sources, run no task')
  .option('--json', 'print the results as one JSON line instead of the table')
  .addHelpText(
    'after',
    '\nEnvironment: HDFS_URL, HDFS_USER, HDFS_RAW_DIR, KAFKA_BROKERS, ... as the tasks (see .env.example);\nPIPELINE_LOCAL_RUNNER (default "npm run --silent") runs each task.',
  )
  .showHelpAfterError();

function say(message: string): void {
  process.stderr.write(`[pipeline] ${message}\n`);
}

/** Runs one task as a child process; its logs (stderr) pass through, its stdout is kept for the summary. */
function runStep(
  npmScript: string,
  date: string,
): Promise<{ code: number | null; stdout: string; seconds: number }> {
  const [command = 'npm', ...runnerArgs] = (process.env.PIPELINE_LOCAL_RUNNER || 'npm run --silent').split(
    /\s+/,
  );
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...runnerArgs, npmScript, '--', '--date', date], {
      cwd: REPO_DIR,
      env: process.env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      // The summary is the last line: keep a bounded tail, not everything a task may print.
      stdout = (stdout + chunk).slice(-1_000_000);
    });
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({ code, stdout, seconds: Number(process.hrtime.bigint() - started) / 1e9 }),
    );
  });
}

async function main(): Promise<number> {
  program.parse();
  const flags = program.opts<Flags>();
  const date = parseDate(flags.date ?? process.env.RUN_DATE ?? today());
  const config = loadConfig({ ...process.env, RUN_DATE: date });
  const dataDir = path.resolve(flags.data);

  if (flags.upload) await uploadSources(config, dataDir, say);
  if (flags.uploadOnly) return 0;

  const results: StepResult[] = [];
  for (const step of STEPS) {
    say(`${step.taskId}: npm run ${step.npmScript} -- --date ${date}`);
    const run = await runStep(step.npmScript, date);
    const summary = lastJsonLine(run.stdout);
    results.push({
      taskId: step.taskId,
      status: run.code === 0 ? 'ok' : 'failed',
      exitCode: run.code,
      seconds: run.seconds,
      ...(summary ? { summary, ...countsOf(step.taskId, summary) } : {}),
    });
    if (run.code !== 0) break;
  }
  for (const step of STEPS.slice(results.length)) results.push({ taskId: step.taskId, status: 'skipped' });

  if (flags.json) process.stdout.write(`${JSON.stringify({ date, steps: results })}\n`);
  else
    process.stdout.write(
      `\npipeline ${date} (data ${path.relative(REPO_DIR, dataDir) || '.'})\n${formatTable(results)}\n`,
    );

  const failed = results.find((r) => r.status === 'failed');
  if (failed) {
    process.stderr.write(
      `pipeline: ${failed.taskId} failed (exit ${failed.exitCode}); later steps skipped\n`,
    );
    return 1;
  }
  return 0;
}

runMain('pipeline', main);
