import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  HdfsError,
  HdfsUnavailableError,
  assertHdfsPath,
  coalesce,
  tempPathFor,
  toHdfsError,
} from './hdfs.ts';

const NN = 'http://127.0.0.1:9870';

/** The error Node's socket gives when nothing listens on the loopback port. */
const connectionRefused = (port: number) =>
  Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), {
    code: 'ECONNREFUSED',
    syscall: 'connect',
    address: '127.0.0.1',
    port,
  });

describe('toHdfsError', () => {
  it('names the NameNode when its socket fails', () => {
    const refused = connectionRefused(9870);
    const err = toHdfsError(refused, NN, 'CREATE', '/a');
    expect(err).toBeInstanceOf(HdfsUnavailableError);
    expect(err.message).toBe('HDFS NameNode unreachable at http://127.0.0.1:9870: connect ECONNREFUSED');
  });

  it('names the DataNode when the redirected upload fails', () => {
    const refused = connectionRefused(9864);
    expect(toHdfsError(refused, NN, 'CREATE', '/a').message).toBe(
      'HDFS DataNode unreachable at 127.0.0.1:9864: connect ECONNREFUSED',
    );
  });

  it('tells a read timeout from a connect timeout', () => {
    expect(toHdfsError({ code: 'ESOCKETTIMEDOUT' }, NN, 'OPEN', '/a').message).toBe(
      'HDFS NameNode unreachable at http://127.0.0.1:9870: read timeout',
    );
    expect(toHdfsError({ code: 'ETIMEDOUT', connect: true }, NN, 'OPEN', '/a').message).toBe(
      'HDFS NameNode unreachable at http://127.0.0.1:9870: connect ETIMEDOUT',
    );
  });

  it('turns a remote exception into a one-line error with operation and path', () => {
    const err = toHdfsError(new Error('File does not exist: /a\n  at ...'), NN, 'OPEN', '/a');
    expect(err).toBeInstanceOf(HdfsError);
    expect(err.message).toBe('HDFS OPEN /a failed: File does not exist: /a');
  });

  it('keeps an already mapped error', () => {
    const mapped = new HdfsUnavailableError('NameNode', NN, 'connect ECONNREFUSED');
    expect(toHdfsError(mapped, NN, 'OPEN', '/a')).toBe(mapped);
  });
});

describe('paths', () => {
  it('accepts absolute normalised paths only', () => {
    expect(assertHdfsPath('/data/raw/a.csv')).toBe('/data/raw/a.csv');
    for (const bad of ['data/raw', '/data/../etc', '/data//raw', '/data/./raw', '']) {
      expect(() => assertHdfsPath(bad)).toThrow(/absolute and normalised/);
    }
  });

  it('puts the temporary file of an atomic write beside the destination, hidden', () => {
    expect(tempPathFor('/data/processed/date=2026-01-01/all_data_joined.csv', 'abc')).toBe(
      '/data/processed/date=2026-01-01/.all_data_joined.csv.tmp-abc',
    );
    expect(tempPathFor('/x.csv')).toMatch(/^\/\.x\.csv\.tmp-[0-9a-f]{12}$/);
  });
});

describe('coalesce', () => {
  it('joins small chunks into blocks without losing or reordering bytes', async () => {
    const out: Buffer[] = [];
    const rows = Array.from({ length: 1000 }, (_, i) => `${i},row\n`);
    await pipeline(
      Readable.from(rows),
      coalesce(1024),
      new Writable({
        write(chunk: Buffer, _enc, done) {
          out.push(chunk);
          done();
        },
      }),
    );
    expect(Buffer.concat(out).toString()).toBe(rows.join(''));
    expect(out.length).toBeLessThan(20);
    expect(out.slice(0, -1).every((b) => b.length >= 1024)).toBe(true);
  });
});
