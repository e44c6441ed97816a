import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPriceSource, HTTP_SOURCE_MAX_AGE_MS } from '../../chain/oracle/sources.js';
import { parsePricesGenesis } from '../../modules/prices/genesis.js';

/** Validator-local price sources (ExtendVote's input) and the prices genesis bounds. */
const markets = [{ id: 0, ticker: 'BTC-USD', priceExponent: -5 }];

describe('http price source', () => {
  let server: Server | undefined;
  afterEach(() => {
    vi.restoreAllMocks();
    server?.close();
  });

  it('reports the service\'s prices while it answers and nothing once it has been silent for the max age', async () => {
    // Regression: the last answer was reported forever after the service died, refreshing the on-chain price and
    // hiding the outage from the staleness rule.
    let status = 200;
    server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ 'BTC-USD': '65000.5' }));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const logs: string[] = [];
    const source = createPriceSource(`http://127.0.0.1:${(server.address() as AddressInfo).port}/prices`, () => markets, (l) => logs.push(l));
    await vi.waitFor(() => expect(source()).toEqual([{ marketId: 0, price: 6_500_050_000n }]), { timeout: 3000 });
    status = 503; // the service breaks: answers, but with an error
    const t = Date.now();
    await vi.waitFor(() => expect(logs.some((l) => l.includes('HTTP 503'))).toBe(true), { timeout: 3000 });
    expect(source()).toHaveLength(1); // within the max age the last good answer still counts
    vi.spyOn(Date, 'now').mockReturnValue(t + HTTP_SOURCE_MAX_AGE_MS + 1_000);
    expect(source()).toEqual([]);
    expect(logs.filter((l) => l.includes('reporting no prices')).length).toBe(1);
    source();
    expect(logs.filter((l) => l.includes('reporting no prices')).length).toBe(1); // said once, not every vote
  });
});

describe('prices genesis', () => {
  it('refuses a staleness that does not fit the stored 32-bit field instead of truncating it', () => {
    // Regression: 4294967296 was accepted and stored as 0 (every price stale after a second).
    expect(() => parsePricesGenesis({ params: { staleness_seconds: '4294967296' } })).toThrow(/staleness_seconds 4294967296 must be in \[1, 4,294,967,295\]/);
    expect(parsePricesGenesis({ params: { staleness_seconds: '4294967295' } }).params.stalenessSeconds).toBe(4_294_967_295n);
  });
});
