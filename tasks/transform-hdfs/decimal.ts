// Short decimals (margins of error such as 449.773) written without String(v). Half the cells of
// the health-insurance file are such reals, and V8's shortest-round-trip conversion of a non-integer
// is several times slower than the integer digit loop the encoder already uses. The digits come out
// the same: see decimalScale for why, and decimal.test.ts, which compares with String(v).

/** Exact powers of ten (10^k is an exact double up to k = 22). */
const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000] as const;

/** Largest scale tried: census margins have 1 to 3 fraction digits. */
export const MAX_DECIMAL_SCALE = POW10.length - 1;

/** Below 10^15, two distinct decimals never round to the same double (see decimalScale). */
const MAX_MANTISSA = 1e15;

/**
 * The k in 1..MAX_DECIMAL_SCALE such that v is the double nearest to m / 10^k for an integer
 * m < 10^15 that does not end in 0, or 0 when there is none (then format v with String(v)).
 *
 * Why the digits of m are String(v)'s: JavaScript prints the decimal with the fewest significant
 * digits that rounds to v. m has at most 15 digits, and decimals of at most 15 significant digits are
 * further apart than one double ulp, so no other one rounds to v: m's digits are the shortest. v is
 * at least 10^-6, so String(v) uses plain notation, not an exponent.
 */
export function decimalScale(v: number): number {
  if (!(v > 0)) return 0;
  for (let k = 1; k <= MAX_DECIMAL_SCALE; k++) {
    const scale = POW10[k] as number;
    const m = v * scale;
    if (!Number.isInteger(m)) continue;
    // m / 10^k is one correctly rounded division of exact doubles: the check is exact.
    return m < MAX_MANTISSA && m % 10 !== 0 && m / scale === v ? k : 0;
  }
  return 0;
}

/** The m of decimalScale: v * 10^k, an integer below 10^15. */
export function decimalMantissa(v: number, k: number): number {
  return v * (POW10[k] as number);
}
