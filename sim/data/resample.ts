/**
 * Turn candles (1m / 1h / 1d) into one integer price per block at a fixed block
 * cadence. Integer (bigint) arithmetic only, so the output is exact and identical on
 * every machine: suitable for feeding the chain's oracle.
 *
 * Block grid: block k has time `from + k * blockMs` for every k ≥ 0 with time < `to`.
 * A block belongs to the candle whose span [timeMs, timeMs + candleMs) contains its time.
 *
 * Modes
 *  - 'step': every block in a candle gets the candle's OPEN (the price known at the
 *    start of the candle; no look-ahead). Extremes are NOT visited.
 *  - 'linear-path': every candle is walked open → first extreme → second extreme →
 *    close, piecewise linearly, over the m blocks that fall into the candle, so the
 *    candle's high and low are hit exactly (whenever m ≥ 2).
 *      * Which extreme comes first: the one closer to the open (|high − open| vs
 *        |open − low|). On a tie, the order giving the shorter path: low first if
 *        close > open, high first if close < open; low first if also close = open.
 *      * Vertex placement for m ≥ 4 blocks (j = 0 … m−1, a = m − 1):
 *        open at j = 0, first extreme at j = round(a/3), second at j = round(2a/3),
 *        close at j = m − 1. (a/3 is never exactly .5, so round is unambiguous.)
 *      * Fewer blocks than vertices, extremes have priority:
 *        m = 3 → [first, second, close]; m = 2 → [first, second]; m = 1 → [close].
 *      * Between vertices A (j_A, v_A) and B (j_B, v_B):
 *        v(j) = v_A + round_half_up((v_B − v_A)(j − j_A) / (j_B − j_A)),
 *        where round_half_up(x) = floor(x + 1/2). Values therefore stay within [low, high].
 *    The path of a candle depends only on the block grid, not on `from`/`to` clipping.
 *  - Gaps (a block in no candle, e.g. a missing hour): the previous candle's CLOSE is
 *    held, in both modes.
 */
import { floorDiv, toPriceUnits, type Rounding } from './decimal.js';
import { inferCandleMs, type PricePoint } from './csv.js';

/** A candle in integer price units (p means p·10^exponent USD, as the chain's price_exponent). */
export interface UnitCandle {
  readonly timeMs: number;
  readonly open: bigint;
  readonly high: bigint;
  readonly low: bigint;
  readonly close: bigint;
}

export interface PriceTick {
  /** Block time, ms since the Unix epoch. */
  readonly timeMs: number;
  /** Integer price units (p·10^exponent). */
  readonly price: bigint;
}

export type ResampleMode = 'step' | 'linear-path';

export interface ResampleOptions {
  /** Block cadence in ms (positive integer). */
  blockMs: number;
  mode: ResampleMode;
  /** Time of block 0 (ms, inclusive). Default: the first candle's open time. */
  from?: number;
  /** End of the range (ms, exclusive). Default: the end of the last candle. */
  to?: number;
  /**
   * Price exponent for PricePoint input, chain convention: integer p means p·10^exponent
   * (devnet BTC-USD −5, ETH-USD −6). Default −6.
   */
  exponent?: number;
  /** How prices with more decimals than `exponent` are rounded. Default 'exact' (throws). */
  rounding?: Rounding;
  /** Candle length in ms. Default: the smallest step between consecutive candles. */
  candleMs?: number;
}

/** Convert decimal-string candles to integer units (exact unless a rounding is given). */
export function toUnitCandles(points: readonly PricePoint[], exponent: number, rounding: Rounding = 'exact'): UnitCandle[] {
  return points.map((p) => ({
    timeMs: p.timeMs,
    open: toPriceUnits(p.open, exponent, rounding),
    high: toPriceUnits(p.high, exponent, rounding),
    low: toPriceUnits(p.low, exponent, rounding),
    close: toPriceUnits(p.close, exponent, rounding),
  }));
}

/** Which extreme the linear path visits first (see the module comment). */
export function firstExtreme(c: UnitCandle): 'high' | 'low' {
  const up = c.high - c.open;
  const down = c.open - c.low;
  if (down < up) return 'low';
  if (up < down) return 'high';
  return c.close < c.open ? 'high' : 'low';
}

/** round_half_up(n / d) for d > 0. */
function roundDiv(n: bigint, d: bigint): bigint {
  return floorDiv(2n * n + d, 2n * d);
}

/** The 'linear-path' prices of one candle spread over m ≥ 1 blocks. */
export function candlePath(c: UnitCandle, m: number): bigint[] {
  if (!Number.isSafeInteger(m) || m < 1) throw new RangeError(`m must be a positive integer, got ${m}`);
  const [e1, e2] = firstExtreme(c) === 'high' ? [c.high, c.low] : [c.low, c.high];
  if (m === 1) return [c.close];
  if (m === 2) return [e1, e2];
  if (m === 3) return [e1, e2, c.close];
  const a = m - 1;
  const vertices: Array<[number, bigint]> = [
    [0, c.open],
    [Math.floor((a + 1) / 3), e1],
    [Math.floor((2 * a + 1) / 3), e2],
    [a, c.close],
  ];
  const out = new Array<bigint>(m);
  for (let v = 0; v < 3; v++) {
    const [ja, va] = vertices[v]!;
    const [jb, vb] = vertices[v + 1]!;
    const span = BigInt(jb - ja);
    const dv = vb - va;
    for (let j = ja; j < jb; j++) out[j] = va + roundDiv(dv * BigInt(j - ja), span);
  }
  out[a] = c.close;
  return out;
}

function ceilDiv(a: number, b: number): number {
  return -Math.floor(-a / b);
}

function assertInt(name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
}

/**
 * Lazily yield one price per block (use this for long ranges: 42 days of hourly
 * candles at 1 s blocks is 3.6 M ticks). Input: decimal PricePoints (converted with
 * `exponent`/`rounding`) or UnitCandles; sorted ascending by time, non-overlapping.
 */
export function* iterateResampled(
  input: readonly PricePoint[] | readonly UnitCandle[],
  opts: ResampleOptions,
): Generator<PriceTick, void, undefined> {
  if (input.length === 0) throw new RangeError('resample: no candles');
  const candles: readonly UnitCandle[] =
    typeof input[0]!.open === 'bigint'
      ? (input as readonly UnitCandle[])
      : toUnitCandles(input as readonly PricePoint[], opts.exponent ?? -6, opts.rounding ?? 'exact');
  const { blockMs, mode } = opts;
  if (mode !== 'step' && mode !== 'linear-path') throw new TypeError(`resample: unknown mode ${String(mode)}`);
  assertInt('blockMs', blockMs, 1);
  const candleMs = opts.candleMs ?? inferCandleMs(candles);
  if (candleMs === undefined) throw new RangeError('resample: a single candle needs an explicit candleMs');
  assertInt('candleMs', candleMs, 1);
  for (let i = 1; i < candles.length; i++) {
    if (candles[i]!.timeMs - candles[i - 1]!.timeMs < candleMs) {
      throw new RangeError(`resample: candle ${i} at ${candles[i]!.timeMs} is not at least candleMs=${candleMs} after the previous one (unsorted or overlapping)`);
    }
  }
  const first = candles[0]!;
  const last = candles[candles.length - 1]!;
  const from = opts.from ?? first.timeMs;
  const to = opts.to ?? last.timeMs + candleMs;
  assertInt('from', from, 0);
  assertInt('to', to, 0);
  const iso = (ms: number) => new Date(ms).toISOString();
  if (from < first.timeMs) throw new RangeError(`resample: from ${iso(from)} is before the first candle (${iso(first.timeMs)})`);
  if (to > last.timeMs + candleMs) throw new RangeError(`resample: to ${iso(to)} is after the end of the last candle (${iso(last.timeMs + candleMs)})`);
  if (to <= from) throw new RangeError(`resample: empty range: from ${iso(from)} is not before to ${iso(to)} (the data covers ${iso(first.timeMs)} to ${iso(last.timeMs + candleMs)})`);

  let ci = 0;
  let pathOf = -1;
  let path: bigint[] = [];
  let kLo = 0;
  for (let k = 0; ; k++) {
    const t = from + k * blockMs;
    if (t >= to) return;
    while (ci + 1 < candles.length && candles[ci + 1]!.timeMs <= t) ci++;
    const c = candles[ci]!;
    if (t >= c.timeMs + candleMs) {
      yield { timeMs: t, price: c.close }; // gap: hold the last close
    } else if (mode === 'step') {
      yield { timeMs: t, price: c.open };
    } else {
      if (pathOf !== ci) {
        // Grid indices (relative to `from`, possibly negative) inside [timeMs, timeMs + candleMs).
        kLo = ceilDiv(c.timeMs - from, blockMs);
        const kHi = ceilDiv(c.timeMs + candleMs - from, blockMs) - 1;
        path = candlePath(c, kHi - kLo + 1);
        pathOf = ci;
      }
      yield { timeMs: t, price: path[k - kLo]! };
    }
  }
}

/** Array form of iterateResampled. */
export function resample(input: readonly PricePoint[] | readonly UnitCandle[], opts: ResampleOptions): PriceTick[] {
  return Array.from(iterateResampled(input, opts));
}
