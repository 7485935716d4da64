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
  /**
   * Peak resident set in kB: the larger of GNU time's figure (largest single process) and the
   * sampled sum over the process tree (a task forking workers counts all of them).
   */
  peakRssKb?: number;
  pid?: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdoutFile: string;
  stderrFile: string;
}

const GNU_TIME = '/usr/bin/time';

/** A TypeScript CLI run by node with the tsx loader. */
export function tsCommand(
  label: string,
  file: string,
  args: string[],
  env?: Record<string, string>,
): Command {
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
    const sampler = sampleTreeRss(child.pid);
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
      (resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code, sig) => resolve([code, sig]));
      },
    );
    const seconds = (performance.now() - start) / 1000;
    const treePeak = sampler.stop();
    const timePeak = useTime ? readGnuTimeRss(rssFile) : undefined;
    const peakRssKb = Math.max(treePeak, timePeak ?? 0) || undefined;
    // GNU time exits with the child's status; a signal shows as 128+n with a "Command terminated" line.
    return { seconds, peakRssKb, pid: child.pid, exitCode, signal, stdoutFile, stderrFile };
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

/** Parent pid from /proc/<pid>/stat (the field after the parenthesised command name). */
export function parentPidOf(statLine: string): number {
  const rest = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  return Number(rest[1]);
}

/** The pid and all its descendants, from a pid -> parent map (pure). */
export function treeOf(root: number, parents: ReadonlyMap<number, number>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

function processParents(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parents.set(Number(entry), parentPidOf(fs.readFileSync(`/proc/${entry}/stat`, 'utf8')));
    } catch {
      // the process ended between readdir and read
    }
  }
  return parents;
}

function rssKbOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Samples the summed RSS of a process tree every `intervalMs`; stop() returns the peak (kB). */
export function sampleTreeRss(root: number | undefined, intervalMs = 250): { stop: () => number } {
  let peak = 0;
  if (root === undefined || !fs.existsSync('/proc/self/stat')) return { stop: () => 0 };
  const sample = (): void => {
    const total = treeOf(root, processParents()).reduce((sum, pid) => sum + rssKbOf(pid), 0);
    peak = Math.max(peak, total);
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}
