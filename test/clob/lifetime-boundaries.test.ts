import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { btc, cancelMsg, depositMsg, eventsOf, place, placeResponses, pricesMsg, usd } from '../helpers/orders.js';
import { marketToProto } from '../../modules/perpetuals/index.js';
import type { ExecTxResult } from '../../chain/types.js';

/**
 * The exact edges of an order's lifetime, each tested on both sides (a mutation review could move any of them
 * by one without a test failing): when a closed order's client id may be used again, the first and last
 * accepted good-til-block / good-til-time, an order of exactly the minimum size, and a trigger reached
 * exactly. Devnet BTC-USD at $65,000 (price units of $0.00001, 10^10 quantums per BTC, min order = 1 step).
 */
const keys = testKeys(5, 'clob-lifetime');
const [authority, feeder, alice, bob, carol] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey];
const code = (r: ExecTxResult) => `${r.codespace}/${r.code}`;

/** Short windows so the edges are a few blocks away: ids kept 3 blocks, expiries at most 5 blocks / 100 s ahead. */
async function setup(): Promise<TestChain> {
  const clob = { params: { client_id_retention_blocks: '3', max_good_til_blocks: '5', max_good_til_seconds: '100' } };
  const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState: { ...marketsAppState(authority.address, [feeder.address]), clob } });
  c.block();
  const txs = [];
  for (const k of [alice, bob, carol]) txs.push(await c.sign(k, [depositMsg(k.address, 100_000_000_000n)])); // $100,000 each
  c.block(txs).txResults.forEach(expectOk);
  return c;
}

const bids = (c: TestChain) => c.queryJson<{ bids: Array<[string, string, number]> }>('clob/book/0').bids;
/** Time (s) of the next block: TestChain advances one second per block. */
const nextBlockTime = (c: TestChain) => (c.timeNs + 1_000_000_000n) / 1_000_000_000n;

describe('client id retention', () => {
  it('a closed order\'s client id is refused until exactly client_id_retention_blocks after the block that closed it', async () => {
    const c = await setup();
    expectOk(c.block([await place(c, alice, { clientId: 5, side: 'buy', price: usd(60_000), size: btc(0.01) })]).txResults[0]!);
    expectOk(c.block([await c.sign(alice, [cancelMsg(alice.address, { clientId: 5 })])]).txResults[0]!);
    const closedAt = c.app.height;
    c.block();
    // closedAt + 2: still reserved, and the error names the first height it may be used again
    const early = c.block([await place(c, alice, { clientId: 5, side: 'buy', price: usd(60_000), size: btc(0.01) })]).txResults[0]!;
    expect(c.app.height).toBe(closedAt + 2n);
    expect(code(early)).toBe('clob/6');
    expect(early.log).toContain(`reused from height ${closedAt + 3n}`);
    // closedAt + 3: released at the start of that block, so a new order may take it
    const onTime = c.block([await place(c, alice, { clientId: 5, side: 'buy', price: usd(60_000), size: btc(0.01) })]).txResults[0]!;
    expect(c.app.height).toBe(closedAt + 3n);
    expectOk(onTime);
    expect(bids(c)).toEqual([[usd(60_000).toString(), btc(0.01).toString(), 1]]);
  });
});

describe('expiry boundaries', () => {
  it('good_til_block may be the current block (it lives through it) up to max_good_til_blocks ahead, no further', async () => {
    const c = await setup();
    const h = c.app.height + 1n; // the block the orders run in
    const txs = [
      await place(c, alice, { clientId: 1, side: 'buy', price: usd(60_000), size: btc(0.01), gtb: h }),
      await place(c, alice, { clientId: 2, side: 'buy', price: usd(59_000), size: btc(0.01), gtb: h + 5n }),
      await place(c, alice, { clientId: 3, side: 'buy', price: usd(58_000), size: btc(0.01), gtb: h + 6n }),
      await place(c, alice, { clientId: 4, side: 'buy', price: usd(57_000), size: btc(0.01), gtb: h - 1n }),
    ];
    const r = c.block(txs).txResults;
    expect(r.map(code)).toEqual(['/0', '/0', 'clob/10', 'clob/10']);
    expect(bids(c).map((b) => b[0])).toEqual([usd(60_000).toString(), usd(59_000).toString()]);
    // the order good til h is removed at the start of h + 1; the one good til h + 5 at the start of h + 6
    expect(eventsOf(c.block(), 'clob.order_cancelled').map((e) => [e.client_id, e.reason])).toEqual([['1', 'expired']]);
    for (let i = 0; i < 4; i++) c.block();
    expect(bids(c).map((b) => b[0])).toEqual([usd(59_000).toString()]);
    expect(eventsOf(c.block(), 'clob.order_cancelled').map((e) => [e.client_id, e.reason])).toEqual([['2', 'expired']]);
  });

  it('good_til_time may be the current block time up to max_good_til_seconds ahead, no further', async () => {
    const c = await setup();
    const t = nextBlockTime(c);
    const txs = [
      await place(c, alice, { clientId: 1, side: 'buy', price: usd(60_000), size: btc(0.01), gtt: t }),
      await place(c, alice, { clientId: 2, side: 'buy', price: usd(59_000), size: btc(0.01), gtt: t + 100n }),
      await place(c, alice, { clientId: 3, side: 'buy', price: usd(58_000), size: btc(0.01), gtt: t + 101n }),
      await place(c, alice, { clientId: 4, side: 'buy', price: usd(57_000), size: btc(0.01), gtt: t - 1n }),
    ];
    const r = c.block(txs).txResults;
    expect(r.map(code)).toEqual(['/0', '/0', 'clob/10', 'clob/10']);
    expect(bids(c).length).toBe(2);
    // the next block (time t + 1 > t) removes the first; the second lives while block time ≤ t + 100
    expect(eventsOf(c.block(), 'clob.order_cancelled').map((e) => e.client_id)).toEqual(['1']);
    expect(eventsOf(c.block([], 99_000_000_000n), 'clob.order_cancelled')).toEqual([]); // time t + 100
    expect(eventsOf(c.block(), 'clob.order_cancelled').map((e) => e.client_id)).toEqual(['2']); // t + 101
  });
});

describe('size and trigger edges', () => {
  it('an order of exactly the market\'s min_order_size is accepted', async () => {
    const c = await setup();
    const min = BigInt(c.queryJson('perpetuals/market/0').min_order_size);
    expectOk(c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(60_000), size: min })]).txResults[0]!);
    expect(bids(c)).toEqual([[usd(60_000).toString(), min.toString(), 1]]);
  });

  it('a stop fires in the block the oracle reaches its trigger exactly (a stop buy at ≥, a stop sell at ≤), not one tick short', async () => {
    const c = await setup();
    // bob quotes both sides inside the 5% market-order bound of either trigger
    c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(66_100), size: btc(0.1) }), await place(c, bob, { clientId: 2, side: 'buy', price: usd(63_900), size: btc(0.1) })]).txResults.forEach(expectOk);
    c.block([
      await place(c, alice, { clientId: 1, side: 'buy', type: 'stop_market', size: btc(0.01), trigger: usd(66_000) }),
      await place(c, carol, { clientId: 1, side: 'sell', type: 'stop_market', size: btc(0.01), trigger: usd(64_000) }),
    ]).txResults.forEach(expectOk);
    const oracle = async (dollars: number) => c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(dollars)]])])]);
    expect(eventsOf(await oracle(65_999), 'clob.order_triggered')).toEqual([]);
    const up = await oracle(66_000);
    expect(eventsOf(up, 'clob.order_triggered').map((e) => e.owner)).toEqual([alice.address]);
    expect(eventsOf(up, 'clob.fill').map((f) => [f.taker_owner, f.price])).toEqual([[alice.address, usd(66_100).toString()]]);
    expect(eventsOf(await oracle(64_001), 'clob.order_triggered')).toEqual([]);
    const down = await oracle(64_000);
    expect(eventsOf(down, 'clob.order_triggered').map((e) => e.owner)).toEqual([carol.address]);
    expect(eventsOf(down, 'clob.fill').map((f) => [f.taker_owner, f.price])).toEqual([[carol.address, usd(63_900).toString()]]);
  });

  it('a reduce-only order larger than a position that is off the step grid is clipped to the grid below the position', async () => {
    const c = await setup();
    // alice goes long 3 steps (0.00003 BTC); then governance doubles the step: her position is now 1.5 steps
    c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.00003) })]).txResults.forEach(expectOk);
    c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(0.00003) })]).txResults.forEach(expectOk);
    const m = c.app.keepers.perpetuals.market(c.app.state, 0)!;
    const step = 2n * m.stepSize;
    const update = { typeUrl: '/perpchain.perpetuals.v1.MsgUpdateMarket', value: { authority: authority.address, market: marketToProto({ ...m, stepSize: step, minOrderSize: step }) } };
    expectOk(c.block([await c.sign(authority, [update])]).txResults[0]!);
    c.block([await place(c, carol, { clientId: 1, side: 'buy', price: usd(64_000), size: 10n * step })]).txResults.forEach(expectOk);
    const r = c.block([await place(c, alice, { clientId: 2, side: 'sell', price: usd(64_000), size: 2n * step, reduceOnly: true })]).txResults[0]!;
    expectOk(r);
    expect(eventsOf(r, 'clob.order_clipped')[0]).toMatchObject({ new_quantity: step.toString() });
    expect(placeResponses(r)[0]).toMatchObject({ status: 'filled', filled: step });
    expect(eventsOf(r, 'clob.fill').map((f) => f.size)).toEqual([step.toString()]);
  });
});
