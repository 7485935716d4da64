// The process tree of `npm run live`: each follower is a child process with its logs in a file; one
// that dies on its own is restarted (after a back-off) like a service manager would; stop() sends
// SIGTERM to all of them and waits for each to finish its clean shutdown (SIGKILL after a timeout).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface ServiceSpec {
  name: string;
  /** Arguments of `node` (e.g. --import tsx tasks/consumer/cli.ts --follow). */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Each stderr line (JSON logs), besides the log file. */
  onLine?: (line: string) => void;
}

export interface SupervisorOptions {
  cwd: string;
  logDir: string;
  /** Where the current pid of each service is written (tests kill a follower by it). */
  pidFile: string;
  say: (message: string) => void;
  stopTimeoutMs?: number;
}

/** Pure: the pause before the n-th restart in a row (1 s, 2 s, 4 s ... 30 s). */
export function restartDelayMs(restartsInARow: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, restartsInARow - 1));
}

interface Running {
  spec: ServiceSpec;
  child: ChildProcess;
  exited: Promise<void>;
  restarts: number;
  startedAt: number;
}

export class Supervisor {
  private readonly running = new Map<string, Running>();
  private stopping = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: SupervisorOptions) {
    fs.mkdirSync(opts.logDir, { recursive: true });
  }

  logFile(name: string): string {
    return path.join(this.opts.logDir, `${name}.log`);
  }

  start(spec: ServiceSpec, restarts = 0): void {
    const log = fs.createWriteStream(this.logFile(spec.name), { flags: 'a' });
    const child = spawn(process.execPath, spec.args, {
      cwd: this.opts.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log, { end: false });
    let partial = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      log.write(chunk);
      if (!spec.onLine) return;
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) spec.onLine(line);
    });
    const exited = new Promise<void>((resolve) =>
      child.once('close', (code, signal) => {
        log.end();
        this.onExit(spec, code, signal);
        resolve();
      }),
    );
    this.running.set(spec.name, { spec, child, exited, restarts, startedAt: Date.now() });
    this.writePids();
  }

  private onExit(spec: ServiceSpec, code: number | null, signal: NodeJS.Signals | null): void {
    const entry = this.running.get(spec.name);
    if (this.stopping || entry === undefined) return;
    // A run that lasted a minute resets the back-off.
    const restarts = Date.now() - entry.startedAt > 60_000 ? 1 : entry.restarts + 1;
    const delay = restartDelayMs(restarts);
    this.opts.say(
      `${spec.name} exited (${signal ?? `code ${code}`}); restarting in ${delay / 1000} s (log: ${this.logFile(spec.name)})`,
    );
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopping) this.start(spec, restarts);
    }, delay);
    this.timers.add(timer);
  }

  pids(): Record<string, number | undefined> {
    return Object.fromEntries([...this.running].map(([name, r]) => [name, r.child.pid]));
  }

  private writePids(): void {
    fs.writeFileSync(this.opts.pidFile, `${JSON.stringify(this.pids())}\n`);
  }

  /** SIGTERM to every service, then waits for all (SIGKILL to those still running after the timeout). */
  async stop(): Promise<{ name: string; code: number | null; signal: NodeJS.Signals | null }[]> {
    this.stopping = true;
    for (const timer of this.timers) clearTimeout(timer);
    const entries = [...this.running.values()];
    for (const r of entries)
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
    const timeout = setTimeout(() => {
      for (const r of entries)
        if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    }, this.opts.stopTimeoutMs ?? 30_000);
    await Promise.all(entries.map((r) => r.exited));
    clearTimeout(timeout);
    fs.rmSync(this.opts.pidFile, { force: true });
    return entries.map((r) => ({ name: r.spec.name, code: r.child.exitCode, signal: r.child.signalCode }));
  }
}
