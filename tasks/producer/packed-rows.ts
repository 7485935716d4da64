// A sender's rows as two newline-joined strings and a partition array. Copying 100k small objects
// to a worker thread costs the parent about a second of structured cloning; two strings cost a
// memcpy. Newline is a safe separator: keys are integers and tails are JSON, whose strings escape it.
import type { SenderRow } from './send-loop.ts';

export interface PackedRows {
  keys: string;
  tails: string;
  partitions: Int32Array;
  rowNumbers: Int32Array;
}

export function packRows(
  rows: readonly { key: string; tail: string; partition: number; rowNumber: number }[],
): PackedRows {
  const keys = new Array<string>(rows.length);
  const tails = new Array<string>(rows.length);
  // Filled in a plain loop: Int32Array.from with a map function is many times slower.
  const partitions = new Int32Array(rows.length);
  const rowNumbers = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    keys[i] = row.key;
    tails[i] = row.tail;
    partitions[i] = row.partition;
    rowNumbers[i] = row.rowNumber;
  }
  return { keys: keys.join('\n'), tails: tails.join('\n'), partitions, rowNumbers };
}

/** The rows as a sender uses them: key bytes built once, reused by every loop. */
export function unpackRows(packed: PackedRows): SenderRow[] {
  if (packed.partitions.length === 0) return [];
  const keys = packed.keys.split('\n');
  const tails = packed.tails.split('\n');
  const rows = new Array<SenderRow>(packed.partitions.length);
  for (let i = 0; i < rows.length; i++) {
    rows[i] = {
      key: Buffer.from(keys[i]!),
      tail: tails[i]!,
      partition: packed.partitions[i]!,
      rowNumber: packed.rowNumbers[i]!,
    };
  }
  return rows;
}
