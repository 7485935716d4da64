// Pure formatting of the bench and chaos tables: one padded Markdown table, readable in a terminal
// and in bench/results/latest.md alike.

export type Align = 'left' | 'right';

export interface Column {
  header: string;
  align?: Align;
}

/** A padded Markdown table; `|` inside cells is escaped so a cell never splits a row. */
export function markdownTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const escape = (s: string): string => s.replaceAll('|', '\\|');
  const cells = rows.map((r) => columns.map((_, i) => escape(r[i] ?? '')));
  const widths = columns.map((c, i) => Math.max(3, c.header.length, ...cells.map((r) => r[i]!.length)));
  const pad = (s: string, i: number): string =>
    columns[i]!.align === 'right' ? s.padStart(widths[i]!) : s.padEnd(widths[i]!);
  const line = (r: readonly string[]): string => `| ${r.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (columns[i]!.align === 'right' ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(columns.map((c) => c.header)), rule, ...cells.map(line)].join('\n');
}

/** 1234567 -> "1,234,567"; fractional values below 100 keep `digits` decimals. */
export function formatNumber(n: number | undefined, digits = 2): string {
  if (n === undefined || Number.isNaN(n)) return '-';
  if (Math.abs(n) >= 100 || Number.isInteger(n)) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(digits);
}

export function formatSeconds(s: number | undefined): string {
  return s === undefined ? '-' : s.toFixed(s < 10 ? 2 : 1);
}

/** Kilobytes (as /proc and /usr/bin/time report) to "123 MB". */
export function formatRss(kb: number | undefined): string {
  return kb === undefined ? '-' : `${Math.round(kb / 1024)} MB`;
}
