// Pure statistics of repeated measurements: the bench reports medians, never single runs.

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Items per second; 0 when no time was measured (a guard, not a real result). */
export function perSecond(count: number, seconds: number): number {
  return seconds > 0 ? count / seconds : 0;
}

/** The run whose value is the median (the lower middle one for an even count), to report its details. */
export function medianIndex(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  return order[Math.floor((order.length - 1) / 2)]![1];
}
