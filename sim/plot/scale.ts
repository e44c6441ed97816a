/**
 * Axis maths: "nice" linear ticks, UTC time ticks, and deterministic number / date
 * formatting (no locale APIs, so the output is identical on every machine).
 */

export interface Tick {
  readonly value: number;
  /** One or two lines; the second line gives context (date, year) where it changes. */
  readonly label: readonly string[];
}

/** Format with a fixed number of decimals and ',' thousands separators; never "-0". */
export function formatFixed(v: number, decimals: number): string {
  let s = Math.abs(v).toFixed(decimals);
  const [i, f] = s.split('.');
  s = i!.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (f === undefined ? '' : `.${f}`);
  return v < 0 && /[1-9]/.test(s) ? `-${s}` : s;
}

/** Compact number for labels and tooltips: 1,234.5 / 12.3M / 0.00012. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return '0';
  for (const [u, s] of [[1e12, 'T'], [1e9, 'B'], [1e6, 'M']] as const) {
    if (a >= u) return `${trimZeros((v / u).toFixed(2))}${s}`;
  }
  if (a >= 1000) return formatFixed(v, 0);
  if (a >= 1) return trimZeros(v.toFixed(2));
  const d = Math.min(12, 2 - Math.floor(Math.log10(a)));
  return trimZeros(v.toFixed(d));
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Step of the form {1, 2, 5} × 10^e closest above `raw`, with e. */
function niceStep(raw: number): { step: number; exp: number } {
  const exp = Math.floor(Math.log10(raw));
  const base = 10 ** exp;
  const m = raw / base;
  const mult = m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10;
  return mult === 10 ? { step: 10 ** (exp + 1), exp: exp + 1 } : { step: mult * base, exp };
}

export interface LinearTicks {
  /** Domain extended outward to whole ticks. */
  readonly min: number;
  readonly max: number;
  readonly ticks: Tick[];
}

/**
 * Nice ticks covering [lo, hi] with about `count` intervals. The domain is extended
 * to the enclosing ticks. Labels use a common scale (k/M/B suffix for large values).
 */
export function linearTicks(lo: number, hi: number, count = 5, format?: (v: number) => string): LinearTicks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.05;
    lo -= pad;
    hi += pad;
  }
  const { step, exp } = niceStep((hi - lo) / Math.max(1, count));
  const i0 = Math.floor(lo / step + 1e-9);
  const i1 = Math.ceil(hi / step - 1e-9);
  const maxAbs = Math.max(Math.abs(i0 * step), Math.abs(i1 * step));
  const [div, suffix] = maxAbs >= 1e12 ? [1e12, 'T'] : maxAbs >= 1e9 ? [1e9, 'B'] : maxAbs >= 1e6 ? [1e6, 'M'] : [1, ''];
  const decimals = Math.max(0, -(exp - Math.round(Math.log10(div))));
  const ticks: Tick[] = [];
  for (let i = i0; i <= i1; i++) {
    const value = i * step;
    const clean = Number(value.toPrecision(12)); // remove float noise such as 0.30000000000000004
    ticks.push({ value: clean, label: [format ? format(clean) : formatFixed(clean / div, decimals) + suffix] });
  }
  return { min: i0 * step, max: i1 * step, ticks };
}

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** 1970-01-05 was a Monday. */
const MONDAY_OFFSET = 4 * DAY;

type TimeUnit = { kind: 'fixed'; ms: number; offset?: number } | { kind: 'month'; months: number };

const TIME_STEPS: TimeUnit[] = [
  ...[1, 2, 5, 10, 15, 30].map((s): TimeUnit => ({ kind: 'fixed', ms: s * SEC })),
  ...[1, 2, 5, 10, 15, 30].map((m): TimeUnit => ({ kind: 'fixed', ms: m * MIN })),
  ...[1, 2, 3, 6, 12].map((h): TimeUnit => ({ kind: 'fixed', ms: h * HOUR })),
  { kind: 'fixed', ms: DAY },
  { kind: 'fixed', ms: 2 * DAY },
  { kind: 'fixed', ms: 7 * DAY, offset: MONDAY_OFFSET },
  ...[1, 2, 3, 6, 12, 24, 60, 120].map((m): TimeUnit => ({ kind: 'month', months: m })),
];

const pad2 = (n: number): string => String(n).padStart(2, '0');

function stepMs(u: TimeUnit): number {
  return u.kind === 'fixed' ? u.ms : u.months * 30 * DAY;
}

/**
 * UTC time ticks for [lo, hi] (ms since epoch) with at most `maxTicks` ticks, at
 * calendar-aligned boundaries. Labels: HH:MM:SS / HH:MM / MM-DD / YYYY-MM / YYYY,
 * with the date (or year) as a second line on the first tick and where it changes.
 */
export function timeTicks(lo: number, hi: number, maxTicks = 8): Tick[] {
  if (!(hi > lo)) return [{ value: lo, label: [new Date(lo).toISOString().slice(0, 16).replace('T', ' ')] }];
  const span = hi - lo;
  const unit = TIME_STEPS.find((u) => span / stepMs(u) <= maxTicks) ?? TIME_STEPS[TIME_STEPS.length - 1]!;
  const values: number[] = [];
  if (unit.kind === 'fixed') {
    const off = unit.offset ?? 0;
    for (let v = Math.ceil((lo - off) / unit.ms) * unit.ms + off; v <= hi; v += unit.ms) values.push(v);
  } else {
    // Absolute month index (year * 12 + month), aligned to multiples of the step.
    const d = new Date(lo);
    let a = Math.ceil((d.getUTCFullYear() * 12 + d.getUTCMonth()) / unit.months) * unit.months;
    if (Date.UTC(Math.floor(a / 12), a % 12, 1) < lo) a += unit.months;
    for (;;) {
      const v = Date.UTC(Math.floor(a / 12), a % 12, 1);
      if (v > hi) break;
      values.push(v);
      a += unit.months;
    }
  }
  const ms = stepMs(unit);
  let prevContext = '';
  return values.map((v) => {
    const d = new Date(v);
    const Y = String(d.getUTCFullYear());
    const MD = `${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
    const HM = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
    let main: string;
    let context: string;
    if (ms < MIN) [main, context] = [`${HM}:${pad2(d.getUTCSeconds())}`, `${Y}-${MD}`];
    else if (ms < DAY) [main, context] = [HM, `${Y}-${MD}`];
    else if (unit.kind === 'fixed') [main, context] = [MD, Y];
    else if (unit.months < 12) [main, context] = [`${Y}-${pad2(d.getUTCMonth() + 1)}`, ''];
    else [main, context] = [Y, ''];
    const label = context !== '' && context !== prevContext ? [main, context] : [main];
    prevContext = context;
    return { value: v, label };
  });
}

/** Linear map from a domain to a pixel range. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}
