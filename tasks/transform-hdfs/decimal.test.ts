import { describe, expect, it } from 'vitest';
import { MAX_DECIMAL_SCALE, decimalMantissa, decimalScale } from './decimal.ts';
import { writeFixed } from './output.ts';

/** What the encoder writes for a non-integer cell: the fixed-point digits, or String(v). */
function encode(v: number): string {
  const k = decimalScale(v);
  if (k === 0) return String(v);
  const buf = Buffer.alloc(32);
  return buf.toString('latin1', 0, writeFixed(buf, 0, decimalMantissa(v, k), k));
}

/** A deterministic pseudo-random sequence (the test must not change between runs). */
function* lcg(seed: number, count: number): Generator<number> {
  let x = seed;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    yield x / 2147483648;
  }
}

describe('decimalScale / writeFixed', () => {
  it('finds the fraction digits of short decimals, as census margins are written', () => {
    expect(decimalScale(449.773)).toBe(3);
    expect(decimalScale(12.5)).toBe(1);
    expect(decimalScale(0.000001)).toBe(6);
    expect(decimalMantissa(449.773, 3)).toBe(449773);
  });

  it('gives up where String(v) must decide: integers, long fractions, 16+ digits, <= 0, NaN', () => {
    for (const v of [0, 7, 1e20, 0.1234567, 1 / 3, 123456789012.3456, -1.5, Number.NaN, Infinity, 1e-7])
      expect(decimalScale(v)).toBe(0);
  });

  it('writes a leading 0 and the zeros after the point when m < 10^k', () => {
    expect(encode(0.5)).toBe('0.5');
    expect(encode(0.007)).toBe('0.007');
    expect(encode(0.000001)).toBe('0.000001');
  });

  it('with k = 0 writes the integer as String(m) does, no point (integers from 2^31 to 10^15)', () => {
    const buf = Buffer.alloc(32);
    const ints = [
      0,
      7,
      10,
      2 ** 31,
      2 ** 31 + 9,
      1e12,
      999_999_999_999_999,
      ...[...lcg(3, 1000)].map((u) => Math.floor(u * 1e15)),
    ];
    const wrong = ints.filter((m) => buf.toString('latin1', 0, writeFixed(buf, 0, m, 0)) !== String(m));
    expect(wrong).toEqual([]);
  });

  it('writes what String(v) writes, for decimals of every length and scale', () => {
    const wrong: string[] = [];
    let short = 0;
    for (const u of lcg(42, 400_000)) {
      const k = 1 + (Math.floor(u * 1e6) % (MAX_DECIMAL_SCALE + 2));
      const digits = 1 + (Math.floor(u * 1e9) % 17);
      const v = Number((Math.floor(u * 10 ** digits) / 10 ** k).toFixed(k));
      if (Number.isInteger(v)) continue;
      if (decimalScale(v) > 0) short++;
      if (encode(v) !== String(v)) wrong.push(String(v));
    }
    expect(wrong).toEqual([]);
    // Most of them take the fixed-point path, the one under test.
    expect(short).toBeGreaterThan(150_000);
  });

  it('writes what String(v) writes for arbitrary doubles and around powers of ten', () => {
    const values = [...lcg(7, 100_000)].map((u) => u * 10 ** ((u * 1e7) % 22));
    for (let e = -6; e <= 15; e++)
      values.push(10 ** e, 10 ** e - 10 ** (e - 9), 10 ** e + 10 ** (e - 6), 9.99 * 10 ** e);
    const wrong = values.filter((v) => !Number.isInteger(v) && encode(v) !== String(v));
    expect(wrong).toEqual([]);
  });
});
