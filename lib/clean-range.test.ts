// The range forms of the cell rules read a cell inside a record's line: same results as the string
// forms on the cell cut out, and nothing outside [from, to) is looked at.
import { describe, expect, it } from 'vitest';
import {
  cleanAcsMargin,
  cleanAcsMarginIn,
  cleanAcsNumber,
  cleanAcsNumberIn,
  cleanId,
  cleanIdIn,
  cleanNeighborhood,
  cleanNeighborhoodIn,
} from './clean.ts';

const CELLS = [
  '12',
  ' 1,234 ',
  '2558.0',
  '449.773',
  '-',
  ' N/A',
  '',
  '  ',
  '-5',
  'abc',
  '1e3',
  '0',
  '12.',
  'x y',
];

/** Each cell between neighbours that would change the result if they were read. */
function inLine(cell: string): [string, number, number] {
  const line = `9 9,${cell},9.5 x`;
  return [line, 4, 4 + cell.length];
}

describe('range cell rules', () => {
  it('give the results of the string rules on the cell cut out', () => {
    const rules = [
      [cleanAcsNumber, cleanAcsNumberIn],
      [cleanAcsMargin, cleanAcsMarginIn],
      [cleanId, cleanIdIn],
      [cleanNeighborhood, cleanNeighborhoodIn],
    ] as const;
    for (const [whole, ranged] of rules) {
      for (const cell of CELLS)
        expect(ranged(...inLine(cell)), `${whole.name}(${JSON.stringify(cell)})`).toEqual(whole(cell));
    }
  });

  it('trim and collapse a neighborhood inside its range only', () => {
    expect(cleanNeighborhoodIn('1, Old  Maple ,2', 2, 14)).toBe('Old Maple');
  });
});
