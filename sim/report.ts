/**
 * The self-contained HTML report of a run (and of a sweep): inline CSS and
 * inline SVG charts from sim/plot, no script, no external font, image or
 * stylesheet, so it opens offline from a file or an e-mail attachment.
 */
import type { SimConfig } from './config.js';
import type { MarketSpec } from './market.js';
import type { Metrics, Summary } from './metrics.js';
import { bandChart, barChart, escapeXml, groupedBarChart, heatmapChart, lineChart, quantileBands } from './plot/index.js';

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
p.lead{color:#555;margin:4px 0 16px}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px;margin:16px 0}
.kpi{border:1px solid #e3e3e3;border-radius:6px;padding:8px 10px;background:#fafafa}
.kpi b{display:block;font-size:18px;margin-top:2px}.kpi span{color:#666;font-size:12px}
figure{margin:8px 0 16px}figure svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}
pre{background:#f6f6f6;padding:10px;overflow:auto;font-size:12px;max-height:480px}
code{font-size:12px}.hash{word-break:break-all}
`;

const money = (s: string): string => {
  const v = Number(s);
  const a = Math.abs(v);
  const f = a >= 1e9 ? `${(v / 1e9).toFixed(2)}B` : a >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : a >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : v.toFixed(2);
  return `$${f}`;
};

function kpi(label: string, value: string, note = ''): string {
  return `<div class="kpi"><span>${escapeXml(label)}</span><b>${escapeXml(value)}</b>${note ? `<span>${escapeXml(note)}</span>` : ''}</div>`;
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8"/>\n<meta name="viewport" content="width=device-width, initial-scale=1"/>\n<title>${escapeXml(title)}</title>\n<style>${CSS}</style>\n</head>\n<body>\n${body}\n</body>\n</html>\n`;
}

function fig(svg: string, caption?: string): string {
  return `<figure>${svg}${caption ? `<figcaption>${escapeXml(caption)}</figcaption>` : ''}</figure>`;
}

/** Scenario blocks only (the warm-up is omitted from the charts). */
function scenarioRange(m: Metrics): [number, number] {
  const sb = m.cols.sblock;
  let i = 0;
  while (i < sb.length && sb[i]! < 0) i++;
  return [i, sb.length];
}

function slice<T>(a: ArrayLike<T>, lo: number, hi: number): T[] {
  return Array.prototype.slice.call(a, lo, hi) as T[];
}

export function runReport(o: { config: SimConfig; summary: Summary; metrics: Metrics; specs: readonly MarketSpec[]; perf?: string }): string {
  const { config: c, summary: s, metrics: m, specs } = o;
  const [lo, hi] = scenarioRange(m);
  const x = slice(m.cols.timeMs, lo, hi);
  const markers = c.oracle.spikes.filter((sp) => sp.block < x.length).map((sp) => ({ x: x[sp.block]!, label: `spike feeder ${sp.feeder} ${(sp.movePpm / 1e4).toFixed(1)}%` }));
  const common = { xType: 'time' as const, x, markers };
  const parts: string[] = [];
  parts.push(`<h1>${escapeXml(c.name)}</h1>`);
  if (c.description) parts.push(`<p class="lead">${escapeXml(c.description)}</p>`);
  parts.push(
    `<p class="lead">${escapeXml(s.time.start)} → ${escapeXml(s.time.end)} · ${s.blocks.scenario.toLocaleString('en-US')} blocks of ${c.blockMs} ms after ${s.blocks.warmup} warm-up blocks · seed ${s.seed} · ${Object.entries(s.accounts)
      .filter(([k]) => !k.startsWith('margin_'))
      .map(([k, v]) => `${v} ${k.replace(/_/g, ' ')}`)
      .join(', ')}</p>`,
  );
  const w = s.warmup;
  parts.push(
    `<p class="lead">The figures below are the scenario's. Before it, the warm-up: ${w.txs.toLocaleString('en-US')} txs, ${w.fills.toLocaleString('en-US')} fills (${money(w.volume_usd)}), ${w.liquidations.toLocaleString('en-US')} liquidations, ${w.adl_fills.toLocaleString('en-US')} ADL fills.</p>`,
  );
  const sl = s.liquidations.slippage_vs_oracle_bps;
  parts.push(
    '<div class="kpis">' +
      [
        kpi('Liquidations', `${s.liquidations.count.toLocaleString('en-US')}`, `${money(s.liquidations.notional_usd)} notional`),
        kpi('Liquidation slippage vs oracle', `${sl.notional_weighted_mean} bps`, `median ${sl.median}, p95 ${sl.p95}, max ${sl.max} bps`),
        kpi('Insurance fund', `${money(s.insurance_fund.start_usd)} → ${money(s.insurance_fund.end_usd)}`, `min ${money(s.insurance_fund.min_usd)}; largest fall ${money(s.insurance_fund.max_drawdown_usd)} (−${s.insurance_fund.max_drawdown_pct}% from its peak)`),
        kpi(
          'ADL',
          `${s.adl.fills} fills`,
          `${money(s.adl.notional_usd)}, ${s.adl.at_oracle} at oracle${Object.keys(s.adl.counterparties_by_kind).length ? `; counterparties: ${Object.entries(s.adl.counterparties_by_kind).map(([k, v]) => `${k.replace('_', ' ')} ${v}`).join(', ')}` : ''}`,
        ),
        kpi('Bad debt', money(s.bad_debt.total_usd), `written off in ${s.bad_debt.events} events; ${money(s.bad_debt.outstanding_usd)} outstanding at the end (${money(s.bad_debt.repaid_usd)} repaid by the fund)`),
        kpi('Funding paid', money(s.funding.paid_usd), `${s.funding.ticks} ticks`),
        ...Object.entries(s.markets).map(([t, v]) => kpi(`Peak OI ${t}`, v.peak_open_interest ? money(v.peak_open_interest.notional_usd) : '—', v.peak_open_interest ? `${v.peak_open_interest.base} base` : '')),
        kpi('Volume', money(s.trading.volume_usd), `${s.trading.fills.toLocaleString('en-US')} fills`),
        kpi('Txs', s.txs.total.toLocaleString('en-US'), `${s.txs.failed.toLocaleString('en-US')} failed`),
        kpi('Oracle', `${s.oracle.updates} updates`, `${s.oracle.clamped} clamped by max-move`),
      ].join('') +
      '</div>',
  );
  parts.push(`<p>Final height ${s.final.height}, app hash <code class="hash">${s.final.app_hash}</code></p>`);

  parts.push('<h2>Price and oracle</h2>');
  for (const spec of specs) {
    const mc = m.cols.markets.get(spec.id)!;
    parts.push(
      fig(
        lineChart({
          ...common,
          title: `${spec.ticker}: reference price, on-chain oracle, best bid/ask`,
          subtitle: `reference = the historic series fed to ${c.oracle.feeders} feeder(s); oracle = the chain's median after the max-move guard`,
          yLabel: 'USD',
          series: [
            { name: 'best bid', values: slice(mc.bestBid, lo, hi), color: '#59a14f', width: 1 },
            { name: 'best ask', values: slice(mc.bestAsk, lo, hi), color: '#e15759', width: 1 },
            { name: 'reference', values: slice(mc.reference, lo, hi), color: '#bbbbbb', width: 3 },
            { name: 'oracle', values: slice(mc.oracle, lo, hi), color: '#4e79a7', width: 1.5 },
          ],
        }),
      ),
    );
  }

  parts.push('<h2>Insurance fund</h2>');
  parts.push(
    fig(
      lineChart({
        ...common,
        title: 'Insurance fund balance',
        subtitle: 'liquidation fees in; payouts for fills past the bankruptcy price, for negative accounts and for repaying bad debt out',
        yLabel: 'USD',
        series: [{ name: 'insurance fund', values: slice(m.cols.insuranceFundUsd, lo, hi), area: true, color: '#4e79a7' }],
      }),
    ),
  );

  parts.push('<h2>Open interest</h2>');
  parts.push(
    fig(
      lineChart({
        ...common,
        title: 'Open interest (one side) at the oracle price',
        yLabel: 'USD',
        includeZero: true,
        series: specs.map((spec) => ({ name: spec.ticker, values: slice(m.cols.markets.get(spec.id)!.oiUsd, lo, hi) })),
      }),
    ),
  );

  parts.push('<h2>Liquidations per block</h2>');
  parts.push(
    fig(
      barChart({
        ...common,
        title: 'Liquidation steps and ADL fills per block',
        subtitle: 'many blocks per pixel column: the largest block of the column is shown',
        yLabel: 'count',
        series: [
          { name: 'liquidation steps', values: slice(m.cols.liquidations, lo, hi), color: '#e15759' },
          { name: 'ADL fills', values: slice(m.cols.adlFills, lo, hi), color: '#f28e2b' },
        ],
      }),
    ),
  );
  parts.push(
    fig(
      barChart({
        ...common,
        title: 'Liquidated notional per block',
        yLabel: 'USD',
        series: [
          { name: 'through the book', values: slice(m.cols.liquidatedUsd, lo, hi), color: '#e15759' },
          { name: 'ADL', values: slice(m.cols.adlUsd, lo, hi), color: '#f28e2b' },
        ],
      }),
    ),
  );

  parts.push('<h2>Margin ratios</h2>');
  const samples = m.margin.filter((x) => x.ratios.length > 0);
  if (samples.length >= 2) {
    const sx = samples.map((x) => x.timeMs);
    parts.push(
      fig(
        bandChart({
          xType: 'time',
          x: sx,
          markers,
          title: 'Distribution of margin ratios (NC / MMR) of accounts with positions',
          subtitle: `bands p5–p95, p25–p75, median; below 1 the account is liquidatable; values above ${c.report.marginRatioCap} shown at ${c.report.marginRatioCap}`,
          yLabel: 'NC / MMR',
          bands: quantileBands(samples.map((x) => x.ratios)),
          hlines: [{ y: 1, label: 'liquidation' }],
          includeZero: true,
        }),
      ),
    );
    parts.push(
      fig(
        heatmapChart({
          xType: 'time',
          x: sx,
          markers,
          title: 'Margin ratio histogram over time',
          subtitle: 'share of accounts per bin (column-normalised)',
          yLabel: 'NC / MMR',
          samples: samples.map((x) => x.ratios),
          bins: 40,
          hlines: [{ y: 1, label: 'liquidation' }],
        }),
      ),
    );
    parts.push(
      fig(
        lineChart({
          xType: 'time',
          x: sx,
          markers,
          title: 'Accounts below maintenance (NC < MMR) at each sample',
          yLabel: 'accounts',
          includeZero: true,
          series: [{ name: 'liquidatable', values: samples.map((x) => x.below1), color: '#e15759' }],
        }),
      ),
    );
  } else parts.push('<p>No account held a position at the sampled blocks.</p>');

  parts.push('<h2>Bad debt</h2>');
  parts.push(
    fig(
      lineChart({
        ...common,
        title: 'Bad debt (cumulative)',
        subtitle: 'losses neither the book, the insurance fund nor ADL covered',
        yLabel: 'USD',
        includeZero: true,
        series: [{ name: 'bad debt', values: slice(m.cols.badDebtUsd, lo, hi), area: true, color: '#e15759' }],
      }),
    ),
  );

  parts.push('<h2>Funding</h2>');
  parts.push(
    fig(
      lineChart({
        ...common,
        title: 'Funding transferred between longs and shorts (cumulative)',
        yLabel: 'USD',
        includeZero: true,
        series: [{ name: 'funding paid', values: slice(m.cols.fundingPaidUsd, lo, hi), color: '#76b7b2' }],
      }),
    ),
  );

  if (Object.keys(s.txs.failed_by_reason).length) {
    parts.push('<h2>Failed transactions</h2><table><tr><th class="l">reason</th><th>txs</th></tr>');
    for (const [k, v] of Object.entries(s.txs.failed_by_reason)) parts.push(`<tr><td class="l">${escapeXml(k)}</td><td>${v}</td></tr>`);
    parts.push('</table>');
  }
  if (o.perf) parts.push(`<h2>Run</h2><p>${escapeXml(o.perf)}</p>`);
  parts.push(`<h2>Summary</h2><pre>${escapeXml(JSON.stringify(s, null, 2))}</pre>`);
  parts.push(`<h2>Configuration</h2><pre>${escapeXml(JSON.stringify(c, null, 2))}</pre>`);
  return page(`perpchain risk simulation: ${c.name}`, parts.join('\n'));
}

export interface SweepRow {
  label: string;
  values: Record<string, unknown>;
  summary: Summary;
  /** Insurance fund per scenario block (USD), for the overlay chart. */
  insurance: { x: number[]; values: number[] };
  dir: string;
}

export function sweepReport(o: { base: SimConfig; axes: Record<string, readonly unknown[]>; rows: readonly SweepRow[] }): string {
  const { base, axes, rows } = o;
  const names = Object.keys(axes);
  const parts: string[] = [];
  parts.push(`<h1>${escapeXml(base.name)}: parameter sweep</h1>`);
  if (base.description) parts.push(`<p class="lead">${escapeXml(base.description)}</p>`);
  parts.push(`<p class="lead">${rows.length} runs over ${names.map((n) => `<code>${escapeXml(n)}</code> ∈ {${axes[n]!.map((v) => escapeXml(String(v))).join(', ')}}`).join(' × ')}; same seed and agents in every run.</p>`);
  parts.push('<h2>Comparison</h2><table><tr>');
  for (const n of names) parts.push(`<th class="l">${escapeXml(n.split('.').pop()!)}</th>`);
  parts.push('<th>bad debt</th><th>IF start</th><th>IF min</th><th>IF drawdown</th><th>IF end</th><th>liquidations</th><th>liq. notional</th><th>slippage bps</th><th>ADL fills</th><th>ADL notional</th><th>app hash</th></tr>');
  for (const r of rows) {
    const s = r.summary;
    parts.push('<tr>');
    for (const n of names) parts.push(`<td class="l">${escapeXml(String(r.values[n]))}</td>`);
    parts.push(
      `<td>${money(s.bad_debt.total_usd)}</td><td>${money(s.insurance_fund.start_usd)}</td><td>${money(s.insurance_fund.min_usd)}</td><td>${money(s.insurance_fund.max_drawdown_usd)} (${s.insurance_fund.max_drawdown_pct}%)</td><td>${money(s.insurance_fund.end_usd)}</td><td>${s.liquidations.count}</td><td>${money(s.liquidations.notional_usd)}</td><td>${s.liquidations.slippage_vs_oracle_bps.notional_weighted_mean}</td><td>${s.adl.fills}</td><td>${money(s.adl.notional_usd)}</td><td class="l"><code>${s.final.app_hash.slice(0, 12)}…</code></td>`,
    );
    parts.push('</tr>');
  }
  parts.push('</table>');
  // short category labels (values only); the axis names go in the subtitle
  const cats = rows.map((r) => names.map((n) => String(r.values[n])).join(' / '));
  const axisNames = names.map((n) => n.split('.').pop()!).join(' / ');
  parts.push(
    fig(
      groupedBarChart({
        title: 'Bad debt and insurance-fund drawdown per grid point',
        subtitle: axisNames,
        yLabel: 'USD',
        categories: cats,
        series: [
          { name: 'bad debt', values: rows.map((r) => Number(r.summary.bad_debt.total_usd)), color: '#e15759' },
          { name: 'insurance fund drawdown', values: rows.map((r) => Number(r.summary.insurance_fund.max_drawdown_usd)), color: '#4e79a7' },
        ],
        height: 380,
      }),
    ),
  );
  parts.push(
    fig(
      groupedBarChart({
        title: 'Liquidations and ADL per grid point',
        subtitle: axisNames,
        yLabel: 'count',
        categories: cats,
        series: [
          { name: 'liquidation steps', values: rows.map((r) => r.summary.liquidations.count), color: '#f28e2b' },
          { name: 'ADL fills', values: rows.map((r) => r.summary.adl.fills), color: '#76b7b2' },
        ],
        height: 380,
      }),
    ),
  );
  const shown = rows.slice(0, 12);
  if (shown.length && shown.every((r) => r.insurance.x.length > 1)) {
    parts.push(
      fig(
        lineChart({
          xType: 'time',
          title: 'Insurance fund over time per grid point',
          subtitle: rows.length > shown.length ? `first ${shown.length} of ${rows.length} grid points` : undefined,
          yLabel: 'USD',
          series: shown.map((r) => ({ name: r.label, values: r.insurance.values, x: r.insurance.x })),
        }),
      ),
    );
  }
  parts.push('<h2>Runs</h2><ul>');
  for (const r of rows) parts.push(`<li>${escapeXml(r.label)}: <code>${escapeXml(r.dir)}</code></li>`);
  parts.push('</ul>');
  parts.push(`<h2>Base configuration</h2><pre>${escapeXml(JSON.stringify(base, null, 2))}</pre>`);
  return page(`perpchain parameter sweep: ${base.name}`, parts.join('\n'));
}
