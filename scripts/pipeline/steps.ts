// The four pipeline steps in DAG order and how to read each task's final JSON summary line into one
// row of the pipeline's table. Pure: no I/O, so the parsing is unit-tested on the tasks' real shapes.

export interface PipelineStep {
  /** Task id in the DAG (dags/data_pipeline_dag.py). */
  taskId: string;
  /** npm script that runs the task's CLI. */
  npmScript: string;
}

export const STEPS: readonly PipelineStep[] = [
  { taskId: 'start_producer', npmScript: 'producer' },
  { taskId: 'transform_hdfs', npmScript: 'transform-hdfs' },
  { taskId: 'start_consumer', npmScript: 'consumer' },
  { taskId: 'compute_cube', npmScript: 'compute-cube' },
];

export interface StepCounts {
  rowsIn?: number;
  rejected?: number;
  written?: number;
  cubes?: number;
}

export interface StepResult extends StepCounts {
  taskId: string;
  status: 'ok' | 'failed' | 'skipped';
  exitCode?: number | null;
  seconds?: number;
  /** The task's summary object, as printed. */
  summary?: Record<string, unknown>;
  error?: string;
}

type Json = Record<string, unknown>;

/** The last stdout line that parses as a JSON object: the task's summary (pure). */
export function lastJsonLine(stdout: string): Json | undefined {
  const lines = stdout.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]?.trim();
    if (!line || !line.startsWith('{')) continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Json;
    } catch {
      // a log line that merely starts with "{": keep looking
    }
  }
  return undefined;
}

/** A count from a number, an array (its length) or a record of numbers (their sum). */
function count(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (Array.isArray(value)) return value.length;
  if (value && typeof value === 'object') {
    // A record of counts (e.g. rejects by reason); an empty one means none.
    const values = Object.values(value as Json);
    let sum = 0;
    let any = values.length === 0;
    for (const v of values) {
      const n = count(v);
      if (n !== undefined) {
        sum += n;
        any = true;
      }
    }
    return any ? sum : undefined;
  }
  return undefined;
}

function first(summary: Json, keys: readonly string[]): number | undefined {
  for (const key of keys) {
    const n = count(summary[key]);
    if (n !== undefined) return n;
  }
  return undefined;
}

/** Nested objects one level down, e.g. { rows: { in, rejected, written } }, flattened with a prefix. */
function flatten(summary: Json): Json {
  const flat: Json = { ...summary };
  for (const [key, value] of Object.entries(summary)) {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, v] of Object.entries(value as Json)) {
        const name = `${key}${inner[0]?.toUpperCase() ?? ''}${inner.slice(1)}`;
        if (!(name in flat)) flat[name] = v;
      }
    }
  }
  return flat;
}

const ROWS_IN = ['rowsIn', 'rowsRead', 'inputRows', 'read', 'rows', 'rowsIn_total'];
const REJECTED = ['rejected', 'rejects', 'rowsRejected', 'rejectedRows', 'deadLetters', 'rejectsByReason'];
const WRITTEN = [
  'written',
  'rowsWritten',
  'outputRows',
  'rowsJoined',
  'joinedRows',
  'stored',
  'produced',
  'rowsOut',
];
const CUBES = ['cubesBuilt', 'cubes', 'cubeCount', 'tables'];

/** Reads one task's summary into the table's counts; a missing count stays undefined (pure). */
export function countsOf(taskId: string, raw: Json): StepCounts {
  const summary = flatten(raw);
  const rejected = first(summary, REJECTED);
  const written = first(summary, WRITTEN);
  let rowsIn = first(summary, ROWS_IN);
  if (rowsIn === undefined) {
    if (taskId === 'start_consumer' && typeof summary.stored === 'number') {
      // Every consumed message is stored, a duplicate of a stored one, or a dead letter.
      rowsIn =
        (summary.stored as number) + (count(summary.duplicates) ?? 0) + (count(summary.deadLetters) ?? 0);
    } else if (taskId === 'start_producer' && typeof summary.produced === 'number') {
      const loops = typeof summary.loops === 'number' && summary.loops > 0 ? summary.loops : 1;
      rowsIn = summary.produced / loops + (rejected ?? 0);
    }
  }
  // compute_cube reports rows written per cube: one key per cube built.
  const rowsOut = raw.rowsOut;
  const cubes =
    first(summary, CUBES) ??
    (taskId === 'compute_cube' && rowsOut && typeof rowsOut === 'object'
      ? Object.keys(rowsOut).length
      : undefined);
  return {
    ...(rowsIn !== undefined ? { rowsIn } : {}),
    ...(rejected !== undefined ? { rejected } : {}),
    ...(written !== undefined ? { written } : {}),
    ...(cubes !== undefined ? { cubes } : {}),
  };
}

function cell(n: number | undefined): string {
  return n === undefined ? '-' : n.toLocaleString('en-US');
}

/** The summary table, aligned for a terminal (pure). */
export function formatTable(results: readonly StepResult[]): string {
  const header = ['step', 'status', 'rows in', 'rejected', 'written', 'cubes', 'seconds'];
  const rows = results.map((r) => [
    r.taskId,
    r.status,
    cell(r.rowsIn),
    cell(r.rejected),
    cell(r.written),
    cell(r.cubes),
    r.seconds === undefined ? '-' : r.seconds.toFixed(2),
  ]);
  const total = results.reduce((s, r) => s + (r.seconds ?? 0), 0);
  rows.push([
    'total',
    results.every((r) => r.status === 'ok') ? 'ok' : 'failed',
    '',
    '',
    '',
    '',
    total.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.slice(0, -1).map(line), rule, line(rows[rows.length - 1] ?? [])].join(
    '\n',
  );
}
