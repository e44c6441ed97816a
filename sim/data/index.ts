/**
 * Historic price data for the devnet price feeder and the risk simulator.
 *
 *   import { loadDataset, resample } from '../sim/data/index.js';
 *   const { info, points } = loadDataset('btc-2020-03-12');           // 1m candles, decimal strings
 *   // one bigint price per 1 s block, in the devnet BTC-USD unit (price_exponent −5: p·10^-5 USD)
 *   const ticks = resample(points, { blockMs: 1000, mode: 'linear-path', exponent: -5 });
 *
 * Files and provenance: sim/data/prices/ and sim/data/prices/SOURCES.md.
 */
export {
  compareDecimal,
  floorDiv,
  fractionDigits,
  fromPriceUnits,
  isDecimalString,
  maxDecimal,
  minDecimal,
  toPriceUnits,
  type Rounding,
} from './decimal.js';
export {
  PriceCsvError,
  detectPriceCsvFormat,
  inferCandleMs,
  parsePriceCsv,
  type ParsePriceCsvOptions,
  type PriceCsvFormat,
  type PricePoint,
} from './csv.js';
export {
  candlePath,
  firstExtreme,
  iterateResampled,
  resample,
  toUnitCandles,
  type PriceTick,
  type ResampleMode,
  type ResampleOptions,
  type UnitCandle,
} from './resample.js';
export {
  datasetPath,
  getDatasetInfo,
  listDatasets,
  loadDataset,
  type Dataset,
  type DatasetInfo,
  type DatasetInterval,
} from './datasets.js';
