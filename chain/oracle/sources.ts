/**
 * Validator-local price sources for ExtendVote (outside consensus: a
 * validator reports what its source says; the chain takes the stake-weighted
 * median). A source is a function returning the latest prices in each
 * market's integer price units.
 *
 *   file:PATH        JSON {"BTC-USD": "65000.5", "1": "3000.25"} (ticker or market id → USD decimal), re-read when it changes
 *   dataset:ID       a shipped historic dataset (sim/data), replayed one data-second per wall-second from start-up
 *   http://HOST/...  a URL on this machine returning the same JSON, polled every second; its prices are
 *                    dropped after 5 s without a good answer
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Decimal } from 'decimal.js';
import { loadDataset, resample } from '../../sim/data/index.js';

export interface MarketUnit {
  id: number;
  ticker: string;
  priceExponent: number;
}

/** How long an http source's last answer is reported after the service stops answering. */
export const HTTP_SOURCE_MAX_AGE_MS = 5_000;

export type PriceSource = () => Array<{ marketId: number; price: bigint }>;

/** "65000.5" USD → integer price units (p · 10^exponent USD), rounded to nearest. */
export function usdToUnits(usd: string, exponent: number): bigint {
  const d = new Decimal(usd);
  if (!d.isFinite() || d.lte(0)) throw new Error(`price "${usd}" is not a positive number`);
  return BigInt(d.times(new Decimal(10).pow(-exponent)).toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).toFixed(0));
}

function fromJson(json: unknown, markets: readonly MarketUnit[]): Array<{ marketId: number; price: bigint }> {
  if (typeof json !== 'object' || json === null) throw new Error('price source must be a JSON object');
  const out: Array<{ marketId: number; price: bigint }> = [];
  for (const m of markets) {
    const v = (json as Record<string, unknown>)[m.ticker] ?? (json as Record<string, unknown>)[String(m.id)];
    if (v === undefined) continue;
    out.push({ marketId: m.id, price: usdToUnits(String(v), m.priceExponent) });
  }
  return out;
}

export function createPriceSource(spec: string, markets: () => readonly MarketUnit[], log: (l: string) => void = () => {}): PriceSource {
  if (spec.startsWith('file:')) {
    const path = spec.slice(5);
    if (!existsSync(path)) log(`price source ${spec}: ${path} does not exist yet; this validator reports no prices until it does`);
    let mtime = -1;
    let cached: Array<{ marketId: number; price: bigint }> = [];
    return () => {
      const st = statSync(path);
      if (st.mtimeMs !== mtime) {
        cached = fromJson(JSON.parse(readFileSync(path, 'utf8')), markets());
        mtime = st.mtimeMs;
      }
      return cached;
    };
  }
  if (spec.startsWith('dataset:')) {
    const entries = spec.slice(8).split(',').map((entry) => {
      const [marketId, id] = entry.includes('=') ? (entry.split('=') as [string, string]) : ['0', entry];
      if (!/^\d+$/.test(marketId)) throw new Error(`dataset source: "${marketId}" is not a market id`);
      return { marketId: Number(marketId), points: loadDataset(id).points }; // an unknown dataset fails now
    });
    const started = Date.now();
    // The markets exist only once the chain has them (after InitChain, which CometBFT sends after this
    // process starts): resolved on first use, and again until every one is there.
    let series: Array<{ marketId: number; ticks: Array<{ price: bigint }> }> | undefined;
    return () => {
      if (!series) {
        const known = markets();
        const missing = entries.filter((e) => !known.some((m) => m.id === e.marketId));
        if (missing.length) throw new Error(`dataset source: the chain has no market ${missing.map((e) => e.marketId).join(', ')} (yet)`);
        series = entries.map((e) => {
          const m = known.find((x) => x.id === e.marketId)!;
          return { marketId: m.id, ticks: resample(e.points, { blockMs: 1000, mode: 'linear-path', exponent: m.priceExponent, rounding: 'half-even' }) };
        });
      }
      const i = Math.floor((Date.now() - started) / 1000);
      return series.map((s) => ({ marketId: s.marketId, price: s.ticks[i % s.ticks.length]!.price }));
    };
  }
  if (spec.startsWith('http://') || spec.startsWith('https://')) {
    const url = new URL(spec);
    if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname)) throw new Error(`price source URL must be on this machine, got ${url.hostname}`);
    let latest: Array<{ marketId: number; price: bigint }> = [];
    let latestAt = -Infinity;
    let reportedStale = false;
    const poll = async () => {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(900) });
        if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
        latest = fromJson(await res.json(), markets());
        latestAt = Date.now();
        if (reportedStale) log(`price source ${spec}: answering again`);
        reportedStale = false;
      } catch (e) {
        log(`price source ${spec}: ${(e as Error).message}`);
      }
    };
    void poll();
    setInterval(() => void poll(), 1000).unref();
    // A dead service must not keep reporting its last prices: that would refresh them on chain forever and hide
    // the outage from the staleness rule. After HTTP_SOURCE_MAX_AGE_MS without an answer this validator
    // reports nothing (the chain then uses the other validators' reports, or marks the market stale).
    return () => {
      if (Date.now() - latestAt <= HTTP_SOURCE_MAX_AGE_MS) return latest;
      if (!reportedStale && latestAt !== -Infinity) {
        log(`price source ${spec}: no good answer for ${HTTP_SOURCE_MAX_AGE_MS / 1000} s; reporting no prices until it answers`);
        reportedStale = true;
      }
      return [];
    };
  }
  throw new Error(`unknown price source "${spec}" (use file:PATH, dataset:MARKET=ID[,…] or http://127.0.0.1:PORT/path)`);
}
