/**
 * Named historic price datasets shipped in sim/data/prices/ (provenance: SOURCES.md
 * there). The metadata below is static, so listDatasets() reads no files; the test
 * suite checks every field against the parsed file.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePriceCsv, type PriceCsvFormat, type PricePoint } from './csv.js';

export type DatasetInterval = '1m' | '1h' | '1d';

export interface DatasetInfo {
  readonly id: string;
  /** Base asset. */
  readonly asset: 'BTC' | 'ETH';
  readonly quote: 'USDT' | 'USD';
  /** Symbol as written by the venue / source file. */
  readonly symbol: string;
  readonly venue: 'binance-usdm-perp' | 'binance-spot' | 'bitstamp-spot' | 'bitfinex-spot';
  readonly kind: 'crash-window' | 'history';
  /** Short name of the market event the window was cut around. */
  readonly event?: string;
  /** UTC day of the event (YYYY-MM-DD). */
  readonly eventDate?: string;
  readonly interval: DatasetInterval;
  readonly intervalMs: number;
  /** File name inside sim/data/prices/. */
  readonly file: string;
  readonly format: PriceCsvFormat;
  /** Number of candles (after parsing). */
  readonly rows: number;
  /** Open time of the first / last candle (ms, UTC). */
  readonly firstTimeMs: number;
  readonly lastTimeMs: number;
  /** End of the data: last open + interval (exclusive, ms). */
  readonly endTimeMs: number;
  /** Lowest low / highest high, as written in the file, with the candle's open time. */
  readonly minLow: { readonly price: string; readonly timeMs: number };
  readonly maxHigh: { readonly price: string; readonly timeMs: number };
  /** Largest number of fractional digits among OHLC: exponent −priceDecimals converts losslessly. */
  readonly priceDecimals: number;
  /** Candles missing between first and last (gaps). */
  readonly missingCandles: number;
  readonly notes?: string;
}

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const t = (iso: string): number => Date.parse(iso);

interface Spec {
  id: string;
  asset: 'BTC' | 'ETH';
  quote: 'USDT' | 'USD';
  symbol: string;
  venue: DatasetInfo['venue'];
  kind: DatasetInfo['kind'];
  event?: string;
  eventDate?: string;
  interval: DatasetInterval;
  file: string;
  format: PriceCsvFormat;
  rows: number;
  first: string;
  last: string;
  low: [string, string];
  high: [string, string];
  decimals: number;
  missing: number;
  notes?: string;
}

const EVENTS: Record<string, string> = {
  '2020-03-12': 'Black Thursday (COVID crash)',
  '2021-05-19': 'May 2021 crash',
  '2022-05-12': 'Terra/LUNA collapse',
  '2022-11-08': 'FTX collapse',
};

function minute(asset: 'BTC' | 'ETH', date: string, file: string, rows: number, first: string, last: string, low: [string, string], high: [string, string], notes?: string): Spec {
  return {
    id: `${asset.toLowerCase()}-${date}`, asset, quote: 'USDT', symbol: `${asset}USDT`, venue: 'binance-usdm-perp', kind: 'crash-window',
    event: EVENTS[date]!, eventDate: date, interval: '1m', file, format: 'binance-kline', rows, first, last, low, high, decimals: 2, missing: 0,
    ...(notes === undefined ? {} : { notes }),
  };
}

function hourly(asset: 'BTC' | 'ETH', date: string, file: string, rows: number, first: string, last: string, low: [string, string], high: [string, string], decimals: number, missing: number, notes?: string): Spec {
  return {
    id: `${asset.toLowerCase()}-hourly-${date}`, asset, quote: 'USD', symbol: `${asset}/USD`, venue: asset === 'BTC' ? 'bitstamp-spot' : 'bitfinex-spot',
    kind: 'crash-window', event: EVENTS[date]!, eventDate: date, interval: '1h', file, format: 'cdd', rows, first, last, low, high, decimals, missing,
    ...(notes === undefined ? {} : { notes }),
  };
}

const SPECS: Spec[] = [
  minute('BTC', '2020-03-12', 'binance_um_btcusdt_1m_20200312T2330Z_20200313T0329Z.csv', 240, '2020-03-12T23:30Z', '2020-03-13T03:29Z', ['3621.81', '2020-03-13T02:16Z'], ['5529.97', '2020-03-13T03:29Z'], 'Overnight capitulation; the perp low 3621.81 is far below the spot low.'),
  minute('BTC', '2021-05-19', 'binance_um_btcusdt_1m_20210519T1100Z_20210519T1459Z.csv', 240, '2021-05-19T11:00Z', '2021-05-19T14:59Z', ['28688.00', '2021-05-19T13:10Z'], ['39580.00', '2021-05-19T11:05Z'], 'The 13:33 candle opens 1.3% below the previous close (checked against the source).'),
  minute('BTC', '2022-05-12', 'binance_um_btcusdt_1m_20220512T0400Z_20220512T0710Z.csv', 191, '2022-05-12T04:00Z', '2022-05-12T07:10Z', ['26700.00', '2022-05-12T05:16Z'], ['28456.80', '2022-05-12T04:01Z']),
  minute('BTC', '2022-11-08', 'binance_um_btcusdt_1m_20221108T1710Z_20221108T2109Z.csv', 240, '2022-11-08T17:10Z', '2022-11-08T21:09Z', ['16830.00', '2022-11-08T19:32Z'], ['20232.00', '2022-11-08T17:11Z']),
  minute('ETH', '2020-03-12', 'binance_um_ethusdt_1m_20200312T1027Z_20200312T1253Z.csv', 147, '2020-03-12T10:27Z', '2020-03-12T12:53Z', ['118.27', '2020-03-12T11:01Z'], ['164.35', '2020-03-12T10:27Z'], 'First leg of the crash (the BTC window is the later overnight leg).'),
  minute('ETH', '2021-05-19', 'binance_um_ethusdt_1m_20210519T1119Z_20210519T1334Z.csv', 136, '2021-05-19T11:19Z', '2021-05-19T13:34Z', ['1400.73', '2021-05-19T13:10Z'], ['2774.40', '2021-05-19T12:04Z'], 'Perp wick to 1400.73 (spot low 1888); the 12:51 candle opens 1.4% below the previous close.'),
  minute('ETH', '2022-05-12', 'binance_um_ethusdt_1m_20220512T0659Z_20220512T0917Z.csv', 139, '2022-05-12T06:59Z', '2022-05-12T09:17Z', ['1775.43', '2022-05-12T07:17Z'], ['1963.04', '2022-05-12T07:53Z']),
  minute('ETH', '2022-11-08', 'binance_um_ethusdt_1m_20221108T1514Z_20221108T1945Z.csv', 272, '2022-11-08T15:14Z', '2022-11-08T19:45Z', ['1195.22', '2022-11-08T19:33Z'], ['1580.54', '2022-11-08T16:34Z'], 'Includes the 16:00 "Binance to acquire FTX" pump before the dump.'),

  hourly('BTC', '2020-03-12', 'bitstamp_btcusd_1h_cdd_20200213T0000Z_20200325T2300Z.csv', 1008, '2020-02-13T00:00Z', '2020-03-25T23:00Z', ['3850', '2020-03-13T02:00Z'], ['10500.5', '2020-02-13T13:00Z'], 2, 0),
  hourly('BTC', '2021-05-19', 'bitstamp_btcusd_1h_cdd_20210421T0000Z_20210601T2300Z.csv', 1008, '2021-04-21T00:00Z', '2021-06-01T23:00Z', ['30066', '2021-05-19T13:00Z'], ['59603', '2021-05-10T04:00Z'], 2, 0),
  hourly('BTC', '2022-05-12', 'bitstamp_btcusd_1h_cdd_20220414T0000Z_20220525T2300Z.csv', 1008, '2022-04-14T00:00Z', '2022-05-25T23:00Z', ['25401.05', '2022-05-12T07:00Z'], ['42978.95', '2022-04-21T13:00Z'], 2, 0),
  hourly('BTC', '2022-11-08', 'bitstamp_btcusd_1h_cdd_20221011T0000Z_20221121T2300Z.csv', 1008, '2022-10-11T00:00Z', '2022-11-21T23:00Z', ['15479', '2022-11-21T21:00Z'], ['21473', '2022-11-05T03:00Z'], 0, 0),
  hourly('ETH', '2020-03-12', 'bitfinex_ethusd_1h_cdd_20200213T0000Z_20200325T2300Z.csv', 1008, '2020-02-13T00:00Z', '2020-03-25T23:00Z', ['89.66', '2020-03-13T02:00Z'], ['287.32', '2020-02-15T00:00Z'], 2, 0),
  hourly('ETH', '2021-05-19', 'bitfinex_ethusd_1h_cdd_20210421T0000Z_20210601T2300Z.csv', 1008, '2021-04-21T00:00Z', '2021-06-01T23:00Z', ['1755.0', '2021-05-23T16:00Z'], ['4373.0', '2021-05-12T14:00Z'], 8, 0, 'Prices up to 8 decimals (e.g. 2647.81079801): use exponent −8 or a rounding mode.'),
  hourly('ETH', '2022-05-12', 'bitfinex_ethusd_1h_cdd_20220414T0000Z_20220525T2300Z.csv', 1008, '2022-04-14T00:00Z', '2022-05-25T23:00Z', ['1763.4', '2022-05-12T07:00Z'], ['3181.9', '2022-04-21T12:00Z'], 8, 0, 'Prices up to 8 decimals (e.g. 1964.17502084): use exponent −8 or a rounding mode.'),
  hourly('ETH', '2022-11-08', 'bitfinex_ethusd_1h_cdd_20221011T0000Z_20221121T2300Z.csv', 1005, '2022-10-11T00:00Z', '2022-11-21T23:00Z', ['1073.9', '2022-11-09T23:00Z'], ['1678.0', '2022-11-04T14:00Z'], 8, 3, 'Missing hours 2022-10-12 08:00-10:00 (upstream gap). Prices up to 8 decimals (e.g. 1297.32780051).'),

  {
    id: 'btc-daily-binance', asset: 'BTC', quote: 'USDT', symbol: 'BTCUSDT', venue: 'binance-spot', kind: 'history', interval: '1d',
    file: 'binance_btcusdt_1d_cdd_2017-2026.csv', format: 'cdd', rows: 3142, first: '2017-08-17T00:00Z', last: '2026-03-30T00:00Z',
    low: ['2817.0', '2017-09-15T00:00Z'], high: ['126199.63', '2025-10-06T00:00Z'], decimals: 2, missing: 6,
    notes: 'Missing days 2026-01-08, 2026-01-20, 2026-03-20..22, 2026-03-25.',
  },
  {
    id: 'eth-daily-binance', asset: 'ETH', quote: 'USDT', symbol: 'ETHUSDT', venue: 'binance-spot', kind: 'history', interval: '1d',
    file: 'binance_ethusdt_1d_cdd_2017-2026.csv', format: 'cdd', rows: 3142, first: '2017-08-17T00:00Z', last: '2026-03-30T00:00Z',
    low: ['81.79', '2018-12-15T00:00Z'], high: ['4956.78', '2025-08-24T00:00Z'], decimals: 2, missing: 6,
    notes: 'Missing days 2026-01-08, 2026-01-20, 2026-03-20..22, 2026-03-25.',
  },
  {
    id: 'btc-daily-bitstamp', asset: 'BTC', quote: 'USD', symbol: 'BTC/USD', venue: 'bitstamp-spot', kind: 'history', interval: '1d',
    file: 'bitstamp_btcusd_1d_cdd_2014-2023.csv', format: 'cdd', rows: 2960, first: '2014-11-28T00:00Z', last: '2023-01-10T00:00Z',
    low: ['152.4', '2015-01-14T00:00Z'], high: ['69000', '2021-11-10T00:00Z'], decimals: 2, missing: 6,
    notes: 'Missing 2015-01-06..11 (Bitstamp halted after its hack).',
  },
];

const INTERVAL_MS: Record<DatasetInterval, number> = { '1m': MIN, '1h': HOUR, '1d': DAY };

function toInfo(s: Spec): DatasetInfo {
  const intervalMs = INTERVAL_MS[s.interval];
  const lastTimeMs = t(s.last);
  return Object.freeze({
    id: s.id,
    asset: s.asset,
    quote: s.quote,
    symbol: s.symbol,
    venue: s.venue,
    kind: s.kind,
    ...(s.event === undefined ? {} : { event: s.event }),
    ...(s.eventDate === undefined ? {} : { eventDate: s.eventDate }),
    interval: s.interval,
    intervalMs,
    file: s.file,
    format: s.format,
    rows: s.rows,
    firstTimeMs: t(s.first),
    lastTimeMs,
    endTimeMs: lastTimeMs + intervalMs,
    minLow: Object.freeze({ price: s.low[0], timeMs: t(s.low[1]) }),
    maxHigh: Object.freeze({ price: s.high[0], timeMs: t(s.high[1]) }),
    priceDecimals: s.decimals,
    missingCandles: s.missing,
    ...(s.notes === undefined ? {} : { notes: s.notes }),
  });
}

const DATASETS: ReadonlyMap<string, DatasetInfo> = new Map(SPECS.map((s) => [s.id, toInfo(s)]));

/** All shipped datasets: minute crash windows, hourly crash windows, daily history. */
export function listDatasets(filter: { asset?: 'BTC' | 'ETH'; interval?: DatasetInterval; kind?: DatasetInfo['kind'] } = {}): DatasetInfo[] {
  return [...DATASETS.values()].filter(
    (d) => (filter.asset === undefined || d.asset === filter.asset) && (filter.interval === undefined || d.interval === filter.interval) && (filter.kind === undefined || d.kind === filter.kind),
  );
}

export function getDatasetInfo(id: string): DatasetInfo {
  const info = DATASETS.get(id);
  if (info === undefined) throw new RangeError(`unknown dataset ${JSON.stringify(id)}; known: ${[...DATASETS.keys()].join(', ')}`);
  return info;
}

/** Absolute path of the dataset's CSV file (resolved relative to this module). */
export function datasetPath(id: string): string {
  return fileURLToPath(new URL(`./prices/${getDatasetInfo(id).file}`, import.meta.url));
}

export interface Dataset {
  readonly info: DatasetInfo;
  /** Candles, ascending by time, prices as exact decimal strings. */
  readonly points: PricePoint[];
}

/** Read and parse a shipped dataset (synchronous; the largest file parses in ~50 ms). */
export function loadDataset(id: string): Dataset {
  const info = getDatasetInfo(id);
  const text = readFileSync(datasetPath(id), 'utf8');
  const points = parsePriceCsv(text, { format: info.format, source: `sim/data/prices/${info.file}` });
  return { info, points };
}
