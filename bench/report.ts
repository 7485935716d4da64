// The bench's result model and its renderings (terminal/Markdown table, JSON). Pure.
import type { MachineInfo } from './machine.ts';
import { markdownTable, formatNumber, formatRss, formatSeconds, type Column } from './table.ts';
import { describeTarget, evaluate, evaluateMemory, type Target, type Verdict } from './targets.ts';
import { median, perSecond } from './stats.ts';

export interface Sample {
  seconds: number;
  /** Peak resident set of the process tree, kB. */
  peakRssKb?: number;
}

export interface Side {
  name: string;
  /** Items processed per run (messages, rows, requests). */
  rows: number;
  samples: Sample[];
}

export interface StageResult {
  stage: string;
  ours: Side;
  anchor?: Side;
  target: Target;
  /** HTTP stages: median latencies and requests/s measured by the load generator (and the anchor's). */
  http?: { requestsPerSecond: number; p50Ms: number; p99Ms: number; anchorRequestsPerSecond?: number };
  /** Live stage: the worst freshness of the served cubes over the window. */
  live?: { worstFreshnessSeconds: number };
  /** Bound on the peak RSS of the process tree (SPEC 9), for stages that have one. */
  memoryBoundMb?: number;
  notes: string[];
}

export interface SideSummary {
  name: string;
  rows: number;
  runs: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssKb?: number;
  allSeconds: number[];
}

export function summarize(side: Side): SideSummary {
  const allSeconds = side.samples.map((s) => s.seconds);
  const seconds = median(allSeconds);
  const rss = side.samples.map((s) => s.peakRssKb).filter((v): v is number => v !== undefined);
  return {
    name: side.name,
    rows: side.rows,
    runs: side.samples.length,
    seconds,
    rowsPerSecond: perSecond(side.rows, seconds),
    peakRssKb: rss.length ? Math.max(...rss) : undefined,
    allSeconds,
  };
}

export function verdictOf(result: StageResult): Verdict {
  const ours = summarize(result.ours);
  const anchor = result.anchor ? summarize(result.anchor) : undefined;
  return evaluate(result.target, {
    rowsPerSecond: result.http?.requestsPerSecond ?? ours.rowsPerSecond,
    seconds: ours.seconds,
    anchorRowsPerSecond: result.http?.anchorRequestsPerSecond ?? anchor?.rowsPerSecond,
    anchorSeconds: anchor?.seconds,
    p99Ms: result.http?.p99Ms,
    worstFreshnessSeconds: result.live?.worstFreshnessSeconds,
  });
}

const COLUMNS: Column[] = [
  { header: 'stage' },
  { header: 'rows', align: 'right' },
  { header: 'seconds', align: 'right' },
  { header: 'rows/s', align: 'right' },
  { header: 'peak RSS', align: 'right' },
  { header: 'anchor' },
  { header: 'anchor s', align: 'right' },
  { header: 'anchor rows/s', align: 'right' },
  { header: 'anchor RSS', align: 'right' },
  { header: 'measured vs target' },
  { header: 'result' },
  { header: 'peak RSS vs bound' },
  { header: 'memory' },
];

export function tableRows(results: readonly StageResult[]): string[][] {
  return results.map((r) => {
    const ours = summarize(r.ours);
    const anchor = r.anchor ? summarize(r.anchor) : undefined;
    const verdict = verdictOf(r);
    const memory = evaluateMemory(ours.peakRssKb, r.memoryBoundMb);
    const rate = r.http ? r.http.requestsPerSecond : ours.rowsPerSecond;
    const anchorRate = r.http?.anchorRequestsPerSecond ?? anchor?.rowsPerSecond;
    return [
      r.stage,
      formatNumber(ours.rows),
      formatSeconds(ours.seconds),
      formatNumber(rate),
      formatRss(ours.peakRssKb),
      anchor?.name ?? '-',
      formatSeconds(anchor?.seconds),
      formatNumber(anchorRate),
      formatRss(anchor?.peakRssKb),
      verdict.detail,
      verdict.pass ? 'PASS' : 'FAIL',
      memory?.detail ?? '-',
      memory ? (memory.pass ? 'PASS' : 'FAIL') : '-',
    ];
  });
}

export function renderTable(results: readonly StageResult[]): string {
  return markdownTable(COLUMNS, tableRows(results));
}

export interface BenchReport {
  command: string;
  machine: MachineInfo;
  parameters: Record<string, string | number | boolean>;
  results: StageResult[];
  failures: { stage: string; error: string }[];
}

export function renderMarkdown(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    '# Benchmark results',
    '',
    `Command: \`${report.command}\``,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.ramGb} GB RAM, Node ${m.node}, ${m.os}; run ${m.date}.`,
    '',
    `Parameters: ${Object.entries(report.parameters)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}. Seconds are the median of the runs (wall clock of the whole process, start-up included);`,
    'peak RSS is the highest resident set of the process tree over the runs; anchors run in the same bench, on the same data and stack.',
    '',
    renderTable(report.results),
    '',
    '## Targets (SPEC section 9)',
    '',
    ...report.results.map(
      (r) =>
        `- ${r.stage}: ${describeTarget(r.target)}${r.memoryBoundMb ? `; peak RSS <= ${r.memoryBoundMb} MB` : ''}`,
    ),
    '',
    '## Notes per stage',
    '',
    ...report.results.flatMap((r) => {
      const ours = summarize(r.ours);
      const anchor = r.anchor ? summarize(r.anchor) : undefined;
      const runs = `runs: ${ours.allSeconds.map((s) => s.toFixed(2)).join(', ')} s${anchor ? `; anchor runs: ${anchor.allSeconds.map((s) => s.toFixed(2)).join(', ')} s` : ''}`;
      return [`- **${r.stage}** (${runs})`, ...r.notes.map((n) => `  - ${n}`)];
    }),
    ...(report.failures.length
      ? ['', '## Stages that did not run', '', ...report.failures.map((f) => `- ${f.stage}: ${f.error}`)]
      : []),
    '',
  ];
  return lines.join('\n');
}

export function toJson(report: BenchReport): unknown {
  return {
    ...report,
    results: report.results.map((r) => ({
      ...r,
      summary: { ours: summarize(r.ours), anchor: r.anchor ? summarize(r.anchor) : undefined },
      verdict: verdictOf(r),
    })),
  };
}
