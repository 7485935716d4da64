// The three output files of a run: all_data_joined.csv, rejects.csv, columns.json. Formatting is
// on the hot path (one line per joined row, ~140 cells), hence the hand-written loop.
import type { Writable } from 'node:stream';
import { formatCsvField, formatCsvLine } from '../../lib/csv.ts';
import { KEY_COLUMNS, SOURCES, columnMapping } from '../../lib/sources.ts';
import type { Cell, Reject } from './clean-source.ts';
import { decimalMantissa, decimalScale } from './decimal.ts';
import { ATTRIBUTE_SOURCES, joinedColumns, type JoinedRow } from './join.ts';

export const REJECTS_HEADER = ['source', 'line', 'id', 'reason', 'raw'] as const;

export function joinedHeaderLine(): string {
  return formatCsvLine(joinedColumns());
}

export function rejectsHeaderLine(): string {
  return formatCsvLine(REJECTS_HEADER);
}

/**
 * Encodes joined rows straight into byte chunks: integers digit by digit, no intermediate string
 * per cell or per line (the string path cost ~40% of a 250k-row run). Same bytes as the plain string
 * formatter the tests compare it with (test/fixtures/joined-row.ts).
 */
export class JoinedRowEncoder {
  private buf: Buffer;
  private pos = 0;

  constructor(
    private readonly onChunk: (chunk: Buffer) => void,
    private readonly chunkBytes = 256 * 1024,
  ) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(n, this.chunkBytes));
  }

  private cell(v: Cell): void {
    const buf = this.buf;
    buf[this.pos++] = 44; // ','
    if (v === null) return;
    if (Number.isInteger(v) && v >= 0 && v < 0x80000000) {
      // Almost every census value: int32 arithmetic, no Math.floor.
      let digits = 1;
      for (let x = v; x >= 10; x = (x / 10) | 0) digits++;
      let x = v | 0;
      let i = this.pos + digits - 1;
      do {
        const q = (x / 10) | 0;
        buf[i--] = 48 + x - q * 10;
        x = q;
      } while (x > 0);
      this.pos += digits;
      return;
    }
    if (Number.isInteger(v) && v >= 0 && v < 1e15) {
      this.pos = writeFixed(buf, this.pos, v, 0);
      return;
    }
    const scale = decimalScale(v);
    if (scale > 0) {
      this.pos = writeFixed(buf, this.pos, decimalMantissa(v, scale), scale);
      return;
    }
    this.pos += buf.write(String(v), this.pos, 'latin1');
  }

  private cells(values: readonly Cell[]): void {
    // 1 comma + at most 24 characters of a double per cell.
    this.room(values.length * 26);
    for (let i = 0; i < values.length; i++) this.cell(values[i] as Cell);
  }

  write(row: JoinedRow): void {
    const head = `${row.id},${formatCsvField(row.neighborhood)}`;
    this.room(Buffer.byteLength(head) + 1);
    this.pos += this.buf.write(head, this.pos, 'utf8');
    this.cells(row.income);
    this.cells(row.health);
    this.cells(row.selfEmployment);
    this.room(1);
    this.buf[this.pos++] = 10;
  }

  /** Hands the filled part over (a fresh buffer follows: the receiver may keep the chunk). */
  flush(): void {
    if (this.pos === 0) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.chunkBytes);
    this.pos = 0;
    this.onChunk(chunk);
  }
}

/**
 * Writes the integer m (< 10^15) with a decimal point k digits from the right (`0.` first when m <
 * 10^k; no point when k is 0) at buf[pos], right to left; returns the position after it.
 */
export function writeFixed(buf: Buffer, pos: number, m: number, k: number): number {
  let digits = 1;
  for (let x = m; x >= 10; x = Math.floor(x / 10)) digits++;
  const end = pos + (k === 0 ? digits : (digits > k ? digits : k + 1) + 1);
  let i = end - 1;
  let x = m;
  for (let f = 0; f < k; f++) {
    const q = Math.floor(x / 10);
    buf[i--] = 48 + x - q * 10;
    x = q;
  }
  if (k > 0) buf[i--] = 46; // '.'
  do {
    const q = Math.floor(x / 10);
    buf[i--] = 48 + x - q * 10;
    x = q;
  } while (x > 0);
  return end;
}

/** The `reason` column of rejects.csv: the code, then what exactly was wrong. */
export function rejectReason(r: Reject): string {
  return `${r.code}: ${r.detail}`;
}

export function formatReject(r: Reject): string {
  return formatCsvLine([r.source, r.line, r.id, rejectReason(r), r.raw]);
}

/** columns.json: original header -> column, per source, so nothing of the original is lost. */
export function columnsManifest(): object {
  return {
    description: 'Original ACS header -> column of all_data_joined.csv, per source (NULL is an empty cell)',
    keys: { [KEY_COLUMNS[1]]: 'id', [KEY_COLUMNS[0]]: 'neighborhood' },
    sources: Object.fromEntries(
      ATTRIBUTE_SOURCES.map((s) => [s, { file: SOURCES[s].file, columns: columnMapping(SOURCES[s]) }]),
    ),
    columns: joinedColumns(),
  };
}

/**
 * Groups small lines into ~256 KiB writes to one or more streams (the dated file and the latest
 * copy get the same bytes). `drain()` resolves when every stream has room again.
 */
export class LineWriter {
  private buffer: string[] = [];
  private size = 0;
  private pending: Promise<void>[] = [];
  bytes = 0;

  constructor(
    private readonly targets: readonly Writable[],
    private readonly chunkChars = 256 * 1024,
  ) {}

  /** Writes already-encoded bytes (flushing pending lines first, to keep the order). */
  writeBytes(chunk: Buffer): void {
    this.flush();
    this.bytes += chunk.length;
    for (const target of this.targets) {
      if (!target.write(chunk)) this.pending.push(waitForDrain(target));
    }
  }

  write(line: string): void {
    this.buffer.push(line);
    this.size += line.length;
    if (this.size >= this.chunkChars) this.flush();
  }

  flush(): void {
    if (this.buffer.length === 0) return;
    const chunk = Buffer.from(this.buffer.join(''), 'utf8');
    this.buffer = [];
    this.size = 0;
    this.bytes += chunk.length;
    for (const target of this.targets) {
      if (!target.write(chunk)) this.pending.push(waitForDrain(target));
    }
  }

  drain(): Promise<void> | undefined {
    if (this.pending.length === 0) return undefined;
    const all = Promise.all(this.pending).then(() => undefined);
    this.pending = [];
    return all;
  }

  async end(): Promise<void> {
    this.flush();
    await this.drain();
    for (const target of this.targets) target.end();
  }
}

function waitForDrain(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      stream.off('error', onError);
      stream.off('close', onClose);
      resolve();
    };
    const onError = (err: Error) => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      reject(err);
    };
    // A destroyed stream never drains: fail instead of hanging.
    const onClose = () => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      reject(new Error('output stream closed before it drained'));
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}
