import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { DEVNET_INITIAL_PRICES, DEVNET_MARKETS, marketsAppState } from '../../chain/devnet/markets.js';
import { btc, depositMsg, eventsOf, place, usd } from '../helpers/orders.js';
import type { ExecTxResult } from '../../chain/types.js';

/**
 * The placement margin rule at its exact edge: with the order (and the subaccount's other open orders on its
 * side) filled at its limit price and the taker fee paid, NC must still be ≥ IMR. Which orders count and which
 * need no check at all: untriggered conditional orders are checked when they fire, not before; reduce-only
 * orders are exempt, and so go through a market whose oracle price is stale; a post-only order rests, so it
 * needs an open-order tier like any resting order.
 *
 * Devnet BTC-USD, oracle $65,000, IMF 5%, taker fee 500 ppm. One BTC bought at the oracle price: quote
 * Q = $65,000 = 65,000,000,000 uusdc, IMR = 5% · Q = 3,250,000,000, fee ⌈Q · 500 / 10⁶⌉ = 32,500,000; the
 * position is worth what it cost, so NC after the fill = deposit − fee, and the least deposit that passes is
 * IMR + fee = 3,282,500,000 uusdc.
 */
const keys = testKeys(5, 'clob-placement-margin');
const [authority, feeder, alice, bob, carol] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey];
const code = (r: ExecTxResult) => `${r.codespace}/${r.code}`;
const EDGE = 3_282_500_000n;

function chain(clob: Record<string, unknown> = {}): TestChain {
  const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState: { ...marketsAppState(authority.address, [feeder.address]), clob } });
  c.block();
  return c;
}
async function deposit(c: TestChain, k: TestKey, amount: bigint) {
  expectOk(c.block([await c.sign(k, [depositMsg(k.address, amount)])]).txResults[0]!);
}

describe('placement margin edge', () => {
  it('a buy needing exactly IMR + taker fee is accepted; one uusdc less is refused with a shortfall of 1', async () => {
    const c = chain();
    await deposit(c, alice, EDGE - 1n);
    const short = c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(1) })]).txResults[0]!;
    expect(code(short)).toBe('clob/15');
    expect(short.log).toContain('shortfall 1)');
    await deposit(c, alice, 1n);
    expectOk(c.block([await place(c, alice, { clientId: 2, side: 'buy', price: usd(65_000), size: btc(1) })]).txResults[0]!);
  });

  it('a sell needing exactly IMR + taker fee is accepted like the buy (its quote is whole: nothing is rounded away)', async () => {
    // the check once took a sell's proceeds as ⌈q·p·k⌉ − 1, one uusdc less than settlement pays when q·p·k is whole
    const c = chain();
    await deposit(c, alice, EDGE - 1n);
    const short = c.block([await place(c, alice, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(1) })]).txResults[0]!;
    expect(code(short)).toBe('clob/15');
    expect(short.log).toContain('shortfall 1)');
    await deposit(c, alice, 1n);
    expectOk(c.block([await place(c, alice, { clientId: 2, side: 'sell', price: usd(65_000), size: btc(1) })]).txResults[0]!);
  });

  it('a fill that leaves NC exactly at IMR is made, for the taker and for the maker (maker fee = taker fee here)', async () => {
    // with a positive maker fee equal to the taker fee, either side of a 1 BTC fill at the oracle ends at deposit − fee
    const c = chain({ params: { maker_fee_ppm: '500' } });
    await deposit(c, alice, EDGE);
    await deposit(c, bob, EDGE);
    await deposit(c, carol, 100_000_000_000n);
    // taker: alice buys 1 BTC from carol's ask
    expectOk(c.block([await place(c, carol, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(1) })]).txResults[0]!);
    const taker = c.block([await place(c, alice, { clientId: 1, side: 'buy', tif: 'ioc', price: usd(65_000), size: btc(1) })]).txResults[0]!;
    expect(eventsOf(taker, 'clob.fill').map((f) => f.size)).toEqual([btc(1).toString()]);
    // maker: bob's resting bid is hit by carol
    expectOk(c.block([await place(c, bob, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(1) })]).txResults[0]!);
    const maker = c.block([await place(c, carol, { clientId: 2, side: 'sell', tif: 'ioc', price: usd(65_000), size: btc(1) })]).txResults[0]!;
    expect(eventsOf(maker, 'clob.order_cancelled')).toEqual([]);
    expect(eventsOf(maker, 'clob.fill').map((f) => f.size)).toEqual([btc(1).toString()]);
    for (const k of [alice, bob]) {
      const r = c.app.keepers.subaccounts.risk(c.app.state, c.app.keepers.subaccounts.get(c.app.state, { owner: k.address, number: 0 }));
      expect(r.nc).toBe(r.imr);
    }
  });

  it('open orders on the other side do not count against a new order', async () => {
    const c = chain();
    await deposit(c, alice, EDGE);
    // a 1 BTC ask at $70,000 fits easily (sold $5,000 above the oracle); counted as a second buy it would not
    expectOk(c.block([await place(c, alice, { clientId: 1, side: 'sell', price: usd(70_000), size: btc(1) })]).txResults[0]!);
    expectOk(c.block([await place(c, alice, { clientId: 2, side: 'buy', price: usd(65_000), size: btc(1) })]).txResults[0]!);
  });

  it('an untriggered stop order does not count against a new limit order (it is checked when it fires)', async () => {
    const c = chain();
    await deposit(c, alice, EDGE);
    // a stop-limit buy of 1 BTC far above the oracle: placed without a margin check, it waits for its trigger
    const stop = c.block([await place(c, alice, { clientId: 1, side: 'buy', type: 'stop_limit', price: usd(70_000), size: btc(1), trigger: usd(70_000) })]).txResults[0]!;
    expectOk(stop);
    // with the stop counted this buy would need another 3.5k of margin; uncounted it fits exactly
    expectOk(c.block([await place(c, alice, { clientId: 2, side: 'buy', price: usd(65_000), size: btc(1) })]).txResults[0]!);
  });
});

/**
 * A market whose quotes are not whole uusdc (tick and step 1 on BTC-USD's exponents, k = 10⁻⁹ uusdc per
 * quantum·unit): the check must round as settlement does, the buyer paying ⌈q·p·k⌉ and the seller receiving
 * ⌊q·p·k⌋, the fee on ⌈q·p·k⌉, a long valued ⌊q·oracle·k⌋ and a short −⌈q·oracle·k⌉, IMR ⌈q·oracle·k·5%⌉.
 */
describe('placement margin edge on a market with fractional quotes', () => {
  const ORACLE = 6_500_000_001n; // $65,000.00001
  const Q = 12_345_678_901n; // 1.2345678901 BTC
  const K = 1_000_000_000n;
  const ceil = (a: bigint, b: bigint) => (a + b - 1n) / b;
  const quote = Q * ORACLE; // q·p / k is not an integer
  const fee = (q: bigint) => ceil(q * 500n, 1_000_000n);
  const imr = ceil(quote * 50_000n, K * 1_000_000n);

  function fine(): TestChain {
    const base = marketsAppState(authority.address, [feeder.address]) as { prices: Record<string, unknown>; perpetuals: Record<string, unknown> };
    const market = { ...DEVNET_MARKETS[0], id: 2, ticker: 'FINE-USD', tick_size: '1', step_size: '1', min_order_size: '1' };
    const appState = {
      prices: { ...base.prices, prices: [...DEVNET_INITIAL_PRICES, { market_id: 2, price: ORACLE.toString() }] },
      perpetuals: { ...base.perpetuals, markets: [...DEVNET_MARKETS, market] },
    };
    const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState });
    c.block();
    return c;
  }

  it('a buy at the oracle price: the least deposit is IMR + ⌈q·p·k⌉ + fee − ⌊q·oracle·k⌋', async () => {
    expect(quote % K).not.toBe(0n);
    const edge = imr + ceil(quote, K) + fee(ceil(quote, K)) - quote / K;
    const c = fine();
    await deposit(c, alice, edge - 1n);
    const short = c.block([await place(c, alice, { clientId: 1, market: 2, side: 'buy', price: ORACLE, size: Q })]).txResults[0]!;
    expect(code(short)).toBe('clob/15');
    expect(short.log).toContain('shortfall 1)');
    await deposit(c, alice, 1n);
    expectOk(c.block([await place(c, alice, { clientId: 2, market: 2, side: 'buy', price: ORACLE, size: Q })]).txResults[0]!);
  });

  it('a sell at the oracle price: the least deposit is IMR − ⌊q·p·k⌋ + fee + ⌈q·oracle·k⌉', async () => {
    const edge = imr - quote / K + fee(ceil(quote, K)) + ceil(quote, K);
    const c = fine();
    await deposit(c, alice, edge - 1n);
    const short = c.block([await place(c, alice, { clientId: 1, market: 2, side: 'sell', price: ORACLE, size: Q })]).txResults[0]!;
    expect(code(short)).toBe('clob/15');
    expect(short.log).toContain('shortfall 1)');
    await deposit(c, alice, 1n);
    expectOk(c.block([await place(c, alice, { clientId: 2, market: 2, side: 'sell', price: ORACLE, size: Q })]).txResults[0]!);
  });
});

describe('orders that need no margin check, and post-only', () => {
  it('a reduce-only order goes through a market whose oracle price is stale; a risk-increasing one does not', async () => {
    const c = chain();
    await deposit(c, alice, 100_000_000_000n);
    await deposit(c, bob, 100_000_000_000n);
    expectOk(c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.1) })]).txResults[0]!);
    expectOk(c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(0.1) })]).txResults[0]!);
    for (let i = 0; i < 7; i++) c.block([], 10_000_000_000n); // 70 s without an oracle report: stale (threshold 60 s)
    expect(code(c.block([await place(c, alice, { clientId: 2, side: 'sell', price: usd(66_000), size: btc(0.05) })]).txResults[0]!)).toBe('clob/14');
    expectOk(c.block([await place(c, alice, { clientId: 3, side: 'sell', price: usd(66_000), size: btc(0.05), reduceOnly: true })]).txResults[0]!);
  });

  it('a resting reduce-only order does not count against a new order on its side', async () => {
    const c = chain();
    await deposit(c, alice, 5_000_000_000n);
    await deposit(c, bob, 100_000_000_000n);
    expectOk(c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(1) })]).txResults[0]!);
    expectOk(c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(1) })]).txResults[0]!); // long 1 BTC, NC $4,967.50
    // a reduce-only sell resting at $60,000 (exempt); counted as a sell it would cost $5,000 below the oracle
    expectOk(c.block([await place(c, alice, { clientId: 2, side: 'sell', price: usd(60_000), size: btc(1), reduceOnly: true })]).txResults[0]!);
    // a plain sell of 1 BTC at the oracle closes the position: NC ≈ $4,934 against no requirement
    expectOk(c.block([await place(c, alice, { clientId: 3, side: 'sell', price: usd(65_000), size: btc(1) })]).txResults[0]!);
  });

  it('a post-only order needs an open-order tier like any order that rests', async () => {
    const c = chain();
    await deposit(c, alice, 19_990_000n); // $19.99: below the first tier ($20 for 8 open orders)
    const r = c.block([await place(c, alice, { clientId: 1, side: 'buy', tif: 'post_only', price: usd(60_000), size: btc(0.00001) })]).txResults[0]!;
    expect(code(r)).toBe('clob/23');
  });
});
