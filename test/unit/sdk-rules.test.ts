/**
 * Rules of the trader SDK (client/) that a trader relies on and the wire
 * tests (test/api/client-units.test.ts, limits-units.test.ts) do not pin:
 * the edges of the unit conversions and field ranges (largest uint64, largest
 * uint32 client id, expiry rounding), which order types need which prices,
 * the checksum's exact depth, a snapshot verified like a delta, a reset book
 * waiting for a snapshot, the sequence tracker's lock and retry view, and the
 * typed chain errors. Pure functions only: no node, no App.
 */
import { describe, expect, it } from 'vitest';
import Long from 'long';
import { bookChecksum, type WireLevel } from '../../client/checksum.js';
import { BookIntegrityError, LocalOrderBook } from '../../client/book.js';
import { marketSpec, microToUsdc, priceToUnits, sizeToQuantums, usdcToMicro, UnitsError, type MarketSpec } from '../../client/units.js';
import { amendOrderMsg, cancelOrderMsg, placeOrderMsg, type PlaceOrderParams } from '../../client/orders.js';
import { parseSequenceMismatch, SequenceTracker } from '../../client/sequence.js';
import { ChainErrorResult } from '../../client/errors.js';
import { feeFor } from '../../client/signing.js';

/** The devnet BTC-USD market: tick $1, step 0.00001 BTC = minimum size. */
const BTC = marketSpec({ id: 0, ticker: 'BTC-USD', atomic_resolution: -10, price_exponent: -5, tick_size: '100000', step_size: '100000', min_order_size: '100000' });
/** A market whose human units are the chain's integers (tick, step 1; minimum 10), so uint64 edges are easy to write. */
const RAW: MarketSpec = { id: 7, ticker: 'RAW', atomicResolution: 0, priceExponent: 0, tickSize: 1n, stepSize: 1n, minOrderSize: 10n };

const U64_MAX = (1n << 64n) - 1n;
const base: PlaceOrderParams & { clientId: number } = { clientId: 1, market: 'BTC-USD', side: 'buy', price: '20000', size: '0.01' };
const place = (p: Partial<PlaceOrderParams> & { clientId?: number }, m: MarketSpec = BTC) => placeOrderMsg('perp1owner', 0, m, { ...base, ...p } as PlaceOrderParams & { clientId: number });
const field = (msg: { value: unknown }, name: string) => (msg.value as Record<string, unknown>)[name];

describe('units: what is refused and what is not rounded', () => {
  it('refuses a price or size with a fraction of the chain unit, even when the rest is on the grid (no silent truncation)', () => {
    // 65000.000001 USD = 6,500,000,000.1 price units: truncating would place at $65,000
    expect(() => priceToUnits(BTC, '65000.000001')).toThrow(UnitsError);
    // 0.00001000001 BTC = 100,000.1 quantums
    expect(() => sizeToQuantums(BTC, '0.00001000001')).toThrow(UnitsError);
  });

  it('refuses a zero size and amount even where the minimum is waived', () => {
    expect(() => sizeToQuantums(BTC, '0', { allowBelowMinimum: true })).toThrow(/size must be positive/);
    expect(() => usdcToMicro('0')).toThrow(/amount must be positive/);
  });

  it('allowBelowMinimum waives only the minimum order size, not the step', () => {
    expect(() => sizeToQuantums(RAW, '9')).toThrow(/below RAW's minimum order size 10/);
    expect(sizeToQuantums(RAW, '9', { allowBelowMinimum: true })).toBe(9n);
    expect(sizeToQuantums(RAW, '10')).toBe(10n);
  });

  it('microToUsdc is uusdc / 10^6', () => {
    expect(microToUsdc(1_500_000n).toString()).toBe('1.5');
    expect(microToUsdc('1').toString()).toBe('0.000001');
  });
});

describe('order messages: field ranges and required prices', () => {
  it('accepts the largest uint64 and refuses one more (price units, goodTilBlock)', () => {
    const top = place({ price: U64_MAX.toString(), size: '10' }, RAW);
    expect((field(top, 'price') as Long).toString()).toBe(U64_MAX.toString());
    expect(() => place({ price: (U64_MAX + 1n).toString(), size: '10' }, RAW)).toThrow(/does not fit in a uint64/);
    expect((field(place({ goodTilBlock: U64_MAX }), 'goodTilBlock') as Long).toString()).toBe(U64_MAX.toString());
    expect(() => place({ goodTilBlock: U64_MAX + 1n })).toThrow(/does not fit in a uint64/);
  });

  it('clientId is a uint32: 0 and 4294967295 pass, -1 and 2^32 are refused', () => {
    expect(field(place({ clientId: 0 }), 'clientId')).toBe(0);
    expect(field(place({ clientId: 0xffffffff }), 'clientId')).toBe(0xffffffff);
    expect(() => place({ clientId: -1 })).toThrow(/clientId must be a uint32/);
    expect(() => place({ clientId: 0x1_0000_0000 })).toThrow(/clientId must be a uint32/);
  });

  it('a goodTilBlock number past 2^53 is refused (it is no longer the number the trader wrote)', () => {
    expect(() => place({ goodTilBlock: 2 ** 53 })).toThrow(/whole number/);
    expect((field(place({ goodTilBlock: 2 ** 53 - 1 }), 'goodTilBlock') as Long).toString()).toBe(String(2 ** 53 - 1));
  });

  it('a Date expiry rounds down to whole seconds: the order never outlives the date the trader gave', () => {
    expect((field(place({ goodTilTime: new Date(1_767_225_600_999) }), 'goodTilTime') as Long).toString()).toBe('1767225600');
  });

  it('goodTilTime up to 10^11 s (year 5138) is seconds; above that it is taken for milliseconds and refused', () => {
    expect((field(place({ goodTilTime: 100_000_000_000 }), 'goodTilTime') as Long).toString()).toBe('100000000000');
    expect(() => place({ goodTilTime: 100_000_000_001 })).toThrow(/looks like milliseconds/);
  });

  it('market-type orders need no price, limit-type orders do, conditional orders need a trigger', () => {
    for (const type of ['market', 'stop_market', 'take_profit_market'] as const) {
      const msg = place({ type, price: undefined, triggerPrice: '60000' });
      expect((field(msg, 'price') as Long).toString()).toBe('0');
    }
    expect(() => place({ type: 'stop_limit', price: undefined, triggerPrice: '60000' })).toThrow(/needs a price/);
    for (const type of ['stop_limit', 'stop_market', 'take_profit_limit', 'take_profit_market'] as const) {
      expect(() => place({ type, triggerPrice: undefined })).toThrow(/needs a triggerPrice/);
    }
    expect((field(place({ type: 'stop_limit', triggerPrice: '60000' }), 'triggerPrice') as Long).toString()).toBe('6000000000');
  });

  it('an amend must change something; cancel/amend by clientId say so, by orderId do not', () => {
    expect(() => amendOrderMsg('perp1owner', 0, BTC, { clientId: 5 }, {})).toThrow(/changes the price, the size or both/);
    expect(cancelOrderMsg('perp1owner', 0, { clientId: 5 }).value).toMatchObject({ clientId: 5, byClientId: true });
    expect(cancelOrderMsg('perp1owner', 0, { orderId: 9n }).value).toMatchObject({ clientId: 0, byClientId: false });
    expect(amendOrderMsg('perp1owner', 0, BTC, { clientId: 5 }, { size: '0.02' }).value).toMatchObject({ clientId: 5, byClientId: true });
  });
});

describe('book checksum and local book', () => {
  const level = (i: number): WireLevel => [String(1000 - i), '1', 1];
  const snap = (bids: WireLevel[], asks: WireLevel[], checksum = bookChecksum(bids, asks)) => ({ seq: 1, height: 10, data: { market_id: 0, ticker: 'BTC-USD', bids, asks, checksum } });

  it('covers exactly 25 levels per side: the 25th counts, the 26th does not', () => {
    const bids = Array.from({ length: 30 }, (_, i) => level(i));
    const at = (i: number) => bids.map((l, j) => (j === i ? ([l[0], '999', 1] as WireLevel) : l));
    expect(bookChecksum(at(24), [])).not.toBe(bookChecksum(bids, []));
    expect(bookChecksum(at(25), [])).toBe(bookChecksum(bids, []));
  });

  it('verifies a snapshot like a delta: a snapshot that does not match its checksum is not trusted', () => {
    const b = new LocalOrderBook('BTC-USD');
    const bids: WireLevel[] = [['100', '5', 1]];
    try {
      b.applySnapshot(snap(bids, [], bookChecksum([['100', '4', 1]], [])));
      expect.unreachable();
    } catch (e) {
      expect((e as BookIntegrityError).reason).toBe('checksum_mismatch');
    }
    expect(b.ready).toBe(false);
  });

  it('after reset() a delta is refused until the next snapshot (even one that would pass the gap checks)', () => {
    const b = new LocalOrderBook('BTC-USD');
    b.applySnapshot(snap([['100', '5', 1]], []));
    b.reset();
    expect(b.ready).toBe(false);
    // seq 1 / height 1 follow the reset counters (0/0), and the checksum is the empty book's
    expect(() => b.applyDelta({ seq: 1, height: 1, data: { bids: [], asks: [], checksum: bookChecksum([], []) } })).toThrow(BookIntegrityError);
  });

  it('a removed level can come back at the same price with its new size and count', () => {
    const b = new LocalOrderBook('BTC-USD');
    b.applySnapshot(snap([['100', '5', 1], ['99', '1', 1]], []));
    b.applyDelta({ seq: 2, height: 11, data: { bids: [['100', '0', 0]], asks: [], checksum: bookChecksum([['99', '1', 1]], []) } });
    b.applyDelta({ seq: 3, height: 12, data: { bids: [['100', '7', 3]], asks: [], checksum: bookChecksum([['100', '7', 3], ['99', '1', 1]], []) } });
    expect(b.wire().bids).toEqual([['100', '7', 3], ['99', '1', 1]]);
  });
});

describe('sequence tracking', () => {
  it('only tx/12 is a sequence mismatch (another code with the same words is not)', () => {
    expect(parseSequenceMismatch({ codespace: 'tx', code: 13, log: 'expected 7, got 5' })).toBeUndefined();
    expect(parseSequenceMismatch({ codespace: 'tx', code: 12, log: 'no numbers here' })).toBeUndefined();
  });

  it('a callback that throws still releases the lock: the next caller runs', async () => {
    const t = new SequenceTracker(async () => ({ accountNumber: 1n, sequence: 4n }));
    await expect(t.exclusive(async () => Promise.reject(new Error('signer unplugged')))).rejects.toThrow('signer unplugged');
    const next = t.exclusive(async (s) => s.sequence);
    const timeout = new Promise<'deadlock'>((r) => setTimeout(() => r('deadlock'), 500));
    expect(await Promise.race([next, timeout])).toBe(4n);
  });

  it('the view is live: after adopt() inside the lock the retry signs with the sequence the node expects', async () => {
    const t = new SequenceTracker(async () => ({ accountNumber: 1n, sequence: 4n }));
    const seen = await t.exclusive(async (s) => {
      const first = s.sequence;
      t.adopt(9n); // the node said "expected 9, got 4"
      return [first, s.sequence];
    });
    expect(seen).toEqual([4n, 9n]);
    expect(t.mismatches).toBe(1);
    expect(t.next).toBe(9n);
  });

  it('knowing the account number alone still loads the sequence from the chain', async () => {
    let fetched = 0;
    const t = new SequenceTracker(async () => (fetched++, { accountNumber: 1n, sequence: 6n }));
    t.accountNumber = 1n;
    expect(await t.exclusive(async (s) => s.sequence)).toBe(6n);
    expect(fetched).toBe(1);
  });
});

describe('typed chain errors', () => {
  it('is() matches codespace and name: "unauthorized" of perpetuals is not clob\'s', () => {
    const e = new ChainErrorResult('perpetuals', 5, 'only the authority may create markets');
    expect(e.errorName).toBe('unauthorized');
    expect(e.is('perpetuals', 'unauthorized')).toBe(true);
    expect(e.is('clob', 'unauthorized')).toBe(false);
  });

  it('the message carries the node\'s log (with its figures); the registry description only when the log is empty', () => {
    expect(new ChainErrorResult('tx', 12, 'account sequence mismatch: expected 3, got 2').message).toBe('tx/12 wrong_sequence: account sequence mismatch: expected 3, got 2');
    expect(new ChainErrorResult('tx', 12, '').message).toBe('tx/12 wrong_sequence: account sequence mismatch');
    expect(new ChainErrorResult('nope', 99, '').message).toBe('nope/99: error');
  });
});

describe('feeFor', () => {
  it('rounds the fee up to whole uusdc, and adds nothing when it is exact (as the chain computes the minimum)', () => {
    expect(feeFor(1n, 1n).amount).toBe(1n); // 10^-6 uusdc → 1
    expect(feeFor(3n, 500_000n).amount).toBe(2n); // 1.5 → 2
    expect(feeFor(1_000_000n, 1n).amount).toBe(1n); // exactly 1
    expect(feeFor(200_000n, 1000n)).toEqual({ gas: 200_000n, amount: 200n });
    expect(feeFor(0n, 1000n).amount).toBe(0n);
  });
});
