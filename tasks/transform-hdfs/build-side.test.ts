import { describe, expect, it } from 'vitest';
import { BuildSide } from './build-side.ts';
import type { CleanRow } from './clean-source.ts';

const row = (id: number, values: (number | null)[], line = id + 1): CleanRow => ({
  id,
  neighborhood: `N${id} "é"`,
  values,
  line,
});

describe('BuildSide', () => {
  it('gives back each row as stored (nulls, doubles, negative and large values), in insertion order', () => {
    const side = new BuildSide(3);
    const rows = [row(7, [1, null, 2.5]), row(3, [null, null, null]), row(9, [-4, 1e15, 0.1])];
    for (const r of rows) side.set(r.id, { row: r });
    expect(side.size).toBe(3);
    expect(side.get(3)).toEqual({ row: rows[1] });
    expect(side.get(4)).toBeUndefined();
    expect([...side].map(([id, e]) => [id, e.row])).toEqual(rows.map((r) => [r.id, r]));
  });

  it('forgets deleted Ids and keeps the others through growth past its initial size', () => {
    const side = new BuildSide(2);
    for (let id = 1; id <= 40_000; id++) side.set(id, { row: row(id, [id, id % 3 === 0 ? null : id / 2]) });
    expect(side.delete(5)).toBe(true);
    expect(side.delete(5)).toBe(false);
    expect(side.get(5)).toBeUndefined();
    expect(side.size).toBe(39_999);
    expect(side.get(39_999)).toEqual({ row: row(39_999, [39_999, null]) });
    expect(side.get(40_000)?.row.values).toEqual([40_000, 20_000]);
  });

  it('refuses a row of another width or an Id already there', () => {
    const side = new BuildSide(2);
    side.set(1, { row: row(1, [1, 2]) });
    expect(() => side.set(2, { row: row(2, [1]) })).toThrow(/1 cells in a build side of 2/);
    expect(() => side.set(1, { row: row(1, [1, 2]) })).toThrow(/Id 1 already/);
  });
});
