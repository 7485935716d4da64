// One batch of consecutive rows rendered as CSV bytes per source: the unit of work shared by the
// in-process path and the worker threads. Each line is copied into a byte buffer as soon as it is
// built: keeping thousands of lines as V8 rope strings until the batch is done retained millions of
// small objects past the young generation and made the garbage collector the bottleneck (4x slower).
import { formatCsvField } from '../../lib/csv.ts';
import type { SourceName } from '../../lib/sources.ts';
import { formatSourceLine, FRACTIONS, type LineFormat } from './format.ts';
import type { GeneratedRow, KnownRow, RowGenerator } from './rows.ts';

export interface KnownRowWithId extends KnownRow {
  id: number;
}

/** A growable byte buffer of UTF-8 text; its ArrayBuffer is its own (never Node's shared pool). */
class ByteChunk {
  private buffer: Buffer;
  private length = 0;

  constructor(capacity: number) {
    this.buffer = Buffer.allocUnsafeSlow(capacity);
  }

  /** Makes room for `bytes` more bytes. */
  reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  append(text: string): void {
    // 3 bytes per UTF-16 unit is the UTF-8 worst case, so the write can never be cut short.
    this.reserve(text.length * 3);
    this.length += this.buffer.write(text, this.length, 'utf8');
  }

  /** An ASCII string already reserved for (digits, separators, fraction tables). */
  private ascii(text: string): void {
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /** `,<value>` for a measure of at most three decimals; the same text as formatMeasure. */
  commaMeasure(value: number): void {
    this.reserve(32);
    const buffer = this.buffer;
    buffer[this.length++] = COMMA;
    let whole = value;
    let fraction = '';
    if (!Number.isInteger(value)) {
      const thousandths = Math.round(value * 1000);
      whole = Math.floor(thousandths / 1000);
      fraction = FRACTIONS[thousandths - whole * 1000] as string;
    }
    if (whole < 0) {
      buffer[this.length++] = MINUS;
      whole = -whole;
    }
    // Digits written right to left once their count is known.
    let digits = 1;
    for (let x = whole; x >= 10; x = Math.floor(x / 10)) digits++;
    let at = this.length + digits;
    this.length = at;
    do {
      const q = Math.floor(whole / 10);
      buffer[--at] = DIGIT_0 + (whole - q * 10);
      whole = q;
    } while (whole > 0);
    if (fraction !== '') this.ascii(fraction);
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.buffer.buffer, 0, this.length);
  }
}

const COMMA = 44;
const MINUS = 45;
const DIGIT_0 = 48;

/** The clean line of a source written straight as bytes: the same text as formatSourceLine. */
function appendCleanLine(
  chunk: ByteChunk,
  measures: readonly number[],
  nameCell: string,
  id: number,
  eol: string,
): void {
  chunk.append(nameCell);
  chunk.commaMeasure(id);
  for (let i = 0; i < measures.length; i++) chunk.commaMeasure(measures[i] as number);
  chunk.append(eol);
}

/** Typical bytes per line of each source, to size buffers so that they rarely grow. */
const BYTES_PER_LINE: Record<SourceName, number> = {
  population: 64,
  income: 64,
  health_insurance: 1024,
  self_employment: 96,
};

function appendCleanRow(
  chunks: ByteChunk[],
  sources: readonly SourceName[],
  row: GeneratedRow,
  eol: string,
): void {
  const nameCell = formatCsvField(row.neighborhood);
  for (let s = 0; s < sources.length; s++) {
    appendCleanLine(chunks[s] as ByteChunk, row.measures[sources[s] as SourceName], nameCell, row.id, eol);
  }
}

/**
 * Rows `start..end-1` (0-based positions; Id = position + 1 unless `known` gives it), one byte
 * chunk per source in `sources` order.
 */
export function renderBatch(
  generateRow: RowGenerator,
  format: LineFormat,
  sources: readonly SourceName[],
  start: number,
  end: number,
  known?: readonly KnownRowWithId[],
): Uint8Array[] {
  const chunks = sources.map((s) => new ByteChunk((end - start) * BYTES_PER_LINE[s] + 4096));
  for (let i = start; i < end; i++) {
    const k = known?.[i];
    const row = generateRow(k?.id ?? i + 1, k);
    if (format.dirty > 0) {
      for (let s = 0; s < sources.length; s++) {
        (chunks[s] as ByteChunk).append(formatSourceLine(sources[s] as SourceName, row, format));
      }
    } else {
      appendCleanRow(chunks, sources, row, format.eol);
    }
  }
  return chunks.map((c) => c.bytes());
}
