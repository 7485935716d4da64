// One definition of a logical date, shared by every --date flag and the message schema.
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** True for YYYY-MM-DD naming a real calendar day (2026-02-28 yes; 2026-02-30, 2026-13-45 no). */
export function isCalendarDate(value: string): boolean {
  if (!DATE_RE.test(value)) return false;
  const day = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === value;
}
