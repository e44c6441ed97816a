import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { DEVNET_MARKETS, marketsAppState } from '../../chain/devnet/markets.js';
import { btc, depositMsg, place, placeResponses, pricesMsg, usd } from '../helpers/orders.js';
import { marketToProto, type Market } from '../../modules/perpetuals/index.js';
import type { ExecTxResult } from '../../chain/types.js';

/**
 * Market rules a trader or the authority meets, through signed txs in blocks (modules/perpetuals/README.md):
 * the open-interest maximum and the OI-scaled initial margin on a fill, a market's ticker and units fixed at
 * creation, tickers unique, and the prices params guarded by the authority. A mutation review could delete
 * each of these checks without a test failing. BTC-USD of the devnet at $65,000 (IMF 5%, MMF 3%).
 */
const keys = testKeys(6, 'market-limits');
const [authority, feeder, alice, bob, carol] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey];
const code = (r: ExecTxResult) => `${r.codespace}/${r.code}`;

/** The devnet markets with BTC-USD's fields replaced by `btcOver` (genesis JSON names). */
function chain(btcOver: Record<string, string> = {}): TestChain {
  const state = structuredClone(marketsAppState(authority.address, [feeder.address])) as Record<string, any>; // (a copy: edited)
  state.perpetuals.markets = [{ ...DEVNET_MARKETS[0], ...btcOver }, DEVNET_MARKETS[1]];
  const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState: state });
  c.block();
  return c;
}

const market0 = (c: TestChain) => c.queryJson<Record<string, string>>('perpetuals/market/0');

describe('open interest limits on a fill', () => {
  it('a fill that would push open interest over max_open_interest is cut to what fits', async () => {
    const c = chain({ max_open_interest: btc(0.5).toString() });
    c.block(await Promise.all([alice, bob].map((k) => c.sign(k, [depositMsg(k.address, 100_000_000_000n)])))).txResults.forEach(expectOk);
    expectOk(c.block([await place(c, alice, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(1) })]).txResults[0]!);
    const r = c.block([await place(c, bob, { clientId: 1, side: 'buy', tif: 'ioc', price: usd(65_000), size: btc(1) })]).txResults[0]!;
    expectOk(r);
    expect(placeResponses(r)[0]!.filled).toBe(btc(0.5));
    expect(market0(c).open_interest).toBe(btc(0.5).toString());
    // at the maximum, a buy that would open more long interest fills nothing
    const more = c.block([await place(c, bob, { clientId: 2, side: 'buy', tif: 'ioc', price: usd(65_000), size: btc(0.1) })]).txResults[0]!;
    expectOk(more);
    expect(placeResponses(more)[0]).toMatchObject({ status: 'cancelled', filled: 0n, reason: 'margin_or_open_interest_limit' });
    expect(market0(c).open_interest).toBe(btc(0.5).toString());
  });

  it('the initial margin fraction rises with the open interest a fill creates (OI caps $0 to $13,000)', async () => {
    // IMF_eff = 5% + ⌈95% · OI notional / $13,000⌉: 0.1 BTC ($6,500) → 52.5%, so $3,412.50 of initial margin,
    // where the base 5% needs $325; 0.01 BTC ($650) → 9.75%
    const c = chain({ oi_lower_cap: '0', oi_upper_cap: '13000000000' });
    c.block([await c.sign(alice, [depositMsg(alice.address, 100_000_000_000n)]), await c.sign(carol, [depositMsg(carol.address, 1_000_000_000n)])]).txResults.forEach(expectOk);
    expectOk(c.block([await place(c, alice, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(1) })]).txResults[0]!);
    expect(market0(c).effective_imf_ppm).toBe('50000');
    // carol ($1,000) cannot take 0.1 BTC: 52.5% of $6,500 is more than she has
    const big = c.block([await place(c, carol, { clientId: 1, side: 'buy', tif: 'ioc', price: usd(65_000), size: btc(0.1) })]).txResults[0]!;
    expectOk(big); // the tx succeeds; the order is cancelled unfilled
    expect(placeResponses(big)[0]).toMatchObject({ status: 'cancelled', filled: 0n, reason: 'margin_or_open_interest_limit' });
    expect(market0(c).open_interest).toBe('0');
    // 0.01 BTC fits: 9.75% of $650 = $63.38
    const small = c.block([await place(c, carol, { clientId: 2, side: 'buy', tif: 'ioc', price: usd(65_000), size: btc(0.01) })]).txResults[0]!;
    expectOk(small);
    expect(placeResponses(small)[0]!.filled).toBe(btc(0.01));
    expect(market0(c).effective_imf_ppm).toBe('97500');
  });
});

describe('market identity', () => {
  const update = (m: Market) => ({ typeUrl: '/perpchain.perpetuals.v1.MsgUpdateMarket', value: { authority: authority.address, market: marketToProto(m) } });

  it('MsgUpdateMarket cannot change the ticker, atomic_resolution or price_exponent (perpetuals/9); other fields it can', async () => {
    const c = chain();
    const m = c.app.keepers.perpetuals.market(c.app.state, 0);
    for (const changed of [{ ticker: 'XBT-USD' }, { atomicResolution: -9 }, { priceExponent: -4 }]) {
      const r = c.block([await c.sign(authority, [update({ ...m, ...changed })])]).txResults[0]!;
      expect(code(r), JSON.stringify(changed)).toBe('perpetuals/9');
    }
    expect(market0(c)).toMatchObject({ ticker: 'BTC-USD', atomic_resolution: -10, price_exponent: -5 });
    expectOk(c.block([await c.sign(authority, [update({ ...m, tickSize: 200_000n })])]).txResults[0]!);
    expect(market0(c).tick_size).toBe('200000');
  });

  it('MsgCreateMarket refuses a ticker already taken by another id (perpetuals/3)', async () => {
    const c = chain();
    const m = c.app.keepers.perpetuals.market(c.app.state, 0);
    const create = (ticker: string) => ({ typeUrl: '/perpchain.perpetuals.v1.MsgCreateMarket', value: { authority: authority.address, market: marketToProto({ ...m, id: 5, ticker }), initialPrice: 6_500_000_000 } });
    expect(code(c.block([await c.sign(authority, [create('BTC-USD')])]).txResults[0]!)).toBe('perpetuals/3');
    expectOk(c.block([await c.sign(authority, [create('BTC2-USD')])]).txResults[0]!);
    expect(c.queryJson<Array<{ ticker: string }>>('perpetuals/markets').map((x) => x.ticker)).toEqual(['BTC-USD', 'ETH-USD', 'BTC2-USD']);
  });
});

describe('authority and feeder checks', () => {
  it('a perpetuals params change by anyone but the authority fails in the block too (perpetuals/5), not only in CheckTx', async () => {
    // a proposer may include a tx its mempool never saw: the block must refuse it on its own
    const c = chain();
    const msg = { typeUrl: '/perpchain.perpetuals.v1.MsgUpdateParams', value: { authority: bob.address, params: { authority: bob.address, fundingIntervalSeconds: 60 } } };
    expect(code(c.block([await c.sign(bob, [msg])]).txResults[0]!)).toBe('perpetuals/5');
    expect(c.queryJson('perpetuals/params')).toEqual({ authority: authority.address, funding_interval_seconds: '3600' });
  });

  it('the authority cannot set a funding interval outside [1 s, 7 days] (perpetuals/8): 0 would divide by zero at every end block', async () => {
    const c = chain();
    const msg = (s: number) => ({ typeUrl: '/perpchain.perpetuals.v1.MsgUpdateParams', value: { authority: authority.address, params: { authority: authority.address, fundingIntervalSeconds: s } } });
    for (const s of [0, 604_801]) expect(code(c.block([await c.sign(authority, [msg(s)])]).txResults[0]!)).toBe('perpetuals/8');
    expect(c.queryJson<{ funding_interval_seconds: string }>('perpetuals/params').funding_interval_seconds).toBe('3600');
    expectOk(c.block([await c.sign(authority, [msg(604_800)])]).txResults[0]!);
    expect(c.queryJson<{ funding_interval_seconds: string }>('perpetuals/params').funding_interval_seconds).toBe('604800');
  });

  it('CheckTx refuses a price report from an address that is not a feeder (prices/3) before it costs a fee', async () => {
    const c = chain();
    const r = c.app.checkTx({ tx: await c.sign(bob, [pricesMsg(bob.address, [[0, usd(70_000)]])]), type: 'new' });
    expect(code(r)).toBe('prices/3');
  });
});

describe('price reports', () => {
  it('a feeder\'s message carries 1 to 256 reports: none, or 257, is malformed (prices/4), not a no-op or an unknown market', async () => {
    const c = chain();
    const none = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [])])]).txResults[0]!;
    expect(code(none), none.log).toBe('prices/4');
    expect(none.log).toContain('no prices');
    const many = c.block([await c.sign(feeder, [pricesMsg(feeder.address, Array.from({ length: 257 }, (_, i): [number, bigint] => [i, usd(65_000)]))])]).txResults[0]!;
    expect(code(many), many.log).toBe('prices/4');
    expect(many.log).toContain('at most 256');
  });
});

describe('prices params', () => {
  it('only the perpetuals authority can change them, in the block (prices/9)', async () => {
    const c = chain();
    const msg = (signer: string) => ({ typeUrl: '/perpchain.prices.v1.MsgUpdateParams', value: { authority: signer, params: { feeders: [bob.address], minChangePpm: 10, maxMovePpm: 100_000, stalenessSeconds: 60 } } });
    expect(code(c.block([await c.sign(bob, [msg(bob.address)])]).txResults[0]!)).toBe('prices/9');
    expect(c.queryJson<{ feeders: string[] }>('prices/params').feeders).toEqual([feeder.address]);
    expectOk(c.block([await c.sign(authority, [msg(authority.address)])]).txResults[0]!);
    expect(c.queryJson<{ feeders: string[] }>('prices/params').feeders).toEqual([bob.address]);
  });
});
