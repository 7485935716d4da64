// Pure cell cleaning of ACS CSV cells (SPEC section 4). Runs on millions of cells, so the number
// path is a hand-written char-code scan that allocates nothing for a clean cell: no regex, no
// trim(), no replace(). A result is a number, null (unknown) or a rejection with a short reason.
//
// Two kinds of numeric cell exist in the published files:
// - estimates are counts or dollar amounts: non-negative integers, sometimes written `2558.0`;
// - margins of error are non-negative reals (the city aggregates publish `449.773276218`).
// `cleanAcsNumber` is the estimate rule, `cleanAcsMargin` the margin rule; `cleanerForHeader` picks
// one from the published column name.

/** Why a cell was rejected; a plain object so the happy path (number | null) never allocates. */
export interface CellRejection {
  readonly reason: string;
}

/** number: a clean value; null: unknown (ACS marker or empty, never 0); CellRejection: unusable. */
export type CleanResult = number | null | CellRejection;

export function isRejection(result: unknown): result is CellRejection {
  return typeof result === 'object' && result !== null;
}

/**
 * The ACS "no value" markers: `-` no estimate, `**`/`***` no margin, `(X)` not applicable, plus
 * the generic `N/A` and `null` that exports add. Compared case-insensitively after trimming.
 */
export const ACS_UNKNOWN_MARKERS: readonly string[] = ['-', '**', '***', '(X)', 'N/A', 'null'];
const UNKNOWN_MARKERS_LOWER = new Set(ACS_UNKNOWN_MARKERS.map((m) => m.toLowerCase()));

const MAX_REASON_VALUE = 40;
const CODE_0 = 48;
const CODE_9 = 57;
const CODE_COMMA = 44;
const CODE_DOT = 46;
const CODE_MINUS = 45;
const CODE_SPACE = 32;

/** Whitespace as it strays into CSV cells: space, tab, CR, LF, NBSP, BOM. */
function isSpace(code: number): boolean {
  return code <= CODE_SPACE || code === 0xa0 || code === 0xfeff;
}

function quoted(text: string): string {
  const shown = text.length > MAX_REASON_VALUE ? `${text.slice(0, MAX_REASON_VALUE)}…` : text;
  return JSON.stringify(shown);
}

function reject(reason: string): CellRejection {
  return { reason };
}

/**
 * Scans raw[start, end) as `digits[,ddd]*[.digits]`. Returns the integer part's value in `intValue`
 * and whether a non-zero fraction exists; -1 when the text is not of that shape. Shared by the
 * estimate, margin and Id rules. Module-level scratch state avoids allocating a result object.
 */
let scanInt = 0;
let scanFractionNonZero = false;
let scanHasComma = false;
let scanDigits = 0;
/** All digits as one integer and the count after the dot: the value is scanMantissa / 10^digits. */
let scanMantissa = 0;
let scanFractionDigits = 0;

/** Exact powers of ten: dividing an exact integer mantissa by one is a single, correctly rounded op. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

function scanDecimal(raw: string, start: number, end: number): boolean {
  let value = 0;
  let digits = 0;
  let groupDigits = 0; // digits since the last thousands separator, -1 before any separator
  let sawComma = false;
  let i = start;
  for (; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (c >= CODE_0 && c <= CODE_9) {
      value = value * 10 + (c - CODE_0);
      digits++;
      groupDigits++;
    } else if (c === CODE_COMMA) {
      // `1,234`: the first group has 1-3 digits, every later group exactly 3.
      if (sawComma ? groupDigits !== 3 : groupDigits < 1 || groupDigits > 3) return false;
      sawComma = true;
      groupDigits = 0;
    } else if (c === CODE_DOT) {
      break;
    } else {
      return false;
    }
  }
  if (digits === 0) return false;
  if (sawComma && groupDigits !== 3) return false;
  let fractionNonZero = false;
  let mantissa = value;
  let fractionDigits = 0;
  if (i < end) {
    // raw[i] is the dot; at least one fraction digit is not required (`12.` is 12).
    for (i++; i < end; i++) {
      const c = raw.charCodeAt(i);
      if (c < CODE_0 || c > CODE_9) return false;
      if (c !== CODE_0) fractionNonZero = true;
      mantissa = mantissa * 10 + (c - CODE_0);
      fractionDigits++;
    }
  }
  scanMantissa = mantissa;
  scanFractionDigits = fractionDigits;
  scanInt = value;
  scanFractionNonZero = fractionNonZero;
  scanHasComma = sawComma;
  scanDigits = digits;
  return true;
}

/** Common front end: trims, maps markers/empty to null; otherwise leaves [start,end) for the scan. */
let trimStart = 0;
let trimEnd = 0;

/** true when raw[from, to) (trimmed) is empty or an ACS marker. Sets trimStart/trimEnd otherwise. */
function isUnknownCell(raw: string, from: number, to: number): boolean {
  let start = from;
  let end = to;
  while (start < end && isSpace(raw.charCodeAt(start))) start++;
  while (end > start && isSpace(raw.charCodeAt(end - 1))) end--;
  if (start === end) return true;
  trimStart = start;
  trimEnd = end;
  const first = raw.charCodeAt(start);
  // Fast exit: a cell starting with a digit is never a marker.
  if (first >= CODE_0 && first <= CODE_9) return false;
  if (end - start > 4) return false;
  return UNKNOWN_MARKERS_LOWER.has(raw.slice(start, end).toLowerCase());
}

/** Scientific notation (`1.2e+07`) as some spreadsheet exports write big numbers; rare, so a regex. */
const SCIENTIFIC_RE = /^-?\d+(\.\d+)?[eE][+-]?\d+$/;

function numericReason(text: string, what: 'count' | 'margin'): CellRejection {
  if (SCIENTIFIC_RE.test(text)) {
    const n = Number(text);
    if (n < 0) return reject(`negative ${what}: ${text}`);
    return reject(`not a number: ${quoted(text)}`);
  }
  if (text.charCodeAt(0) === CODE_MINUS && scanDecimal(text, 1, text.length)) {
    return reject(`negative ${what}: ${text}`);
  }
  return reject(`not a number: ${quoted(text)}`);
}

/**
 * An ACS estimate: a non-negative integer. Accepts stray whitespace, thousands separators (`1,234`)
 * and integral decimals (`2558.0`); markers and empty cells are null (unknown, never 0).
 */
export function cleanAcsNumber(raw: string): CleanResult {
  return cleanAcsNumberIn(raw, 0, raw.length);
}

/** cleanAcsNumber of the cell text[from, to), without cutting it out of a record's line. */
export function cleanAcsNumberIn(raw: string, from: number, to: number): CleanResult {
  if (isUnknownCell(raw, from, to)) return null;
  const start = trimStart;
  const end = trimEnd;
  if (!scanDecimal(raw, start, end)) {
    const text = raw.slice(start, end);
    const sci = SCIENTIFIC_RE.test(text) ? Number(text) : Number.NaN;
    if (Number.isInteger(sci) && sci >= 0 && sci <= Number.MAX_SAFE_INTEGER) return sci;
    if (Number.isFinite(sci) && sci >= 0) return reject(`not an integer: ${text}`);
    return numericReason(text, 'count');
  }
  if (scanFractionNonZero) return reject(`not an integer: ${raw.slice(start, end)}`);
  if (scanDigits > 15 && scanInt > Number.MAX_SAFE_INTEGER) {
    return reject(`number too large: ${raw.slice(start, end)}`);
  }
  return scanInt;
}

/**
 * An ACS margin of error: a non-negative real (aggregated margins are not integers). Same
 * tolerance for whitespace, separators and markers as `cleanAcsNumber`.
 */
export function cleanAcsMargin(raw: string): CleanResult {
  return cleanAcsMarginIn(raw, 0, raw.length);
}

/** cleanAcsMargin of the cell text[from, to). */
export function cleanAcsMarginIn(raw: string, from: number, to: number): CleanResult {
  if (isUnknownCell(raw, from, to)) return null;
  const start = trimStart;
  const end = trimEnd;
  if (!scanDecimal(raw, start, end)) {
    const text = raw.slice(start, end);
    if (SCIENTIFIC_RE.test(text)) {
      const n = Number(text);
      if (Number.isFinite(n) && n >= 0) return n;
    }
    return numericReason(text, 'margin');
  }
  if (!scanFractionNonZero) return scanInt;
  // mantissa < 2^53 and 10^k (k <= 22) are exact doubles, so one division is correctly rounded:
  // the same double Number(text) gives, without slicing a string.
  if (scanMantissa <= Number.MAX_SAFE_INTEGER && scanFractionDigits <= 22) {
    return scanMantissa / (POW10[scanFractionDigits] as number);
  }
  const text = raw.slice(start, end);
  return Number(scanHasComma ? text.replaceAll(',', '') : text);
}

/** Margins of error are reals; every other published column is an integer estimate. */
const isMarginHeader = (header: string) => header.startsWith('Margin of Error;');

/** The rule for a published column. */
export function cleanerForHeader(header: string): (raw: string) => CleanResult {
  return isMarginHeader(header) ? cleanAcsMargin : cleanAcsNumber;
}

/** The rule for a published column, on a cell text[from, to) (see cleanerForHeader). */
export function rangeCleanerForHeader(
  header: string,
): (text: string, from: number, to: number) => CleanResult {
  return isMarginHeader(header) ? cleanAcsMarginIn : cleanAcsNumberIn;
}

/** The row key: a positive integer. Rejections name the Id so a reject line explains itself. */
export function cleanId(raw: string): number | CellRejection {
  return cleanIdIn(raw, 0, raw.length);
}

/** cleanId of the cell text[from, to). */
export function cleanIdIn(raw: string, from: number, to: number): number | CellRejection {
  if (isUnknownCell(raw, from, to)) return reject('missing Id');
  const start = trimStart;
  const end = trimEnd;
  if (!scanDecimal(raw, start, end) || scanFractionNonZero || scanHasComma) {
    return reject(`Id not an integer: ${quoted(raw.slice(start, end))}`);
  }
  if (scanInt === 0) return reject('Id not positive: 0');
  if (scanInt > Number.MAX_SAFE_INTEGER) return reject(`Id too large: ${raw.slice(start, end)}`);
  return scanInt;
}

/** A neighborhood name: trimmed, inner whitespace runs collapsed to one space; empty is rejected. */
export function cleanNeighborhood(raw: string): string | CellRejection {
  return cleanNeighborhoodIn(raw, 0, raw.length);
}

/** cleanNeighborhood of the cell text[from, to). */
export function cleanNeighborhoodIn(raw: string, from: number, to: number): string | CellRejection {
  let start = from;
  let end = to;
  while (start < end && isSpace(raw.charCodeAt(start))) start++;
  while (end > start && isSpace(raw.charCodeAt(end - 1))) end--;
  if (start === end) return reject('missing Neighborhood');
  let needsCollapse = false;
  for (let i = start; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (isSpace(c) && (c !== CODE_SPACE || isSpace(raw.charCodeAt(i + 1)))) {
      needsCollapse = true;
      break;
    }
  }
  const trimmed = start === 0 && end === raw.length ? raw : raw.slice(start, end);
  return needsCollapse ? trimmed.replace(/[\s\u00a0\ufeff]+/g, ' ') : trimmed;
}
