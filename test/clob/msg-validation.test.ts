import { describe, expect, it } from 'vitest';
import { perpchain } from '../../proto/gen/perpchain.js';
import { placeInput, validateClobParams } from '../../modules/clob/msgs.js';
import { DEFAULT_CLOB_PARAMS } from '../../modules/clob/types.js';
import { marketFromJson, validateMarket } from '../../modules/perpetuals/index.js';
import { DEVNET_MARKETS } from '../../chain/devnet/markets.js';
import { ChainError } from '../../chain/errors/index.js';
import { testKeys } from '../helpers/keys.js';
import { btc, placeMsg, usd, type OrderSpec } from '../helpers/orders.js';

/**
 * Stateless rules of the order and param messages (validateBasic: they fail before a tx costs anything, so a
 * trader sees them first): combinations of order type, time in force, trigger and expiry that make no sense
 * are refused rather than silently reinterpreted; a maker rebate may not exceed the taker fee that pays it;
 * a market's minimum order size lies on its step grid.
 */
const [trader] = testKeys(1, 'clob-msg-validation');
const owner = trader!.address;

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ChainError) return `${e.codespace}/${e.code}`;
    throw e;
  }
  return 'ok';
}
const place = (o: OrderSpec) => codeOf(() => placeInput(perpchain.clob.v1.MsgPlaceOrder.create(placeMsg(owner, o).value as never)));

describe('MsgPlaceOrder stateless checks', () => {
  it('a market order is immediate-or-cancel: unset or IOC is accepted, FOK and post-only are refused', () => {
    expect(place({ clientId: 1, side: 'buy', type: 'market', size: btc(0.1) })).toBe('ok');
    expect(place({ clientId: 1, side: 'buy', type: 'market', tif: 'ioc', size: btc(0.1) })).toBe('ok');
    expect(place({ clientId: 1, side: 'buy', type: 'market', tif: 'fok', size: btc(0.1) })).toBe('clob/2');
    expect(place({ clientId: 1, side: 'buy', type: 'market', tif: 'post_only', size: btc(0.1) })).toBe('clob/2');
    expect(place({ clientId: 1, side: 'sell', type: 'stop_market', tif: 'post_only', size: btc(0.1), trigger: usd(60_000) })).toBe('clob/2');
  });

  it('a stop or take-profit needs a positive trigger; any other order may not carry one', () => {
    expect(place({ clientId: 1, side: 'sell', type: 'stop_market', size: btc(0.1), trigger: usd(1) })).toBe('ok');
    expect(place({ clientId: 1, side: 'sell', type: 'stop_market', size: btc(0.1), trigger: 0n })).toBe('clob/2');
    expect(place({ clientId: 1, side: 'buy', type: 'take_profit_limit', price: usd(60_000), size: btc(0.1), trigger: 0n })).toBe('clob/2');
    expect(place({ clientId: 1, side: 'buy', price: usd(60_000), size: btc(0.1), trigger: usd(60_000) })).toBe('clob/2');
  });

  it('one expiry at most, and none on an order that never rests', () => {
    expect(place({ clientId: 1, side: 'buy', price: usd(60_000), size: btc(0.1), gtb: 10n })).toBe('ok');
    expect(place({ clientId: 1, side: 'buy', price: usd(60_000), size: btc(0.1), gtt: 10n })).toBe('ok');
    expect(place({ clientId: 1, side: 'buy', price: usd(60_000), size: btc(0.1), gtb: 10n, gtt: 10n })).toBe('clob/2');
    expect(place({ clientId: 1, side: 'buy', price: usd(60_000), size: btc(0.1), gtt: -1n })).toBe('clob/2');
    for (const tif of ['ioc', 'fok'] as const) {
      expect(place({ clientId: 1, side: 'buy', tif, price: usd(60_000), size: btc(0.1), gtb: 10n }), tif).toBe('clob/2');
      expect(place({ clientId: 1, side: 'buy', tif, price: usd(60_000), size: btc(0.1), gtt: 10n }), tif).toBe('clob/2');
    }
    expect(place({ clientId: 1, side: 'buy', type: 'market', size: btc(0.1), gtb: 10n })).toBe('clob/2');
  });
});

describe('params and market checks', () => {
  it('a maker rebate may equal the taker fee, not exceed it (the rebate is paid out of the same fill\'s taker fee)', () => {
    const with_ = (taker: bigint, maker: bigint) => codeOf(() => validateClobParams({ ...DEFAULT_CLOB_PARAMS, takerFeePpm: taker, makerFeePpm: maker }));
    expect(with_(500n, -500n)).toBe('ok');
    expect(with_(500n, -501n)).toBe('clob/17');
    expect(with_(0n, 0n)).toBe('ok');
    expect(with_(0n, -1n)).toBe('clob/17');
  });

  it('min_order_size must be a whole number of steps, at least one', () => {
    const btcUsd = marketFromJson({ ...DEVNET_MARKETS[0], step_size: '100000' } as never);
    const with_ = (min: bigint) => codeOf(() => validateMarket({ ...btcUsd, minOrderSize: min }));
    expect(with_(100_000n)).toBe('ok');
    expect(with_(300_000n)).toBe('ok');
    expect(with_(150_000n)).toBe('perpetuals/4');
    expect(with_(99_999n)).toBe('perpetuals/4');
    expect(with_(0n)).toBe('perpetuals/4');
  });
});
