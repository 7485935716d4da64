// Runs a child process timed, with its peak RSS (GNU time's %M, the kernel's ru_maxrss of the child
// and its waited descendants) and its output in log files. TypeScript CLIs run as
// `node --import tsx <cli.ts>` so the measured process is the task itself, not an npm/tsx wrapper.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export interface Command {
  /** Short name for logs and errors, e.g. "producer run 2". */
  label: string;
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

export interface Timed {
  seconds: number;
  /** Peak resident set in kB; undefined when GNU time is unavailable. */
  peakRssKb?: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdoutFile: string;
  stderrFile: string;
}

const GNU_TIME = '/usr/bin/time';

/** A TypeScript CLI run by node with the tsx loader. */
export function tsCommand(label: string, file: string, args: string[], env?: Record<string, string>): Command {
  return { label, cmd: process.execPath, args: ['--import', 'tsx', file, ...args], env };
}

function slug(label: string): string {
  return label.replace(/[^a-zA-Z0-9._-]+/g, '-');
}

/** Runs to completion; never throws on a non-zero exit (see `ensureSuccess`). */
export async function runTimed(command: Command, logDir: string): Promise<Timed> {
  fs.mkdirSync(logDir, { recursive: true });
  const base = path.join(logDir, slug(command.label));
  const stdoutFile = `${base}.out`;
  const stderrFile = `${base}.err`;
  const rssFile = `${base}.rss`;
  const useTime = fs.existsSync(GNU_TIME);
  const [cmd, args] = useTime
    ? [GNU_TIME, ['-f', '%M', '-o', rssFile, command.cmd, ...command.args]]
    : [command.cmd, command.args];
  const out = fs.openSync(stdoutFile, 'w');
  const err = fs.openSync(stderrFile, 'w');
  const start = performance.now();
  try {
    const child = spawn(cmd, args, {
      cwd: command.cwd,
      env: { ...process.env, ...command.env },
      stdio: ['ignore', out, err],
    });
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, sig) => resolve([code, sig]));
    });
    const seconds = (performance.now() - start) / 1000;
    const peakRssKb = useTime ? readGnuTimeRss(rssFile) : undefined;
    // GNU time exits with the child's status; a signal shows as 128+n with a "Command terminated" line.
    return { seconds, peakRssKb, exitCode, signal, stdoutFile, stderrFile };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
}

/** The last number GNU time wrote (it may prefix a "Command exited with non-zero status" line). */
export function parseGnuTimeRss(text: string): number | undefined {
  const numbers = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d+$/.test(l));
  const last = numbers.at(-1);
  return last === undefined ? undefined : Number(last);
}

function readGnuTimeRss(file: string): number | undefined {
  try {
    return parseGnuTimeRss(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Throws with the command's last stderr lines when it failed. */
export function ensureSuccess(command: Command, result: Timed): Timed {
  if (result.exitCode === 0) return result;
  throw new Error(
    `${command.label} failed (exit ${result.exitCode ?? result.signal}); last stderr lines:\n${tail(result.stderrFile)}\n(full logs: ${result.stderrFile})`,
  );
}
