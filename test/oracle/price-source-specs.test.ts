/**
 * Validator price sources (chain/oracle/sources.ts), the input of ExtendVote: how a USD decimal becomes price
 * units, what a file: source reads and refuses, how a dataset: replay advances, and the http: source's
 * locality rule and max-age boundary. A validator that reports a wrong or stale price moves the median.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPriceSource, HTTP_SOURCE_MAX_AGE_MS, usdToUnits } from '../../chain/oracle/sources.js';
import { loadDataset, resample } from '../../sim/data/index.js';

/** BTC in 10^-5 USD units, ETH in 10^-6 USD units (two exponents, so a mixed-up exponent shows). */
const BTC = { id: 0, ticker: 'BTC-USD', priceExponent: -5 };
const ETH = { id: 1, ticker: 'ETH-USD', priceExponent: -6 };
const markets = [BTC, ETH];

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-price-specs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

describe('usdToUnits', () => {
  it('rounds to the nearest unit, a half to even', () => {
    expect(usdToUnits('0.000016', -5)).toBe(2n); // 1.6 units → 2 (not truncated to 1)
    expect(usdToUnits('0.000014', -5)).toBe(1n);
    expect(usdToUnits('0.000025', -5)).toBe(2n); // 2.5 → 2 (half to even)
    expect(usdToUnits('0.000035', -5)).toBe(4n); // 3.5 → 4
  });

  it('refuses zero, negative and non-numbers: a validator never reports a price of 0', () => {
    expect(() => usdToUnits('0', -5)).toThrow(/"0" is not a positive number/);
    expect(() => usdToUnits('-1', -5)).toThrow(/not a positive number/);
    expect(() => usdToUnits('Infinity', -5)).toThrow(/not a positive number/);
  });
});

describe('file: source', () => {
  it('reads markets by ticker or by id; a market the file does not name is skipped, the others still read', () => {
    const path = join(tmp, 'by-id.json');
    writeFileSync(path, JSON.stringify({ 'ETH-USD': '3000.25', 0: '65000.5' })); // BTC by id, ETH by ticker
    expect(createPriceSource(`file:${path}`, () => markets)()).toEqual([
      { marketId: 0, price: 6_500_050_000n },
      { marketId: 1, price: 3_000_250_000n },
    ]);
    const only = join(tmp, 'eth-only.json');
    writeFileSync(only, JSON.stringify({ 'ETH-USD': '3000' })); // BTC, the first market, is missing
    expect(createPriceSource(`file:${only}`, () => markets)()).toEqual([{ marketId: 1, price: 3_000_000_000n }]);
  });

  it('is re-read when the file changes', () => {
    const path = join(tmp, 'changing.json');
    writeFileSync(path, JSON.stringify({ 'BTC-USD': '65000' }));
    utimesSync(path, 1_000, 1_000);
    const source = createPriceSource(`file:${path}`, () => markets);
    expect(source()).toEqual([{ marketId: 0, price: 6_500_000_000n }]);
    writeFileSync(path, JSON.stringify({ 'BTC-USD': '64000' }));
    utimesSync(path, 2_000, 2_000); // a different mtime, whatever the file system's resolution
    expect(source()).toEqual([{ marketId: 0, price: 6_400_000_000n }]);
  });

  it('refuses a file that is not a JSON object, and a zero price in it', () => {
    const path = join(tmp, 'string.json');
    writeFileSync(path, JSON.stringify('65000'));
    expect(() => createPriceSource(`file:${path}`, () => markets)()).toThrow(/must be a JSON object/);
    const zero = join(tmp, 'zero.json');
    writeFileSync(zero, JSON.stringify({ 'BTC-USD': '0' }));
    expect(() => createPriceSource(`file:${zero}`, () => markets)()).toThrow(/not a positive number/);
  });
});

describe('dataset: source', () => {
  it('refuses a market that is not a number', () => {
    expect(() => createPriceSource('dataset:btc=btc-2022-11-08', () => markets)).toThrow(/"btc" is not a market id/);
  });

  it('advances one data-second per wall-second from start-up', () => {
    const t0 = 1_700_000_000_000;
    const now = vi.spyOn(Date, 'now').mockReturnValue(t0);
    const source = createPriceSource('dataset:0=btc-2022-11-08', () => markets);
    const ticks = resample(loadDataset('btc-2022-11-08').points, { blockMs: 1000, mode: 'linear-path', exponent: -5, rounding: 'half-even' });
    // the seconds used below must differ in price, or the checks could not tell one second from another
    expect(new Set([0, 1, 9, 10].map((i) => ticks[i]!.price)).size).toBe(4);
    const at = (ms: number) => {
      now.mockReturnValue(t0 + ms);
      return source()[0]!.price;
    };
    expect(at(0)).toBe(ticks[0]!.price);
    expect(at(999)).toBe(ticks[0]!.price);
    expect(at(1_000)).toBe(ticks[1]!.price);
    expect(at(10_500)).toBe(ticks[10]!.price);
  });
});

describe('http: source', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('refuses a URL that is not on this machine', () => {
    expect(() => createPriceSource('http://10.0.0.1:8080/prices', () => markets)).toThrow(/must be on this machine, got 10.0.0.1/);
  });

  it('reports the last good answer for exactly the max age, nothing a millisecond later', async () => {
    let status = 200;
    server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ 'BTC-USD': '65000' }));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    // the clock stands still, so the good answer is stamped at exactly t0
    const t0 = 1_700_000_000_000;
    const now = vi.spyOn(Date, 'now').mockReturnValue(t0);
    const logs: string[] = [];
    const source = createPriceSource(`http://127.0.0.1:${(server.address() as AddressInfo).port}/p`, () => markets, (l) => logs.push(l));
    await vi.waitFor(() => expect(source()).toHaveLength(1), { timeout: 3000 });
    status = 500;
    await vi.waitFor(() => expect(logs.some((l) => l.includes('HTTP 500'))).toBe(true), { timeout: 3000 });
    now.mockReturnValue(t0 + HTTP_SOURCE_MAX_AGE_MS);
    expect(source()).toEqual([{ marketId: 0, price: 6_500_000_000n }]);
    now.mockReturnValue(t0 + HTTP_SOURCE_MAX_AGE_MS + 1);
    expect(source()).toEqual([]);
  });

  it('says so again when the service fails a second time after answering again', async () => {
    let status = 200;
    server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ 'BTC-USD': '65000' }));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    let t = 1_700_000_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => t);
    const logs: string[] = [];
    const stale = () => logs.filter((l) => l.includes('reporting no prices')).length;
    const source = createPriceSource(`http://127.0.0.1:${(server.address() as AddressInfo).port}/p`, () => markets, (l) => logs.push(l));
    await vi.waitFor(() => expect(source()).toHaveLength(1), { timeout: 3000 });
    const outage = async () => {
      status = 500;
      const errors = logs.length;
      await vi.waitFor(() => expect(logs.length).toBeGreaterThan(errors), { timeout: 3000 });
      t += HTTP_SOURCE_MAX_AGE_MS + 1;
      expect(source()).toEqual([]);
    };
    await outage();
    expect(stale()).toBe(1);
    status = 200;
    await vi.waitFor(() => expect(source()).toHaveLength(1), { timeout: 3000 });
    expect(logs.some((l) => l.includes('answering again'))).toBe(true);
    await outage();
    expect(stale()).toBe(2);
  });
});
