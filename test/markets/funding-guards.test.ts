import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { DEVNET_MARKETS, marketsAppState } from '../../chain/devnet/markets.js';
import { btc, depositMsg, eventsOf, place, pricesMsg, usd } from '../helpers/orders.js';
import { marketToProto } from '../../modules/perpetuals/index.js';
import { App } from '../../chain/app.js';

/**
 * Funding against manipulation and frozen markets, and the bounds on market and genesis numbers
 * (regressions from a review of the perpetuals module). BTC-USD: cap 1,250 ppm per interval, impact
 * notional $10,000; the interval here is 60 s and blocks are 1 s apart.
 */
const keys = testKeys(5, 'funding');
const [authority, feeder, alice, bob] = keys as [TestKey, TestKey, TestKey, TestKey];

function appState(extra: (s: Record<string, any>) => void = () => {}): Record<string, unknown> {
  const s = structuredClone(marketsAppState(authority.address, [feeder.address])) as Record<string, any>; // (a copy: tests edit it)
  s.perpetuals.params.funding_interval_seconds = '60';
  extra(s);
  return s;
}

async function setup(state = appState()): Promise<TestChain> {
  const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState: state });
  c.block();
  c.block(await Promise.all([alice, bob].map((k) => c.sign(k, [depositMsg(k.address, 1_000_000_000_000n)])))).txResults.forEach(expectOk);
  // a two-sided book around the $65,000 oracle, deep enough for the impact notional
  c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(64_990), size: btc(1) }), await place(c, alice, { clientId: 2, side: 'sell', price: usd(65_010), size: btc(1) })]).txResults.forEach(expectOk);
  return c;
}

/** Blocks (1 s) until the next funding tick; its perpetuals.funding event for BTC. */
async function untilTick(c: TestChain, each: (i: number) => Promise<Uint8Array[]> = async () => [], oracle = usd(65_000)): Promise<Record<string, string>> {
  for (let i = 0; i < 200; i++) {
    // the feeder reports every 20 s (staleness is 60 s)
    const feed = i % 20 === 0 ? [await c.sign(feeder, [pricesMsg(feeder.address, [[0, oracle]])])] : [];
    const r = c.block([...feed, ...(await each(i))]);
    r.txResults.forEach(expectOk);
    const f = eventsOf(r, 'perpetuals.funding').find((e) => e.market_id === '0');
    if (f) return f;
  }
  throw new Error('no funding tick in 200 blocks');
}

describe('funding', () => {
  it('one block with a far-off bid moves the interval\'s rate by at most cap / samples', async () => {
    // Regression: samples were not clamped, so a one-block bid of 0.00001 BTC at $1e9 made the mean premium
    // (and the rate) the cap for the whole interval: $81.25 per BTC short, for about $6 of fees.
    const c = await setup();
    await untilTick(c); // start of a fresh interval
    // the attack block: take the asks, then rest a one-block bid of 0.00001 BTC at $1e9 (= the $10,000 impact notional)
    const attack = async () => [
      await place(c, bob, { clientId: 9, side: 'buy', tif: 'ioc', price: usd(65_010), size: btc(1) }),
      await place(c, bob, { clientId: 10, side: 'buy', price: usd(1_000_000_000), size: btc(0.00001), gtb: c.app.height + 1n }),
    ];
    const f = await untilTick(c, async (i) => (i === 5 ? attack() : []));
    expect(BigInt(f.rate_ppm!)).toBeGreaterThan(0n);
    expect(BigInt(f.rate_ppm!)).toBeLessThanOrEqual(1250n / 50n); // one clamped sample among ≥ 50
  });

  it('a halted market accrues no funding, and its interval starts again when it resumes', async () => {
    const c = await setup();
    await untilTick(c);
    const m = c.app.keepers.perpetuals.market(c.app.state, 0)!;
    const status = async (s: 'halted' | 'active') =>
      expectOk(c.block([await c.sign(authority, [{ typeUrl: '/perpchain.perpetuals.v1.MsgUpdateMarket', value: { authority: authority.address, market: marketToProto({ ...m, status: s }) } }])]).txResults[0]!);
    await status('halted');
    // the oracle falls below the frozen bids: a premium every block, but no tick while halted
    c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(60_000)]])])]);
    for (let i = 0; i < 130; i++) {
      const r = c.block(i % 30 === 0 ? [await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(60_000 + (i % 2))]])])] : []);
      expect(eventsOf(r, 'perpetuals.funding').filter((e) => e.market_id === '0')).toEqual([]);
    }
    const index = () => c.queryJson<{ funding_index: string }>('perpetuals/market/0').funding_index;
    const frozen = index();
    c.block();
    expect(index()).toBe(frozen);
    await status('active');
    // funding resumes at the next interval boundary, from samples taken since the market resumed
    const f = await untilTick(c, undefined, usd(60_000));
    expect(BigInt(f.rate_ppm!)).toBeGreaterThan(0n); // the bids above the oracle: longs pay
    expect(index()).not.toBe(frozen);
  });

  it('refuses an unknown market status instead of storing it as active; CheckTx refuses a non-authority params change', async () => {
    const c = await setup();
    const m = c.app.keepers.perpetuals.market(c.app.state, 0)!;
    const bad = c.block([await c.sign(authority, [{ typeUrl: '/perpchain.perpetuals.v1.MsgUpdateMarket', value: { authority: authority.address, market: { ...marketToProto(m), status: 7 } } }])]).txResults[0]!;
    expect(`${bad.codespace}/${bad.code}`).toBe('perpetuals/4');
    expect(bad.log).toContain('status 7');
    const r = c.app.checkTx({ tx: await c.sign(bob, [{ typeUrl: '/perpchain.perpetuals.v1.MsgUpdateParams', value: { authority: bob.address, params: { authority: bob.address, fundingIntervalSeconds: 60 } } }]), type: 'new' });
    expect(`${r.codespace}/${r.code}`).toBe('perpetuals/5');
  });

  it('the impact price of a coarse-quantum market is the exact average of the levels walked', async () => {
    // Regression: the last level's base was rounded up to a whole quantum (0.01 BTC here), which put the
    // impact bid at $50,077 with the only bid at $64,900: a false premium of −23% every block.
    const coarse = { ...DEVNET_MARKETS[0]!, atomic_resolution: -2, step_size: '1', min_order_size: '1', impact_notional: '1000000000' };
    const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState: appState((s) => (s.perpetuals.markets = [coarse, DEVNET_MARKETS[1]])) });
    c.block();
    c.block([await c.sign(alice, [depositMsg(alice.address, 1_000_000_000_000n)])]).txResults.forEach(expectOk);
    // 0.02 BTC bid at $64,900 ($1,298) and 0.03 BTC ask at $65,100: a $1,000 walk stays inside one level each
    c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(64_900), size: 2n }), await place(c, alice, { clientId: 2, side: 'sell', price: usd(65_100), size: 3n })]).txResults.forEach(expectOk);
    expect(c.app.keepers.clob.impactPrices(c.app.state, 0, 1_000_000_000n, -2 - 5 + 6)).toEqual({ bid: usd(64_900), ask: usd(65_100) });
    c.block([await place(c, alice, { clientId: 3, side: 'buy', price: usd(64_800), size: 5n }), await place(c, alice, { clientId: 4, side: 'sell', price: usd(65_200), size: 5n })]).txResults.forEach(expectOk);
    const two = c.app.keepers.clob.impactPrices(c.app.state, 0, 1_800_000_000n, -2 - 5 + 6);
    // bid: $1,298 at $64,900 (0.02 BTC) + $502 at $64,800 (0.0077469… BTC): $1,800 / 0.0277469… = $64,872.08008…
    expect(two.bid).toBe(6_487_208_008n);
    expect(two.bid! < usd(64_900) && two.bid! > usd(64_800)).toBe(true);
    expect(two.ask).toBe(usd(65_100)); // $1,953 rest at $65,100: one level
  });
});

describe('genesis numbers', () => {
  it('refuses values that do not fit their field, and unknown fields, naming them', () => {
    const open = (s: Record<string, unknown>) => () =>
      App.open({}).initChain({ chainId: 'perpchain-test-1', timeNs: 1_767_225_600_000_000_000n, initialHeight: 1n, appStateBytes: Buffer.from(JSON.stringify(s)) });
    expect(open(appState((s) => (s.perpetuals.markets[0].tick_size = '18446744073709551616')))).toThrow(/tick_size/);
    expect(open(appState((s) => (s.perpetuals.markets[0].tick_size = '9007199254740993')))).toThrow(/tick_size must be in \[1, 2\^53 - 1\]/);
    expect(open(appState((s) => (s.auth = { params: { max_tx_bytes: '55340232221128654848' } })))).toThrow(/max_tx_bytes/);
    expect(open(appState((s) => (s.prices.params.staleness_seconds = '18446744073709551616')))).toThrow(/staleness_seconds/);
    expect(open(appState((s) => (s.clob = { params: { max_good_til_blocks: '18446744073709551615' } })))).toThrow(/max_good_til_blocks/);
    expect(open(appState((s) => (s.bank = { balance: [] })))).toThrow(/balance/);
    expect(open(appState((s) => (s.prices.params.staleness_second = '60')))).toThrow(/staleness_second/);
  });
});
