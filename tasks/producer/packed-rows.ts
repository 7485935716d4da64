// A sender's rows packed in one byte buffer (each row's key then its JSON tail, UTF-8) with their
// end offsets, key lengths, partitions and row numbers in typed arrays. They are built row by row
// (no object nor string is kept per row), then moved to the sender thread (transferred, not
// copied), which keeps them packed and slices row i out when it builds its message: ~130 bytes a
// row, outside the V8 heap, instead of ~300 as an object with its own key buffer and tail string
// in every thread that held it. (Before, the parent's heap held every row several times over, its
// structured clone and the senders' copies: 900 MB of RSS for a 250k-row file.)
import type { RowList, SenderRow } from './send-loop.ts';

export interface PackedRows {
  /** Row i's key bytes then tail bytes end at ends[i]; its key is the first keyLengths[i] bytes. */
  bytes: Uint8Array;
  ends: Int32Array;
  keyLengths: Uint8Array;
  partitions: Int32Array;
  rowNumbers: Int32Array;
}

/**
 * A growable typed array: doubles its buffer when full; `take` returns a view of what was written.
 * Sized generously up front (see PackedRowsBuilder): pages never written are never resident.
 */
class Growable<T extends Uint8Array | Int32Array> {
  private size = 0;
  constructor(
    private data: T,
    private readonly make: (length: number) => T,
  ) {}

  get length(): number {
    return this.size;
  }

  /** Room for n more elements; the array to write into at `length`. */
  reserve(n: number): T {
    if (this.size + n > this.data.length) {
      const bigger = this.make(Math.max(this.data.length * 2, this.size + n));
      bigger.set(this.data.subarray(0, this.size));
      this.data = bigger;
    }
    return this.data;
  }

  push(value: number): void {
    this.reserve(1)[this.size++] = value;
  }

  advance(n: number): void {
    this.size += n;
  }

  take(): T {
    return this.data.subarray(0, this.size) as T;
  }
}

/** Bytes reserved per expected row: more than a row takes (~130), so the buffer never moves. */
const BYTES_PER_ROW = 512;

/**
 * Collects rows one by one, then packs them (see the file comment). `expectedRows` (at most) sizes
 * the buffers once: a large zero-filled buffer is mapped lazily, so only the bytes written cost
 * memory, and no outgrown copy is left behind for a garbage collection that may not come (the
 * parent thread allocates little once the rows are handed over).
 */
export class PackedRowsBuilder {
  private readonly bytes: Growable<Uint8Array>;
  private readonly ends: Growable<Int32Array>;
  private readonly keyLengths: Growable<Uint8Array>;
  private readonly partitions: Growable<Int32Array>;
  private readonly rowNumbers: Growable<Int32Array>;

  constructor(expectedRows = 1024) {
    const rows = Math.max(1, expectedRows);
    const bytes = (n: number) => new Uint8Array(n);
    const ints = (n: number) => new Int32Array(n);
    this.bytes = new Growable(bytes(rows * BYTES_PER_ROW), bytes);
    this.ends = new Growable(ints(rows), ints);
    this.keyLengths = new Growable(bytes(rows), bytes);
    this.partitions = new Growable(ints(rows), ints);
    this.rowNumbers = new Growable(ints(rows), ints);
  }

  get length(): number {
    return this.ends.length;
  }

  add(key: string, tail: string, partition: number, rowNumber: number): void {
    // At most 3 UTF-8 bytes per UTF-16 unit.
    const room = this.bytes.reserve(3 * (key.length + tail.length));
    const at = this.bytes.length;
    const keyBytes = Buffer.from(room.buffer, room.byteOffset).write(key, at, 'utf8');
    if (keyBytes > 255) throw new RangeError(`row key of ${keyBytes} bytes (at most 255)`);
    const total = keyBytes + Buffer.from(room.buffer, room.byteOffset).write(tail, at + keyBytes, 'utf8');
    this.bytes.advance(total);
    this.ends.push(at + total);
    this.keyLengths.push(keyBytes);
    this.partitions.push(partition);
    this.rowNumbers.push(rowNumber);
  }

  finish(): PackedRows {
    return {
      bytes: this.bytes.take(),
      ends: this.ends.take(),
      keyLengths: this.keyLengths.take(),
      partitions: this.partitions.take(),
      rowNumbers: this.rowNumbers.take(),
    };
  }
}

export function packRows(
  rows: readonly { key: string; tail: string; partition: number; rowNumber: number }[],
): PackedRows {
  const builder = new PackedRowsBuilder(rows.length);
  for (const row of rows) builder.add(row.key, row.tail, row.partition, row.rowNumber);
  return builder.finish();
}

/** The buffers to transfer with the rows (they move to the receiving thread, not copied). */
export function transferablesOf(rows: PackedRows): ArrayBuffer[] {
  return [rows.bytes, rows.ends, rows.keyLengths, rows.partitions, rows.rowNumbers].map(
    (a) => a.buffer as ArrayBuffer,
  );
}

/** The rows as a sender uses them: still packed; row i's key and tail are sliced out when sent. */
export function unpackRows(packed: PackedRows): RowList {
  const { ends, keyLengths, partitions, rowNumbers } = packed;
  const bytes = Buffer.from(packed.bytes.buffer, packed.bytes.byteOffset, packed.bytes.byteLength);
  return {
    length: ends.length,
    at: (i: number): SenderRow => {
      const start = i === 0 ? 0 : ends[i - 1]!;
      const keyEnd = start + keyLengths[i]!;
      return {
        key: bytes.subarray(start, keyEnd),
        tail: bytes.toString('utf8', keyEnd, ends[i]),
        partition: partitions[i]!,
        rowNumber: rowNumbers[i]!,
      };
    },
  };
}
