// One batch of consecutive rows rendered as CSV bytes per source: the unit of work shared by the
// in-process path and the worker threads. Each line is copied into a byte buffer as soon as it is
// built: keeping thousands of lines as V8 rope strings until the batch is done retained millions of
// small objects past the young generation and made the garbage collector the bottleneck (4x slower).
import type { SourceName } from '../../lib/sources.ts';
import { formatSourceLine, type LineFormat } from './format.ts';
import type { KnownRow, RowGenerator } from './rows.ts';

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

  append(text: string): void {
    // 3 bytes per UTF-16 unit is the UTF-8 worst case, so the write can never be cut short.
    if (this.length + text.length * 3 > this.buffer.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.buffer.length * 2, this.length + text.length * 3));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    this.length += this.buffer.write(text, this.length, 'utf8');
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.buffer.buffer, 0, this.length);
  }
}

/** Typical bytes per line of each source, to size buffers so that they rarely grow. */
const BYTES_PER_LINE: Record<SourceName, number> = {
  population: 64,
  income: 64,
  health_insurance: 1024,
  self_employment: 96,
};

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
    for (let s = 0; s < sources.length; s++) {
      (chunks[s] as ByteChunk).append(formatSourceLine(sources[s] as SourceName, row, format));
    }
  }
  return chunks.map((c) => c.bytes());
}
