import { describe, expect, it } from 'vitest';
import { encodeRow } from './message.ts';
import { packRows, unpackRows } from './packed-rows.ts';

describe('packRows / unpackRows', () => {
  it('round-trips keys, tails, partitions and row numbers, even with a newline or quotes in a neighborhood', () => {
    const rows = [
      {
        ...encodeRow({
          id: 7,
          neighborhood: 'Two\nLines "quoted"',
          populationEstimateTotal: 1,
          populationMarginOfErrorTotal: null,
        }),
        partition: 2,
        rowNumber: 0,
      },
      {
        ...encodeRow({
          id: 12,
          neighborhood: 'Élan, Nord',
          populationEstimateTotal: null,
          populationMarginOfErrorTotal: 0.5,
        }),
        partition: 0,
        rowNumber: 250_001,
      },
    ];
    const list = unpackRows(packRows(rows));
    const back = Array.from({ length: list.length }, (_, i) => list.at(i)!);
    expect(
      back.map((r) => ({
        key: r.key.toString(),
        tail: r.tail,
        partition: r.partition,
        rowNumber: r.rowNumber,
      })),
    ).toEqual(rows);
  });

  it('no rows stay no rows', () => {
    expect(unpackRows(packRows([])).length).toBe(0);
  });
});
