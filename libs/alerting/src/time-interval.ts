/** One entry of a `time_intervals[].time_intervals` list; empty fields match everything. */
export interface TimeInterval {
  readonly times: ReadonlyArray<{ readonly start: number; readonly end: number }>;
  readonly weekdays: ReadonlyArray<readonly [number, number]>;
  readonly daysOfMonth: ReadonlyArray<readonly [number, number]>;
  readonly months: ReadonlyArray<readonly [number, number]>;
  readonly years: ReadonlyArray<readonly [number, number]>;
  readonly location: string;
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

function parseRange(
  s: string,
  what: string,
  one: (x: string) => number,
  min: number,
  max: number,
): [number, number] {
  const parts = s.split(':');
  if (parts.length > 2) throw new Error(`invalid ${what} range: ${s}`);
  const begin = one(parts[0].trim().toLowerCase());
  const end = parts.length === 2 ? one(parts[1].trim().toLowerCase()) : begin;
  for (const v of [begin, end]) {
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`invalid ${what}: ${s}`);
  }
  return [begin, end];
}

const int = (x: string) => (/^-?\d+$/.test(x) ? Number(x) : NaN);

export function parseWeekdayRange(s: string): [number, number] {
  const r = parseRange(s, 'weekday', (x) => WEEKDAYS.indexOf(x), 0, 6);
  if (r[0] > r[1]) throw new Error(`start day cannot be before end day: ${s}`);
  return r;
}

export function parseMonthRange(s: string): [number, number] {
  const r = parseRange(s, 'month', (x) => (MONTHS.includes(x) ? MONTHS.indexOf(x) + 1 : int(x)), 1, 12);
  if (r[0] > r[1]) throw new Error(`end month ${r[1]} is before start month ${r[0]}`);
  return r;
}

export function parseDayOfMonthRange(s: string): [number, number] {
  const r = parseRange(s, 'day of month', int, -31, 31);
  if (r[0] === 0 || r[1] === 0) throw new Error(`0 is not a valid day of the month: ${s}`);
  if (Math.sign(r[0]) === Math.sign(r[1]) && r[0] > r[1])
    throw new Error(`end day must be greater than start day: ${s}`);
  return r;
}

export function parseYearRange(s: string): [number, number] {
  const r = parseRange(s, 'year', int, 0, 9999);
  if (r[0] > r[1]) throw new Error(`end year ${r[1]} is before start year ${r[0]}`);
  return r;
}

/** "HH:MM" as minutes of the day; "24:00" is allowed as an end. */
export function parseClock(s: string): number {
  const m = /^(\d\d):(\d\d)$/.exec(s);
  if (!m) throw new Error(`couldn't parse timestamp ${s}, invalid format`);
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 24 || min > 59 || (h === 24 && min !== 0)) throw new Error(`timestamp ${s} out of range`);
  return h * 60 + min;
}

export function checkLocation(loc: string): void {
  if (loc === 'Local' || loc === 'UTC') return;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: loc });
  } catch {
    throw new Error(`unknown time zone ${loc}`);
  }
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  weekday: number;
  minute: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function localTime(ms: number, location: string): LocalTime {
  const tz = location === 'Local' ? undefined : location;
  const key = tz ?? '';
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      weekday: 'long',
      hour: 'numeric',
      minute: 'numeric',
    });
    formats.set(key, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: WEEKDAYS.indexOf(parts.weekday.toLowerCase()),
    minute: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

const inRanges = (v: number, rs: ReadonlyArray<readonly [number, number]>) =>
  rs.length === 0 || rs.some(([a, b]) => v >= a && v <= b);

/** timeinterval.TimeInterval.ContainsTime: every non-empty field must match. */
export function containsTime(ti: TimeInterval, ms: number): boolean {
  const t = localTime(ms, ti.location);
  if (ti.times.length > 0 && !ti.times.some((r) => t.minute >= r.start && t.minute < r.end)) return false;
  if (!inRanges(t.weekday, ti.weekdays)) return false;
  if (ti.daysOfMonth.length > 0) {
    const days = new Date(Date.UTC(t.year, t.month, 0)).getUTCDate();
    const ok = ti.daysOfMonth.some(([b0, e0]) => {
      let begin = b0 < 0 ? days + b0 + 1 : b0;
      let end = e0 < 0 ? days + e0 + 1 : e0;
      if (begin > days) return false;
      begin = Math.min(Math.max(begin, -days), days);
      end = Math.min(Math.max(end, -days), days);
      return t.day >= begin && t.day <= end;
    });
    if (!ok) return false;
  }
  if (!inRanges(t.month, ti.months)) return false;
  return inRanges(t.year, ti.years);
}

/** True when any interval of a named set contains the time. */
export function anyContains(intervals: readonly TimeInterval[], ms: number): boolean {
  return intervals.some((ti) => containsTime(ti, ms));
}
