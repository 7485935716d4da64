// What every task's CLI shares: its flag parsers and its exit contract (0 on success; otherwise one
// line `<task>: <reason>` on stderr and exit 1, never a stack trace).
import { InvalidArgumentError } from 'commander';

/** commander parser for counts, loops, workers: an integer >= 1. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** Parses `10s`, `500ms`, `2m`, `1h`, or a bare number of seconds into milliseconds (--interval). */
export function parseInterval(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`--interval must look like 10s, 500ms or 2m, got "${text}"`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * factor);
}

/** First line of an error's message: the one-line reason a task prints before exiting. */
export function oneLineReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? '';
}

/**
 * Runs a CLI's main and exits with the task's contract: the exit code main resolves to (0 when it
 * resolves to nothing). `explain` maps a low-level error to the one the user should read (e.g. a
 * kafkajs connection error to "Kafka broker unreachable at ...").
 */
export function runMain(
  name: string,
  main: () => Promise<number | void>,
  explain: (err: unknown) => unknown = (e) => e,
): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (err: unknown) => {
      process.stderr.write(`${name}: ${oneLineReason(explain(err))}\n`);
      process.exit(1);
    },
  );
}
