// `?format=csv`: one header row of the field names (dotted when nested), RFC 4180 quoting, CRLF,
// empty cell for null so that "unknown" stays distinguishable from 0.

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function leaf(row: Record<string, unknown>, name: string): unknown {
  const dot = name.indexOf('.');
  if (dot === -1) return row[name];
  return (row[name.slice(0, dot)] as Record<string, unknown> | undefined)?.[name.slice(dot + 1)];
}

export function toCsv(fieldNames: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const lines = [fieldNames.map(cell).join(',')];
  for (const row of rows) lines.push(fieldNames.map((f) => cell(leaf(row, f))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
