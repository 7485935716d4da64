// The scaffold every task CLI shares (with lib/cli.ts, its flag parsers and exit contract): flags to
// config in one place, one stop signal. Kafka's admin helper is lib/kafka.ts withAdmin; the success
// gauges and their push are lib/metrics.ts createRunGauges / recordBatchRun.
import type { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, parseDate, type Config } from './config.ts';

/** Parses the command line (exits with usage on a bad flag) and returns the flags. */
export function parseFlags<F extends object>(program: Command): F {
  program.parse();
  return program.opts<F>();
}

/** The help epilogue of a task: the environment it reads and its exit contract. */
export function taskHelp(env: readonly string[], onFailure: string): string {
  return `\nEnvironment: ${env.join(', ')}.\nExit code 0 on success; 1 with a one-line error on stderr otherwise (${onFailure}).`;
}

/**
 * The config of a task run: the environment, overridden by the flags given. `date` is the --date
 * flag (a real calendar day, else a one-line error); `env` maps environment names to flag values,
 * of which the undefined ones (flags not given) are left out.
 */
export function taskConfig(date: string | undefined, env: Record<string, string | undefined> = {}): Config {
  const given = Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '');
  return loadConfig({
    ...process.env,
    ...(date ? { RUN_DATE: parseDate(date) } : {}),
    ...Object.fromEntries(given),
  });
}

/** Resolves on the first SIGTERM or SIGINT: a task stops at its next safe point. */
export function stopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}

/** Whether process `pid` exists (EPERM: it does, under another user). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the entries of `dir` named `<prefix><pid>-...` left by this process or by one that is
 * gone: scratch files and directories of runs killed (kill -9) before they could remove their own.
 */
export function removeLeftovers(dir: string, prefix: string): void {
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (pid === process.pid || !isAlive(pid)) {
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    }
  }
}
