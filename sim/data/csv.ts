/**
 * Strict parser for the two historic-price CSV layouts we ship:
 *
 *  - 'binance-kline': data.binance.vision kline CSV. No header (an optional
 *    `open_time,...` header line is tolerated), 12 columns:
 *    open_time, open, high, low, close, volume, close_time, quote_volume, trades,
 *    taker_buy_base, taker_buy_quote, ignore. Times in ms (µs is accepted and
 *    converted). Rows oldest first.
 *  - 'cdd': CryptoDataDownload export. Optional URL line (`https://www.CryptoDataDownload.com`),
 *    then a header naming at least unix, open, high, low, close. The unix column is the
 *    candle open time in seconds or milliseconds, decided per row (Bitfinex files mix both).
 *    Rows newest first or oldest first.
 *
 * Prices are kept as the exact decimal strings written in the file. Every problem is
 * reported as a PriceCsvError naming the source and the 1-based line number.
 */
import { compareDecimal } from './decimal.js';

export interface PricePoint {
  /** Candle open time, ms since the Unix epoch (UTC). */
  readonly timeMs: number;
  /** Exact decimal strings as written in the source file. */
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
}

export type PriceCsvFormat = 'binance-kline' | 'cdd';

export interface ParsePriceCsvOptions {
  /** Default 'auto'. */
  format?: PriceCsvFormat | 'auto';
  /** Name used in error messages (file name or URL). Default '<price csv>'. */
  source?: string;
  /**
   * Rows with the same time: 'error' (default) rejects them; 'drop-identical' keeps the
   * first of a run of rows whose time AND OHLC are identical (e.g. the seam between
   * CryptoDataDownload's s and ms formats) and still rejects conflicting duplicates.
   */
  duplicates?: 'error' | 'drop-identical';
}

export class PriceCsvError extends Error {
  override readonly name = 'PriceCsvError';
  constructor(
    readonly source: string,
    /** 1-based physical line number in the text. */
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${source}:${line}: ${reason}`);
  }
}

const PRICE_RE = /^\d+(?:\.\d+)?$/;
const INT_RE = /^\d+$/;
const KLINE_COLUMNS = 12;

interface Line {
  readonly no: number;
  readonly text: string;
}

function splitLines(text: string, source: string): Line[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const raw = text.split('\n');
  const lines: Line[] = [];
  let last = raw.length;
  while (last > 0 && raw[last - 1]!.replace(/\r$/, '').trim() === '') last--;
  for (let i = 0; i < last; i++) {
    const t = raw[i]!.replace(/\r$/, '');
    if (t.trim() === '') throw new PriceCsvError(source, i + 1, 'empty line');
    lines.push({ no: i + 1, text: t });
  }
  if (lines.length === 0) throw new PriceCsvError(source, 1, 'no data: the text is empty');
  return lines;
}

/** Guess the layout from the first non-empty line; undefined if it fits neither. */
export function detectPriceCsvFormat(text: string): PriceCsvFormat | undefined {
  const first = text.replace(/^\uFEFF/, '').split('\n').find((l) => l.trim() !== '');
  if (first === undefined) return undefined;
  const line = first.replace(/\r$/, '').trim();
  if (/^https?:\/\//i.test(line)) return 'cdd';
  const cols = line.split(',');
  const c0 = cols[0] ?? '';
  if (c0.toLowerCase() === 'open_time') return 'binance-kline';
  if (INT_RE.test(c0)) return cols.length === KLINE_COLUMNS ? 'binance-kline' : undefined;
  const lower = cols.map((c) => c.trim().toLowerCase());
  if (['unix', 'timestamp', 'open'].some((c) => lower.includes(c))) return 'cdd';
  return undefined;
}

function parseIntField(s: string, what: string, source: string, line: number): number {
  if (!INT_RE.test(s)) throw new PriceCsvError(source, line, `${what} ${JSON.stringify(s)} is not a non-negative integer`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new PriceCsvError(source, line, `${what} ${s} is too large`);
  return n;
}

/** Epoch time in s, ms or µs → ms, decided by magnitude. */
function toEpochMs(v: number, raw: string, what: string, source: string, line: number): number {
  if (v < 1e11) return v * 1000; // seconds (1e11 s is the year 5138)
  if (v < 1e14) return v; // milliseconds (1e14 ms is the year 5138)
  if (v % 1000 !== 0) throw new PriceCsvError(source, line, `${what} ${raw} looks like microseconds but is not a whole millisecond`);
  return v / 1000;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function checkPrice(s: string | undefined, what: string, source: string, line: number): string {
  if (s === undefined || !PRICE_RE.test(s)) {
    throw new PriceCsvError(source, line, `${what} ${JSON.stringify(s ?? '')} is not a decimal number`);
  }
  if (!/[1-9]/.test(s)) throw new PriceCsvError(source, line, `${what} ${s} is not positive`);
  return s;
}

function checkOhlc(p: PricePoint, source: string, line: number): void {
  if (compareDecimal(p.high, p.low) < 0) throw new PriceCsvError(source, line, `high ${p.high} < low ${p.low}`);
  for (const k of ['open', 'close'] as const) {
    if (compareDecimal(p[k], p.low) < 0 || compareDecimal(p[k], p.high) > 0) {
      throw new PriceCsvError(source, line, `${k} ${p[k]} outside [low ${p.low}, high ${p.high}]`);
    }
  }
}

function sameOhlc(a: PricePoint, b: PricePoint): boolean {
  return a.open === b.open && a.high === b.high && a.low === b.low && a.close === b.close;
}

interface Row {
  readonly point: PricePoint;
  readonly line: number;
}

function parseKlineRows(lines: Line[], source: string): Row[] {
  const rows: Row[] = [];
  let intervalRaw: number | undefined;
  let intervalLine = 0;
  for (const [i, { no, text }] of lines.entries()) {
    const cols = text.split(',');
    if (i === 0 && cols[0]?.trim().toLowerCase() === 'open_time') continue; // optional header
    if (cols.length !== KLINE_COLUMNS) {
      throw new PriceCsvError(source, no, `expected ${KLINE_COLUMNS} columns (binance kline), got ${cols.length}`);
    }
    const openRaw = parseIntField(cols[0]!, 'open_time', source, no);
    const closeRaw = parseIntField(cols[6]!, 'close_time', source, no);
    const point: PricePoint = {
      timeMs: toEpochMs(openRaw, cols[0]!, 'open_time', source, no),
      open: checkPrice(cols[1], 'open', source, no),
      high: checkPrice(cols[2], 'high', source, no),
      low: checkPrice(cols[3], 'low', source, no),
      close: checkPrice(cols[4], 'close', source, no),
    };
    const names = ['volume', 'quote_volume', 'trades', 'taker_buy_base', 'taker_buy_quote', 'ignore'];
    for (const [j, c] of [5, 7, 8, 9, 10, 11].entries()) {
      if (!PRICE_RE.test(cols[c]!)) {
        throw new PriceCsvError(source, no, `${names[j]!} ${JSON.stringify(cols[c])} (column ${c + 1}) is not a decimal number`);
      }
    }
    if (closeRaw <= openRaw) throw new PriceCsvError(source, no, `close_time ${closeRaw} is not after open_time ${openRaw}`);
    const interval = closeRaw - openRaw;
    if (intervalRaw === undefined) {
      intervalRaw = interval;
      intervalLine = no;
    } else if (interval !== intervalRaw) {
      throw new PriceCsvError(source, no, `close_time - open_time = ${interval}, but ${intervalRaw} on line ${intervalLine} (mixed intervals)`);
    }
    checkOhlc(point, source, no);
    rows.push({ point, line: no });
  }
  if (rows.length === 0) throw new PriceCsvError(source, lines[0]!.no, 'no data rows after the header');
  return rows;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

function parseCddRows(lines: Line[], source: string): Row[] {
  let i = 0;
  if (/^https?:\/\//i.test(lines[0]!.text.trim())) i = 1;
  const header = lines[i];
  if (header === undefined) throw new PriceCsvError(source, lines[0]!.no + 1, 'missing header line after the URL line');
  const names = header.text.split(',').map((c) => c.trim().toLowerCase());
  const idx = (name: string): number => names.indexOf(name);
  const tCol = idx('unix') >= 0 ? idx('unix') : idx('timestamp');
  const col = { open: idx('open'), high: idx('high'), low: idx('low'), close: idx('close') };
  const missing = [tCol < 0 ? 'unix' : '', ...Object.entries(col).filter(([, v]) => v < 0).map(([k]) => k)].filter(Boolean);
  if (missing.length > 0) {
    throw new PriceCsvError(source, header.no, `header lacks column(s) ${missing.join(', ')} (got: ${header.text})`);
  }
  const dCol = idx('date');
  const rows: Row[] = [];
  for (const { no, text } of lines.slice(i + 1)) {
    const cols = text.split(',');
    if (cols.length !== names.length) {
      throw new PriceCsvError(source, no, `expected ${names.length} columns (as in the header on line ${header.no}), got ${cols.length}`);
    }
    const raw = cols[tCol]!;
    const timeMs = toEpochMs(parseIntField(raw, names[tCol]!, source, no), raw, names[tCol]!, source, no);
    const point: PricePoint = {
      timeMs,
      open: checkPrice(cols[col.open], 'open', source, no),
      high: checkPrice(cols[col.high], 'high', source, no),
      low: checkPrice(cols[col.low], 'low', source, no),
      close: checkPrice(cols[col.close], 'close', source, no),
    };
    if (dCol >= 0) {
      // Cross-check the human date against the unix time when it is in a known layout.
      const m = DATE_RE.exec(cols[dCol]!.trim());
      if (m) {
        const [, y, mo, d, h, mi, s] = m;
        const dateMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0));
        if (dateMs !== timeMs) {
          throw new PriceCsvError(source, no, `date ${cols[dCol]} does not match unix time ${raw} (= ${iso(timeMs)})`);
        }
      }
    }
    checkOhlc(point, source, no);
    rows.push({ point, line: no });
  }
  if (rows.length === 0) throw new PriceCsvError(source, header.no, 'no data rows after the header');
  return rows;
}

/**
 * Parse a price CSV into candles sorted by ascending time. The rows must be strictly
 * monotonic in time (either direction, decided by the first two distinct times);
 * duplicates and out-of-order rows are errors (see `duplicates`).
 */
export function parsePriceCsv(text: string, opts: ParsePriceCsvOptions = {}): PricePoint[] {
  const source = opts.source ?? '<price csv>';
  const lines = splitLines(text, source);
  let format = opts.format ?? 'auto';
  if (format === 'auto') {
    const f = detectPriceCsvFormat(text);
    if (f === undefined) {
      throw new PriceCsvError(source, lines[0]!.no, `cannot detect the format (neither a 12-column binance kline row nor a CryptoDataDownload URL/header line): ${lines[0]!.text.slice(0, 80)}`);
    }
    format = f;
  }
  const rows = format === 'binance-kline' ? parseKlineRows(lines, source) : parseCddRows(lines, source);

  const out: PricePoint[] = [];
  let direction: 0 | 1 | -1 = 0;
  let prev: Row | undefined;
  for (const row of rows) {
    if (prev !== undefined) {
      const dt = row.point.timeMs - prev.point.timeMs;
      if (dt === 0) {
        if (opts.duplicates === 'drop-identical' && sameOhlc(row.point, prev.point)) continue;
        throw new PriceCsvError(source, row.line, `duplicate time ${iso(row.point.timeMs)} (also on line ${prev.line})`);
      }
      const d = dt > 0 ? 1 : -1;
      if (direction === 0) direction = d;
      else if (d !== direction) {
        throw new PriceCsvError(
          source,
          row.line,
          `time ${iso(row.point.timeMs)} is not ${direction > 0 ? 'after' : 'before'} ${iso(prev.point.timeMs)} on line ${prev.line} (rows must be strictly ${direction > 0 ? 'increasing' : 'decreasing'} in time)`,
        );
      }
    }
    out.push(row.point);
    prev = row;
  }
  if (direction < 0) out.reverse();
  return out;
}

/**
 * The candle length: the smallest positive step between consecutive candles
 * (robust to gaps). Undefined for fewer than two points.
 */
export function inferCandleMs(points: readonly { readonly timeMs: number }[]): number | undefined {
  let best: number | undefined;
  for (let i = 1; i < points.length; i++) {
    const d = points[i]!.timeMs - points[i - 1]!.timeMs;
    if (d > 0 && (best === undefined || d < best)) best = d;
  }
  return best;
}
