/**
 * SVG charts for the simulator's HTML report (floats are fine here: plotting is at the
 * edge, outside consensus). Every function returns a complete, self-contained <svg>
 * string (no scripts, external fonts, stylesheets or ids) that can be inlined in an
 * HTML page or written to a .svg file; same input → byte-identical output.
 */
export {
  bandChart,
  barChart,
  groupedBarChart,
  heatmapChart,
  lineChart,
  sequentialColor,
  type BandChartOptions,
  type BarChartOptions,
  type BarSeries,
  type ChartOptions,
  type GroupedBarChartOptions,
  type HeatmapChartOptions,
  type LineChartOptions,
  type LineSeries,
  type Values,
} from './charts.js';
export { bucketByTime, DEFAULT_PERCENTILES, m4Indices, percentiles, quantileBands, quantileSorted, type QuantileBand } from './stats.js';
export { formatFixed, formatNumber, linearTicks, timeTicks, type Tick } from './scale.js';
export { escapeXml, PALETTE } from './svg.js';
