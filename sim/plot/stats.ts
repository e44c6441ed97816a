/**
 * Small statistics helpers for report charts (floats: plotting is outside consensus),
 * and extreme-preserving downsampling.
 */

/** Quantile of an ascending-sorted array, p in [0, 100], linear interpolation (numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const len = sorted.length;
  if (len === 0) return NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  const h = ((len - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(len - 1, lo + 1);
  const a = sorted[lo]!;
  return a + (sorted[hi]! - a) * (h - lo);
}

/** Percentiles of `values` (non-finite values ignored; NaN if none left). */
export function percentiles(values: ArrayLike<number>, ps: readonly number[]): number[] {
  const sorted = Float64Array.from(Array.prototype.filter.call(values, Number.isFinite) as number[]).sort();
  return ps.map((p) => quantileSorted(sorted, p));
}

export interface QuantileBand {
  /** Percentile in [0, 100]. */
  readonly p: number;
  /** One value per time bucket. */
  readonly values: ArrayLike<number>;
}

export const DEFAULT_PERCENTILES = [5, 25, 50, 75, 95] as const;

/**
 * Percentile bands from raw samples per time bucket (e.g. every account's margin
 * ratio at each sampled block): one QuantileBand per requested percentile.
 */
export function quantileBands(samplesPerBucket: readonly ArrayLike<number>[], ps: readonly number[] = DEFAULT_PERCENTILES): QuantileBand[] {
  const cols = samplesPerBucket.map((s) => percentiles(s, ps));
  return ps.map((p, j) => ({ p, values: Float64Array.from(cols, (c) => c[j]!) }));
}

/**
 * Group a flat (time, value) stream into buckets of `bucketMs` (aligned to multiples of
 * bucketMs). Returns bucket start times and the samples in each, ascending.
 */
export function bucketByTime(times: ArrayLike<number>, values: ArrayLike<number>, bucketMs: number): { x: number[]; samples: number[][] } {
  if (times.length !== values.length) throw new RangeError('bucketByTime: times and values differ in length');
  if (!(bucketMs > 0)) throw new RangeError('bucketByTime: bucketMs must be > 0');
  const map = new Map<number, number[]>();
  for (let i = 0; i < times.length; i++) {
    const b = Math.floor(times[i]! / bucketMs) * bucketMs;
    let arr = map.get(b);
    if (arr === undefined) map.set(b, (arr = []));
    arr.push(values[i]!);
  }
  const x = [...map.keys()].sort((a, b) => a - b);
  return { x, samples: x.map((k) => map.get(k)!) };
}

/**
 * M4 downsampling: for points whose pixel column is floor(px[i]), keep per column the
 * first, the minimum, the maximum and the last point (in index order). The drawn polyline
 * is then pixel-identical in extent to the full one: spikes and wicks stay visible.
 * `px` must be non-decreasing over [from, to).
 */
export function m4Indices(px: ArrayLike<number>, py: ArrayLike<number>, from = 0, to = px.length): number[] {
  const out: number[] = [];
  let col = NaN;
  let first = 0;
  let minI = 0;
  let maxI = 0;
  let last = 0;
  const flush = (): void => {
    const idx = [first, minI, maxI, last].sort((a, b) => a - b);
    for (let k = 0; k < 4; k++) if (k === 0 || idx[k] !== idx[k - 1]) out.push(idx[k]!);
  };
  for (let i = from; i < to; i++) {
    const c = Math.floor(px[i]!);
    if (c !== col) {
      if (i > from) flush();
      col = c;
      first = minI = maxI = last = i;
    } else {
      if (py[i]! < py[minI]!) minI = i;
      if (py[i]! > py[maxI]!) maxI = i;
      last = i;
    }
  }
  if (to > from) flush();
  return out;
}
