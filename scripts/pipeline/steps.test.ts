import { describe, expect, it } from 'vitest';
import { countsOf, formatTable, lastJsonLine, STEPS } from './steps.ts';

describe('pipeline steps', () => {
  it('runs the DAG order', () => {
    expect(STEPS.map((s) => s.taskId)).toEqual([
      'start_producer',
      'transform_hdfs',
      'start_consumer',
      'compute_cube',
    ]);
  });

  it('takes the last JSON object line of stdout as the summary', () => {
    const out = 'npm noise\n{"a":1}\n{not json\n{"produced":91}\n\n';
    expect(lastJsonLine(out)).toEqual({ produced: 91 });
    expect(lastJsonLine('no summary\n')).toBeUndefined();
    expect(lastJsonLine('[1,2]\n')).toBeUndefined();
  });

  it("reads the producer's and the consumer's summaries", () => {
    expect(countsOf('start_producer', { produced: 182, rejects: 1, loops: 2, seconds: 0.5 })).toEqual({
      rowsIn: 92,
      rejected: 1,
      written: 182,
    });
    expect(
      countsOf('start_consumer', {
        stored: 90,
        duplicates: 2,
        deadLetters: 1,
        rejectsByReason: { no_match: 1 },
      }),
    ).toEqual({ rowsIn: 93, rejected: 1, written: 90 });
  });

  it("reads transform_hdfs's and compute_cube's summaries", () => {
    expect(
      countsOf('transform_hdfs', {
        rowsIn: { income: 91, health_insurance: 91, self_employment: 91 },
        rowsJoined: 90,
        rejects: {},
        rowsDropped: 0,
      }),
    ).toEqual({ rowsIn: 273, rejected: 0, written: 90 });
    expect(
      countsOf('compute_cube', {
        rowsIn: 90,
        rowsOut: { health_insurance: 1200, income: 96, self_employment: 96 },
        seconds: { total: 0.2 },
      }),
    ).toEqual({ rowsIn: 90, written: 1392, cubes: 3 });
  });

  it('reads nested counts and cube lists', () => {
    expect(countsOf('transform_hdfs', { rows: { in: 273, rejected: 3, written: 90 } })).toEqual({
      rowsIn: 273,
      rejected: 3,
      written: 90,
    });
    expect(
      countsOf('compute_cube', { rowsIn: 90, cubes: ['income', 'health_insurance', 'self_employment'] }),
    ).toEqual({
      rowsIn: 90,
      cubes: 3,
    });
  });

  it('formats an aligned table with a total', () => {
    const table = formatTable([
      { taskId: 'start_producer', status: 'ok', rowsIn: 91, rejected: 0, written: 91, seconds: 1.234 },
      { taskId: 'transform_hdfs', status: 'failed', seconds: 0.5 },
      { taskId: 'start_consumer', status: 'skipped' },
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^step\s+status\s+rows in\s+rejected\s+written\s+cubes\s+seconds$/);
    expect(lines[2]).toMatch(/^start_producer\s+ok\s+91\s+0\s+91\s+-\s+1\.23$/);
    expect(lines.at(-1)).toMatch(/^total\s+failed\s+1\.73$/);
  });
});
