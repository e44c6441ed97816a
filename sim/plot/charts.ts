/**
 * Self-contained SVG charts for the simulator's HTML report: no scripts, no external
 * fonts or stylesheets, no element ids (so many charts can be inlined in one page),
 * deterministic output for the same input. Inputs are plain number arrays (floats).
 *
 *  - lineChart:        multi-series lines/areas over time or block height, optional right axis
 *  - barChart:         (stacked) bars per block, aggregated per pixel column when dense
 *  - bandChart:        percentile bands over time (p5–p95, p25–p75, median)
 *  - heatmapChart:     histogram per time bucket (distribution over time)
 *  - groupedBarChart:  categories × series (parameter sweeps; table-shaped input)
 */
import { colorAt, el, escapeXml, n, pathData, text, textWidth } from './svg.js';
import { formatNumber, linearScale, linearTicks, timeTicks, type Tick } from './scale.js';
import { m4Indices, type QuantileBand } from './stats.js';

export type Values = ArrayLike<number | null | undefined>;

export interface ChartOptions {
  title: string;
  subtitle?: string;
  /** Pixels; default 800 × 340. */
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
  /** 'time': x is ms since the epoch, labelled in UTC. Default 'linear'. */
  xType?: 'linear' | 'time';
  /** Format y tick labels (default: nice fixed decimals, k/M/B suffix for large values). */
  yFormat?: (v: number) => string;
  /** Fixed y range (otherwise from the data, extended to nice ticks). */
  yMin?: number;
  yMax?: number;
  /** Vertical markers, e.g. the start of a crash. */
  markers?: readonly { x: number; label?: string }[];
  /** Horizontal reference lines, e.g. a maintenance-margin threshold. */
  hlines?: readonly { y: number; label?: string; axis?: 'left' | 'right' }[];
}

// ----------------------------------------------------------------------------------
// layout & frame

const FONT = 'font-family="sans-serif"';
const AXIS_COLOR = '#444';
const GRID_COLOR = '#e5e5e5';

interface LegendItem {
  name: string;
  color: string;
  kind: 'line' | 'dash' | 'box';
  opacity?: number;
}

interface Layout {
  width: number;
  height: number;
  /** plot area */
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  header: string;
}

function dims(o: ChartOptions): { width: number; height: number } {
  const width = Math.max(200, Math.round(o.width ?? 800));
  const height = Math.max(150, Math.round(o.height ?? 340));
  return { width, height };
}

function layout(o: ChartOptions, legend: LegendItem[], rightAxis: boolean, extraBottom = 0): Layout {
  const { width, height } = dims(o);
  const parts: string[] = [];
  let y = 20;
  parts.push(text({ x: 12, y, 'font-size': 14, 'font-weight': 'bold', fill: '#222' }, o.title));
  if (o.subtitle !== undefined) {
    y += 16;
    parts.push(text({ x: 12, y, 'font-size': 11, fill: '#666' }, o.subtitle));
  }
  // Legend rows, wrapped to the width.
  let lx = 12;
  if (legend.length > 0) y += 18;
  for (const item of legend) {
    const w = 22 + textWidth(item.name) + 14;
    if (lx > 12 && lx + w > width - 12) {
      lx = 12;
      y += 16;
    }
    const sw =
      item.kind === 'box'
        ? el('rect', { x: lx, y: y - 8, width: 14, height: 9, fill: item.color, 'fill-opacity': item.opacity === undefined ? undefined : String(item.opacity) })
        : el('line', { x1: lx, y1: y - 3.5, x2: lx + 14, y2: y - 3.5, stroke: item.color, 'stroke-width': 2, 'stroke-dasharray': item.kind === 'dash' ? '4 3' : undefined });
    parts.push(sw, text({ x: lx + 18, y, 'font-size': 11, fill: '#333' }, item.name));
    lx += w;
  }
  const left = o.yLabel !== undefined ? 74 : 60;
  const right = rightAxis ? 70 : 18;
  const top = y + 14;
  const bottom = 40 + (o.xLabel !== undefined ? 14 : 0) + extraBottom;
  return { width, height, x0: left, x1: width - right, y0: top, y1: Math.max(top + 40, height - bottom), header: parts.join('') };
}

function svgDoc(o: ChartOptions, L: Layout, body: string[]): string {
  const desc = o.subtitle === undefined ? '' : el('desc', {}, escapeXml(o.subtitle));
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${L.height}" viewBox="0 0 ${L.width} ${L.height}" ${FONT} font-size="11" role="img" aria-label="${escapeXml(o.title)}">` +
    el('title', {}, escapeXml(o.title)) +
    desc +
    el('rect', { x: 0, y: 0, width: L.width, height: L.height, fill: '#fff' }) +
    L.header +
    body.join('') +
    '</svg>'
  );
}

function tickLabel(x: number, y: number, anchor: 'start' | 'middle' | 'end', lines: readonly string[], fill = '#333'): string {
  return lines.map((s, i) => text({ x, y: y + i * 12, 'text-anchor': anchor, fill, 'font-size': i === 0 ? 11 : 10 }, s)).join('');
}

function xAxis(o: ChartOptions, L: Layout, ticks: readonly Tick[], sx: (v: number) => number): string {
  const out: string[] = [el('line', { x1: L.x0, y1: L.y1, x2: L.x1, y2: L.y1, stroke: AXIS_COLOR })];
  for (const t of ticks) {
    const x = sx(t.value);
    if (x < L.x0 - 0.5 || x > L.x1 + 0.5) continue;
    out.push(el('line', { x1: x, y1: L.y1, x2: x, y2: L.y1 + 4, stroke: AXIS_COLOR }), tickLabel(x, L.y1 + 15, 'middle', t.label));
  }
  const label = o.xLabel ?? (o.xType === 'time' ? 'time (UTC)' : undefined);
  if (label !== undefined) out.push(text({ x: (L.x0 + L.x1) / 2, y: L.height - 6, 'text-anchor': 'middle', fill: '#333' }, label));
  return out.join('');
}

function yAxis(L: Layout, ticks: readonly Tick[], sy: (v: number) => number, side: 'left' | 'right', label: string | undefined, grid: boolean): string {
  const out: string[] = [];
  const x = side === 'left' ? L.x0 : L.x1;
  for (const t of ticks) {
    const y = sy(t.value);
    if (grid) out.push(el('line', { x1: L.x0, y1: y, x2: L.x1, y2: y, stroke: GRID_COLOR }));
    out.push(el('line', { x1: x, y1: y, x2: side === 'left' ? x - 4 : x + 4, y2: y, stroke: AXIS_COLOR }));
    out.push(text({ x: side === 'left' ? x - 6 : x + 6, y: y + 3.5, 'text-anchor': side === 'left' ? 'end' : 'start', fill: '#333' }, t.label[0]!));
  }
  out.push(el('line', { x1: x, y1: L.y0, x2: x, y2: L.y1, stroke: AXIS_COLOR }));
  if (label !== undefined) {
    const lx = side === 'left' ? 14 : L.width - 8;
    const ly = (L.y0 + L.y1) / 2;
    out.push(text({ x: lx, y: ly, 'text-anchor': 'middle', fill: '#333', transform: `rotate(-90 ${n(lx)} ${n(ly)})` }, label));
  }
  return out.join('');
}

/** A clipping viewport over the plot area (nested <svg>; needs no ids). */
function plotArea(L: Layout, content: string[]): string {
  return `<svg x="${n(L.x0)}" y="${n(L.y0)}" width="${n(L.x1 - L.x0)}" height="${n(L.y1 - L.y0)}" overflow="hidden">${content.join('')}</svg>`;
}

function markersSvg(o: ChartOptions, L: Layout, sx: (v: number) => number): string {
  const out: string[] = [];
  for (const m of o.markers ?? []) {
    const x = sx(m.x);
    if (!(x >= L.x0 && x <= L.x1)) continue;
    out.push(el('line', { x1: x, y1: L.y0, x2: x, y2: L.y1, stroke: '#999', 'stroke-dasharray': '3 3' }));
    if (m.label !== undefined) out.push(text({ x: x + 3, y: L.y0 + 10, fill: '#666', 'font-size': 10 }, m.label));
  }
  return out.join('');
}

function hlinesSvg(o: ChartOptions, L: Layout, syFor: (axis: 'left' | 'right') => ((v: number) => number) | undefined): string {
  const out: string[] = [];
  for (const h of o.hlines ?? []) {
    const sy = syFor(h.axis ?? 'left');
    if (sy === undefined) continue;
    const y = sy(h.y);
    if (!(y >= L.y0 - 0.5 && y <= L.y1 + 0.5)) continue;
    out.push(el('line', { x1: L.x0, y1: y, x2: L.x1, y2: y, stroke: '#c00', 'stroke-dasharray': '5 3', 'stroke-opacity': '0.7' }));
    if (h.label !== undefined) out.push(text({ x: L.x1 - 4, y: y - 4, 'text-anchor': 'end', fill: '#a00', 'font-size': 10 }, h.label));
  }
  return out.join('');
}

function isNum(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function extent(arrs: Iterable<Values>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrs) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (isNum(v)) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  return [lo, hi];
}

function checkX(x: ArrayLike<number>, what: string): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) throw new RangeError(`${what}: x[${i}] is not a finite number`);
    if (i > 0 && x[i]! < x[i - 1]!) throw new RangeError(`${what}: x must be non-decreasing (x[${i}] < x[${i - 1}])`);
  }
}

function xTicksFor(o: ChartOptions, L: Layout, lo: number, hi: number): { ticks: Tick[]; min: number; max: number } {
  const maxTicks = Math.max(2, Math.floor((L.x1 - L.x0) / 90));
  if (o.xType === 'time') return { ticks: timeTicks(lo, hi, maxTicks), min: lo, max: hi };
  const t = linearTicks(lo, hi, maxTicks);
  // Keep the data range (do not extend the x axis to whole ticks).
  return { ticks: t.ticks, min: lo === hi ? t.min : lo, max: lo === hi ? t.max : hi };
}

function yRange(o: ChartOptions, lo: number, hi: number, L: Layout, includeZero: boolean, format?: (v: number) => string): { min: number; max: number; ticks: Tick[] } {
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  if (includeZero) [lo, hi] = [Math.min(lo, 0), Math.max(hi, 0)];
  if (o.yMin !== undefined) lo = o.yMin;
  if (o.yMax !== undefined) hi = o.yMax;
  const count = Math.max(2, Math.min(8, Math.floor((L.y1 - L.y0) / 45)));
  const t = linearTicks(lo, hi, count, format);
  // Snap to the enclosing ticks unless that would waste more than 15 % of the height
  // (e.g. one small negative bar would otherwise pull the axis down a whole tick step).
  const span = hi > lo ? hi - lo : Math.max(Math.abs(lo), 1);
  const min = o.yMin ?? (lo - t.min <= 0.15 * span ? t.min : lo - 0.03 * span);
  const max = o.yMax ?? (t.max - hi <= 0.15 * span ? t.max : hi + 0.03 * span);
  return { min, max, ticks: t.ticks.filter((k) => k.value >= min - 1e-9 * Math.abs(max - min) && k.value <= max + 1e-9 * Math.abs(max - min)) };
}

// ----------------------------------------------------------------------------------
// line chart

export interface LineSeries {
  name: string;
  values: Values;
  /** Own x values (default: the chart's `x`). Must be non-decreasing. */
  x?: ArrayLike<number>;
  color?: string;
  dashed?: boolean;
  /** Fill between the line and zero (or the bottom of the plot). */
  area?: boolean;
  /** Which y axis; series on 'right' get their own scale (e.g. open interest vs price). */
  axis?: 'left' | 'right';
  width?: number;
}

export interface LineChartOptions extends ChartOptions {
  /** Shared x values (time in ms for xType 'time', or block heights). */
  x?: ArrayLike<number>;
  series: readonly LineSeries[];
  yLabelRight?: string;
  yFormatRight?: (v: number) => string;
  /** Include 0 in the y range (default: true if any series is an area). */
  includeZero?: boolean;
}

/**
 * Multi-series line chart (price vs oracle, insurance fund, open interest, bad debt…).
 * Series with more points than 2 × plot width are reduced with M4 (first/min/max/last
 * per pixel column), so extremes stay visible and 100k points render fast.
 * null / undefined / NaN values break the line.
 */
export function lineChart(o: LineChartOptions): string {
  if (o.series.length === 0) throw new RangeError('lineChart: no series');
  const xs = o.series.map((s, i) => {
    const x = s.x ?? o.x;
    if (x === undefined) throw new RangeError(`lineChart: series ${i} (${s.name}) has no x values`);
    if (x.length !== s.values.length) throw new RangeError(`lineChart: series ${i} (${s.name}) has ${s.values.length} values but ${x.length} x values`);
    checkX(x, `lineChart series ${s.name}`);
    return x;
  });
  const hasRight = o.series.some((s) => s.axis === 'right');
  const legend: LegendItem[] = o.series.map((s, i) => ({ name: s.name, color: s.color ?? colorAt(i), kind: s.area ? 'box' : s.dashed ? 'dash' : 'line', ...(s.area ? { opacity: 0.5 } : {}) }));
  const L = layout(o, legend, hasRight);
  const [xlo, xhi] = extent(xs);
  const X = xTicksFor(o, L, Number.isFinite(xlo) ? xlo : 0, Number.isFinite(xhi) ? xhi : 1);
  const sx = linearScale(X.min, X.max, L.x0, L.x1);

  const axisRange = (side: 'left' | 'right'): { min: number; max: number; ticks: Tick[] } | undefined => {
    const ss = o.series.filter((s) => (s.axis ?? 'left') === side);
    if (ss.length === 0) return undefined;
    const [lo, hi] = extent([...ss.map((s) => s.values), (o.hlines ?? []).filter((h) => (h.axis ?? 'left') === side).map((h) => h.y)]);
    const zero = o.includeZero ?? ss.some((s) => s.area);
    const oo = side === 'left' ? o : { ...o, yMin: undefined, yMax: undefined };
    return yRange(oo, lo, hi, L, zero, side === 'left' ? o.yFormat : o.yFormatRight);
  };
  const left = axisRange('left') ?? axisRange('right')!;
  const right = hasRight ? axisRange('right') : undefined;
  const syL = linearScale(left.min, left.max, L.y1, L.y0);
  const syR = right === undefined ? undefined : linearScale(right.min, right.max, L.y1, L.y0);

  const body: string[] = [];
  body.push(yAxis(L, left.ticks, syL, 'left', o.yLabel, true));
  if (right !== undefined && syR !== undefined) body.push(yAxis(L, right.ticks, syR, 'right', o.yLabelRight, false));
  body.push(xAxis(o, L, X.ticks, sx));

  // Areas first, then every line on top of all areas.
  const areas: string[] = [];
  const lines: string[] = [];
  o.series.forEach((s, si) => {
    const color = s.color ?? colorAt(si);
    const onRight = s.axis === 'right' && syR !== undefined && right !== undefined;
    const sy = onRight ? syR : syL;
    const yr = onRight ? right : left;
    const segs = segments(s.values, xs[si]!, sx, sy, L);
    if (s.area) {
      const base = n(sy(Math.min(Math.max(0, yr.min), yr.max)) - L.y0);
      const fill = segs.map((g) => `${pathData(g.x, g.y)}L${n(g.x[g.x.length - 1]!)} ${base}L${n(g.x[0]!)} ${base}Z`).join('');
      if (fill !== '') areas.push(el('path', { d: fill, fill: color, 'fill-opacity': '0.25', stroke: 'none' }));
    }
    lines.push(linePath(segs, { ...s, color }));
  });
  body.push(plotArea(L, [...areas, ...lines]));
  body.push(hlinesSvg(o, L, (a) => (a === 'right' ? syR : syL)));
  body.push(markersSvg(o, L, sx));
  return svgDoc(o, L, body);
}

// ----------------------------------------------------------------------------------
// bar chart per block

export interface BarSeries {
  name: string;
  values: Values;
  color?: string;
}

export interface BarChartOptions extends ChartOptions {
  /** Bar positions (block heights or times), non-decreasing, one per value. */
  x: ArrayLike<number>;
  /** Stacked in order (positive values up, negative down). */
  series: readonly BarSeries[];
  /**
   * When there are more bars than half the plot width, bars are merged per pixel
   * column: 'max' (default: the biggest block stays visible) or 'sum'.
   */
  aggregate?: 'max' | 'sum';
}

/** Bars per block, e.g. liquidations per block. */
export function barChart(o: BarChartOptions): string {
  if (o.series.length === 0) throw new RangeError('barChart: no series');
  checkX(o.x, 'barChart');
  const len = o.x.length;
  o.series.forEach((s, i) => {
    if (s.values.length !== len) throw new RangeError(`barChart: series ${i} (${s.name}) has ${s.values.length} values but ${len} x values`);
  });
  const legend: LegendItem[] = o.series.length > 1 || o.series[0]!.name !== '' ? o.series.map((s, i) => ({ name: s.name, color: s.color ?? colorAt(i), kind: 'box' as const })) : [];
  const L = layout(o, legend, false);
  const plotW = L.x1 - L.x0;
  let step = Infinity;
  for (let i = 1; i < len; i++) {
    const d = o.x[i]! - o.x[i - 1]!;
    if (d > 0 && d < step) step = d;
  }
  if (!Number.isFinite(step)) step = 1;
  const [xlo, xhi] = len === 0 ? [0, 1] : [o.x[0]! - step / 2, o.x[len - 1]! + step / 2];
  const X = xTicksFor(o, L, xlo, xhi);
  const sx = linearScale(X.min, X.max, L.x0, L.x1);
  const dense = len > plotW / 2;
  const agg = o.aggregate ?? 'max';

  // Columns: either one per bar, or one per pixel column.
  type Col = { x0: number; x1: number; v: number[] };
  const cols: Col[] = [];
  if (!dense) {
    const w = Math.max(1, (sx(step) - sx(0)) * 0.8);
    for (let i = 0; i < len; i++) {
      const cx = sx(o.x[i]!) - L.x0;
      cols.push({ x0: cx - w / 2, x1: cx + w / 2, v: o.series.map((s) => (isNum(s.values[i]) ? (s.values[i] as number) : 0)) });
    }
  } else {
    let cur: Col | undefined;
    let curCol = NaN;
    for (let i = 0; i < len; i++) {
      const c = Math.floor(sx(o.x[i]!) - L.x0);
      if (c !== curCol) {
        cur = { x0: c, x1: c + 1, v: o.series.map(() => 0) };
        cols.push(cur);
        curCol = c;
      }
      o.series.forEach((s, k) => {
        const v = s.values[i];
        if (!isNum(v)) return;
        const prev = cur!.v[k]!;
        cur!.v[k] = agg === 'sum' ? prev + v : Math.abs(v) > Math.abs(prev) ? v : prev;
      });
    }
  }
  let lo = 0;
  let hi = 0;
  for (const c of cols) {
    let up = 0;
    let down = 0;
    for (const v of c.v) if (v >= 0) up += v;
    else down += v;
    hi = Math.max(hi, up);
    lo = Math.min(lo, down);
  }
  const Y = yRange(o, lo, hi === 0 && lo === 0 ? 1 : hi, L, true, o.yFormat);
  const sy = linearScale(Y.min, Y.max, L.y1, L.y0);
  const body: string[] = [yAxis(L, Y.ticks, sy, 'left', o.yLabel, true), xAxis(o, L, X.ticks, sx)];
  const inner: string[] = [];
  o.series.forEach((s, k) => {
    const color = s.color ?? colorAt(k);
    let d = '';
    for (const c of cols) {
      const v = c.v[k]!;
      if (v === 0) continue;
      let below = 0;
      for (let j = 0; j < k; j++) if (Math.sign(c.v[j]!) === Math.sign(v)) below += c.v[j]!;
      const ya = sy(below) - L.y0;
      const yb = sy(below + v) - L.y0;
      const top = Math.min(ya, yb);
      const h = Math.max(0.5, Math.abs(yb - ya));
      d += `M${n(c.x0)} ${n(top)}h${n(c.x1 - c.x0)}v${n(h)}h${n(c.x0 - c.x1)}Z`;
    }
    if (d !== '') inner.push(el('path', { d, fill: color, stroke: 'none' }));
  });
  body.push(plotArea(L, inner));
  body.push(hlinesSvg(o, L, () => sy));
  body.push(markersSvg(o, L, sx));
  return svgDoc(o, L, body);
}

// ----------------------------------------------------------------------------------
// percentile bands

export interface BandChartOptions extends ChartOptions {
  /** Bucket positions (time or block). */
  x: ArrayLike<number>;
  /**
   * Percentile series, e.g. from quantileBands(): the outermost pair (lowest p with
   * highest p) is the lightest band, inner pairs darker; an unpaired middle one
   * (normally p50) is drawn as a line.
   */
  bands: readonly QuantileBand[];
  color?: string;
  /** Extra lines drawn on top (same x as the bands unless given). */
  overlays?: readonly LineSeries[];
  includeZero?: boolean;
}

/**
 * Distribution over time as nested percentile bands (e.g. margin ratio p5/p25/p50/p75/p95
 * per bucket). Dense inputs are reduced per pixel column: the envelope keeps the
 * lowest lower-percentile and the highest upper-percentile; the median uses M4.
 */
export function bandChart(o: BandChartOptions): string {
  if (o.bands.length === 0) throw new RangeError('bandChart: no bands');
  checkX(o.x, 'bandChart');
  const bands = [...o.bands].sort((a, b) => a.p - b.p);
  bands.forEach((b) => {
    if (b.values.length !== o.x.length) throw new RangeError(`bandChart: band p${b.p} has ${b.values.length} values but ${o.x.length} x values`);
  });
  const color = o.color ?? colorAt(0);
  const pairs: Array<[QuantileBand, QuantileBand]> = [];
  for (let i = 0; i < Math.floor(bands.length / 2); i++) pairs.push([bands[i]!, bands[bands.length - 1 - i]!]);
  const mid = bands.length % 2 === 1 ? bands[Math.floor(bands.length / 2)]! : undefined;
  const opacity = (i: number): number => Math.round((0.15 + (0.35 * (i + 1)) / Math.max(1, pairs.length)) * 100) / 100;
  const legend: LegendItem[] = [
    ...pairs.map(([a, b], i) => ({ name: `p${a.p}–p${b.p}`, color, kind: 'box' as const, opacity: opacity(i) })),
    ...(mid ? [{ name: `p${mid.p}`, color, kind: 'line' as const }] : []),
    ...(o.overlays ?? []).map((s, i) => ({ name: s.name, color: s.color ?? colorAt(i + 1), kind: s.dashed ? ('dash' as const) : ('line' as const) })),
  ];
  const L = layout(o, legend, false);
  const [xlo, xhi] = extent([o.x]);
  const X = xTicksFor(o, L, Number.isFinite(xlo) ? xlo : 0, Number.isFinite(xhi) ? xhi : 1);
  const sx = linearScale(X.min, X.max, L.x0, L.x1);
  const [lo, hi] = extent([...bands.map((b) => b.values), ...(o.overlays ?? []).map((s) => s.values), (o.hlines ?? []).map((h) => h.y)]);
  const Y = yRange(o, lo, hi, L, o.includeZero ?? false, o.yFormat);
  const sy = linearScale(Y.min, Y.max, L.y1, L.y0);

  // Per pixel column reduction when dense.
  const len = o.x.length;
  const plotW = L.x1 - L.x0;
  const dense = len > plotW;
  const colX: number[] = []; // pixel x of each drawn column
  const colIdx: number[][] = []; // input indices merged into it
  let lastCol = NaN;
  for (let i = 0; i < len; i++) {
    const px = sx(o.x[i]!) - L.x0;
    if (!dense) {
      colX.push(px);
      colIdx.push([i]);
    } else if (Math.floor(px) !== lastCol) {
      lastCol = Math.floor(px);
      colX.push(lastCol + 0.5);
      colIdx.push([i]);
    } else colIdx[colIdx.length - 1]!.push(i);
  }
  const reduce = (b: QuantileBand, how: 'min' | 'max'): number[] =>
    colIdx.map((ids) => {
      let r = NaN;
      for (const i of ids) {
        const v = b.values[i]!;
        if (!Number.isFinite(v)) continue;
        if (Number.isNaN(r) || (how === 'min' ? v < r : v > r)) r = v;
      }
      return r;
    });

  const inner: string[] = [];
  pairs.forEach(([a, b], i) => {
    const lower = reduce(a, 'min');
    const upper = reduce(b, 'max');
    // polygons over runs where both are finite
    let d = '';
    for (let s = 0; s < colX.length; ) {
      while (s < colX.length && !(Number.isFinite(lower[s]!) && Number.isFinite(upper[s]!))) s++;
      let e = s;
      while (e < colX.length && Number.isFinite(lower[e]!) && Number.isFinite(upper[e]!)) e++;
      if (e > s) {
        const parts: string[] = [];
        for (let k = s; k < e; k++) parts.push(`${k === s ? 'M' : 'L'}${n(colX[k]!)} ${n(sy(upper[k]!) - L.y0)}`);
        for (let k = e - 1; k >= s; k--) parts.push(`L${n(colX[k]!)} ${n(sy(lower[k]!) - L.y0)}`);
        d += `${parts.join('')}Z`;
      }
      s = e;
    }
    if (d !== '') inner.push(el('path', { d, fill: color, 'fill-opacity': String(opacity(i)), stroke: 'none' }));
  });
  const body: string[] = [yAxis(L, Y.ticks, sy, 'left', o.yLabel, true), xAxis(o, L, X.ticks, sx), plotArea(L, inner)];
  // Median and overlays as lines (lineChart's M4 path logic, drawn in the same frame).
  const lines: LineSeries[] = [...(mid ? [{ name: `p${mid.p}`, values: mid.values, color, width: 1.75 }] : []), ...(o.overlays ?? []).map((s, i) => ({ ...s, color: s.color ?? colorAt(i + 1) }))];
  const lineInner: string[] = [];
  for (const s of lines) {
    const x = s.x ?? o.x;
    if (x.length !== s.values.length) throw new RangeError(`bandChart: overlay ${s.name} has ${s.values.length} values but ${x.length} x values`);
    checkX(x, `bandChart overlay ${s.name}`);
    lineInner.push(linePath(segments(s.values, x, sx, sy, L), s));
  }
  body.push(plotArea(L, lineInner));
  body.push(hlinesSvg(o, L, () => sy));
  body.push(markersSvg(o, L, sx));
  return svgDoc(o, L, body);
}

interface Segment {
  readonly x: Float64Array;
  readonly y: Float64Array;
}

/**
 * Pixel coordinates (relative to the plot viewport) of the runs of finite values of a
 * series, each reduced with M4 when the series has more than 2 points per pixel column.
 */
function segments(values: Values, x: ArrayLike<number>, sx: (v: number) => number, sy: (v: number) => number, L: Layout): Segment[] {
  const len = values.length;
  const px = new Float64Array(len);
  const py = new Float64Array(len);
  for (let i = 0; i < len; i++) {
    px[i] = sx(x[i]!) - L.x0;
    const v = values[i];
    py[i] = isNum(v) ? sy(v) - L.y0 : NaN;
  }
  const dense = len > 2 * (L.x1 - L.x0);
  const out: Segment[] = [];
  for (let i = 0; i < len; ) {
    while (i < len && Number.isNaN(py[i]!)) i++;
    let j = i;
    while (j < len && !Number.isNaN(py[j]!)) j++;
    if (j > i) {
      if (dense) {
        const idx = m4Indices(px, py, i, j);
        out.push({ x: Float64Array.from(idx, (k) => px[k]!), y: Float64Array.from(idx, (k) => py[k]!) });
      } else out.push({ x: px.slice(i, j), y: py.slice(i, j) });
    }
    i = j;
  }
  return out;
}

function linePath(segs: readonly Segment[], s: { color?: string; width?: number; dashed?: boolean }): string {
  const d = segs.map((g) => pathData(g.x, g.y)).join('');
  return d === '' ? '' : el('path', { d, fill: 'none', stroke: s.color ?? colorAt(0), 'stroke-width': s.width ?? 1.5, 'stroke-linejoin': 'round', 'stroke-dasharray': s.dashed ? '5 3' : undefined });
}

// ----------------------------------------------------------------------------------
// heatmap

export interface HeatmapChartOptions extends ChartOptions {
  /** Bucket start positions (time or block), one per sample array. */
  x: ArrayLike<number>;
  /** Raw samples per bucket (e.g. every account's margin ratio). */
  samples: readonly ArrayLike<number>[];
  /** Number of y bins (default 30). */
  bins?: number;
  /** 'column' (default): shade relative to each bucket's count (shape of the distribution); 'global': absolute counts. */
  normalize?: 'column' | 'global';
  /** Extra lines on top, e.g. the median. */
  overlays?: readonly LineSeries[];
}

/** Overlay line colours on the heatmap (visible on the dark palette). */
const PALETTE_OVERLAY = ['#e15759', '#ffffff', '#f28e2b'];

/** Sequential palette (approximate viridis), t in [0, 1]. */
const VIRIDIS = ['#440154', '#414487', '#2a788e', '#22a884', '#7ad151', '#fde725'];

function hexToRgb(h: string): [number, number, number] {
  return [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];
}

export function sequentialColor(t: number): string {
  const c = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(c));
  const f = c - i;
  const a = hexToRgb(VIRIDIS[i]!);
  const b = hexToRgb(VIRIDIS[i + 1]!);
  return `#${a.map((v, k) => Math.round(v + (b[k]! - v) * f).toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Histogram-per-bucket heatmap ("distribution over time"). More buckets than a quarter of
 * the plot width are merged (counts summed) so the SVG stays small.
 */
export function heatmapChart(o: HeatmapChartOptions): string {
  checkX(o.x, 'heatmapChart');
  if (o.samples.length !== o.x.length) throw new RangeError(`heatmapChart: ${o.samples.length} sample arrays but ${o.x.length} x values`);
  const nb = Math.max(1, Math.floor(o.bins ?? 30));
  const legend: LegendItem[] = (o.overlays ?? []).map((s, i) => ({ name: s.name, color: s.color ?? PALETTE_OVERLAY[i % PALETTE_OVERLAY.length]!, kind: s.dashed ? 'dash' : 'line' }));
  const L = layout(o, legend, false, 0);
  const legendW = 46;
  const Lp: Layout = { ...L, x1: L.x1 - legendW };
  const len = o.x.length;
  let step = Infinity;
  for (let i = 1; i < len; i++) {
    const d = o.x[i]! - o.x[i - 1]!;
    if (d > 0 && d < step) step = d;
  }
  if (!Number.isFinite(step)) step = 1;
  const xlo = len === 0 ? 0 : o.x[0]!;
  const xhi = len === 0 ? 1 : o.x[len - 1]! + step;
  const X = xTicksFor(o, Lp, xlo, xhi);
  const sx = linearScale(X.min, X.max, Lp.x0, Lp.x1);
  const [lo, hi] = extent([...o.samples, ...(o.overlays ?? []).map((s) => s.values)]);
  const Y = yRange(o, lo, hi, Lp, false, o.yFormat);
  const sy = linearScale(Y.min, Y.max, Lp.y1, Lp.y0);
  const binW = (Y.max - Y.min) / nb;

  // Merge buckets into at most plotWidth/4 columns.
  const maxCols = Math.max(1, Math.floor((Lp.x1 - Lp.x0) / 4));
  const per = Math.max(1, Math.ceil(len / maxCols));
  const cols: { x0: number; x1: number; counts: number[]; total: number }[] = [];
  for (let c = 0; c * per < len; c++) {
    const i0 = c * per;
    const i1 = Math.min(len, i0 + per);
    const counts = new Array<number>(nb).fill(0);
    let total = 0;
    for (let i = i0; i < i1; i++) {
      const s = o.samples[i]!;
      for (let k = 0; k < s.length; k++) {
        const v = s[k]!;
        if (!Number.isFinite(v) || v < Y.min || v > Y.max) continue;
        const b = Math.min(nb - 1, Math.floor((v - Y.min) / binW));
        counts[b]!++;
        total++;
      }
    }
    const x0 = sx(o.x[i0]!) - Lp.x0;
    const x1 = (i1 < len ? sx(o.x[i1]!) : sx(o.x[i1 - 1]! + step)) - Lp.x0;
    cols.push({ x0, x1, counts, total });
  }
  let globalMax = 0;
  for (const c of cols) for (const v of c.counts) globalMax = Math.max(globalMax, v);
  const norm = o.normalize ?? 'column';
  const cells: string[] = [];
  // Group cells by (quantized) color to keep the SVG compact: one <path> per shade.
  const SHADES = 24;
  const byShade = new Map<number, string>();
  for (const c of cols) {
    let colMax = 0;
    for (const v of c.counts) colMax = Math.max(colMax, v);
    const denom = norm === 'column' ? colMax : globalMax;
    if (denom === 0) continue;
    for (let b = 0; b < nb; b++) {
      const v = c.counts[b]!;
      if (v === 0) continue;
      const shade = Math.max(1, Math.round((v / denom) * SHADES));
      const yTop = sy(Y.min + (b + 1) * binW) - Lp.y0;
      const yBot = sy(Y.min + b * binW) - Lp.y0;
      byShade.set(shade, (byShade.get(shade) ?? '') + `M${n(c.x0)} ${n(yTop)}H${n(c.x1)}V${n(yBot)}H${n(c.x0)}Z`);
    }
  }
  for (const shade of [...byShade.keys()].sort((a, b) => a - b)) {
    cells.push(el('path', { d: byShade.get(shade)!, fill: sequentialColor(shade / SHADES), stroke: 'none' }));
  }
  const body: string[] = [yAxis(Lp, Y.ticks, sy, 'left', o.yLabel, false), xAxis(o, Lp, X.ticks, sx), plotArea(Lp, cells)];
  const lineInner: string[] = [];
  (o.overlays ?? []).forEach((s, i) => {
    const x = s.x ?? o.x;
    if (x.length !== s.values.length) throw new RangeError(`heatmapChart: overlay ${s.name} has ${s.values.length} values but ${x.length} x values`);
    checkX(x, `heatmapChart overlay ${s.name}`);
    lineInner.push(linePath(segments(s.values, x, sx, sy, Lp), { ...s, color: s.color ?? PALETTE_OVERLAY[i % PALETTE_OVERLAY.length]! }));
  });
  body.push(plotArea(Lp, lineInner));
  body.push(hlinesSvg(o, Lp, () => sy));
  body.push(markersSvg(o, Lp, sx));
  // Colour key.
  const kx = Lp.x1 + 14;
  const kh = Math.min(120, Lp.y1 - Lp.y0);
  const key: string[] = [];
  for (let i = 0; i < 10; i++) {
    key.push(el('rect', { x: kx, y: Lp.y0 + (kh * (9 - i)) / 10, width: 10, height: kh / 10, fill: sequentialColor((i + 1) / 10) }));
  }
  key.push(text({ x: kx + 13, y: Lp.y0 + 8, fill: '#333', 'font-size': 9 }, norm === 'column' ? 'max' : formatNumber(globalMax)));
  key.push(text({ x: kx + 13, y: Lp.y0 + kh, fill: '#333', 'font-size': 9 }, norm === 'column' ? 'low' : '1'));
  body.push(key.join(''));
  return svgDoc(o, L, body);
}


// ----------------------------------------------------------------------------------
// grouped bars

export interface GroupedBarChartOptions extends Omit<ChartOptions, 'xType' | 'markers'> {
  /** Group labels along x, e.g. parameter values of a sweep ("MMF 3%", "MMF 5%"). */
  categories: readonly string[];
  /** One bar per series in each group, e.g. scenarios or metrics (values[i] for categories[i]). */
  series: readonly BarSeries[];
  /** Print each bar's value above it (default: true when there are ≤ 40 bars). */
  valueLabels?: boolean;
  valueFormat?: (v: number) => string;
}

/** Grouped bars for parameter-sweep comparisons; the input is table-shaped (categories × series). */
export function groupedBarChart(o: GroupedBarChartOptions): string {
  const nc = o.categories.length;
  const ns = o.series.length;
  if (nc === 0 || ns === 0) throw new RangeError('groupedBarChart: need at least one category and one series');
  o.series.forEach((s, i) => {
    if (s.values.length !== nc) throw new RangeError(`groupedBarChart: series ${i} (${s.name}) has ${s.values.length} values for ${nc} categories`);
  });
  const legend: LegendItem[] = o.series.map((s, i) => ({ name: s.name, color: s.color ?? colorAt(i), kind: 'box' }));
  const { width } = dims(o);
  const approxBand = (width - 80) / nc;
  const longest = Math.max(...o.categories.map((c) => textWidth(c)));
  const rotate = longest > approxBand - 4;
  const L = layout(o, legend, false, rotate ? Math.min(80, longest * 0.7) : 0);
  const [lo, hi] = extent([...o.series.map((s) => s.values), (o.hlines ?? []).map((h) => h.y)]);
  const showValues = o.valueLabels ?? nc * ns <= 40;
  // Head room for the value labels above the tallest bar (and below the lowest negative one).
  const room = showValues && Number.isFinite(lo) ? 0.08 * (Math.max(hi, 0) - Math.min(lo, 0)) : 0;
  const Y = yRange(o, lo < 0 ? lo - room : lo, hi > 0 ? hi + room : hi, L, true, o.yFormat);
  const sy = linearScale(Y.min, Y.max, L.y1, L.y0);
  const band = (L.x1 - L.x0) / nc;
  const barW = (band * 0.8) / ns;
  const fmt = o.valueFormat ?? formatNumber;
  const body: string[] = [yAxis(L, Y.ticks, sy, 'left', o.yLabel, true)];
  const axisY = sy(Math.min(Math.max(0, Y.min), Y.max));
  body.push(el('line', { x1: L.x0, y1: L.y1, x2: L.x1, y2: L.y1, stroke: AXIS_COLOR }));
  if (axisY < L.y1 - 0.5) body.push(el('line', { x1: L.x0, y1: axisY, x2: L.x1, y2: axisY, stroke: AXIS_COLOR }));
  const bars: string[] = [];
  const labels: string[] = [];
  o.categories.forEach((cat, c) => {
    const cx = L.x0 + band * (c + 0.5);
    if (rotate) {
      labels.push(text({ x: cx, y: L.y1 + 12, 'text-anchor': 'end', fill: '#333', transform: `rotate(-35 ${n(cx)} ${n(L.y1 + 12)})` }, cat));
    } else labels.push(text({ x: cx, y: L.y1 + 15, 'text-anchor': 'middle', fill: '#333' }, cat));
    o.series.forEach((s, k) => {
      const v = s.values[c];
      if (!isNum(v)) return;
      const x = L.x0 + band * c + band * 0.1 + barW * k;
      const y = sy(v);
      const top = Math.min(y, axisY);
      const h = Math.max(v === 0 ? 0 : 0.5, Math.abs(axisY - y));
      bars.push(el('rect', { x, y: top, width: Math.max(0.5, barW - 1), height: h, fill: s.color ?? colorAt(k) }));
      if (showValues) {
        labels.push(text({ x: x + barW / 2, y: v >= 0 ? top - 3 : top + h + 10, 'text-anchor': 'middle', fill: '#333', 'font-size': 9 }, fmt(v)));
      }
    });
  });
  body.push(bars.join(''), labels.join(''));
  if (o.xLabel !== undefined) body.push(text({ x: (L.x0 + L.x1) / 2, y: L.height - 6, 'text-anchor': 'middle', fill: '#333' }, o.xLabel));
  body.push(hlinesSvg(o as ChartOptions, L, () => sy));
  return svgDoc(o as ChartOptions, L, body);
}
