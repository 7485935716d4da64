import { describe, expect, it } from 'vitest';
import { readPopulationRows } from './rows.ts';

async function* chunks(text: string) {
  yield Buffer.from(text);
}
const HEADER = 'Neighborhood,Id,Estimate; Total,Margin of Error; Total\r\n';

describe('readPopulationRows', () => {
  it('cleans rows: 2558.0 is an integer, markers are null, margins stay real', async () => {
    const { rows, rejects } = await readPopulationRows(
      chunks(
        `${HEADER}Allegheny Center,1,1411,196\r\nAllentown,3,2558.0,449.773276218\r\n  Arlington ,4,-,**\r\n`,
      ),
      'total-population.csv',
    );
    expect(rejects).toEqual([]);
    expect(rows).toEqual([
      {
        id: 1,
        neighborhood: 'Allegheny Center',
        populationEstimateTotal: 1411,
        populationMarginOfErrorTotal: 196,
      },
      {
        id: 3,
        neighborhood: 'Allentown',
        populationEstimateTotal: 2558,
        populationMarginOfErrorTotal: 449.773276218,
      },
      { id: 4, neighborhood: 'Arlington', populationEstimateTotal: null, populationMarginOfErrorTotal: null },
    ]);
  });

  it('rejects bad rows with their line and reason, and keeps the good ones', async () => {
    const { rows, rejects } = await readPopulationRows(
      chunks(`${HEADER}A,1,10,1\nB,x,10,1\nC,,10,1\nD,2,ten,1\nE,1,11,1\nF,5,10\nG,6,1.5,1\n`),
      'p.csv',
    );
    expect(rows.map((r) => r.id)).toEqual([1]);
    expect(rejects.map((r) => [r.line, r.reason])).toEqual([
      [3, expect.stringMatching(/Id not an integer/)],
      [4, 'missing Id'],
      [5, expect.stringMatching(/Estimate; Total: not a number/)],
      [6, 'duplicate Id 1'],
      [7, expect.stringMatching(/expected 4 fields/)],
      [8, expect.stringMatching(/not an integer/)],
    ]);
  });

  it('refuses a file whose header is not the published one', async () => {
    await expect(readPopulationRows(chunks('Id,Name\n1,A\n'), 'p.csv')).rejects.toThrow(/p\.csv: header/);
  });
});
