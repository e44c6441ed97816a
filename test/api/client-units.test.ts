import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32, bookChecksum, checksumText } from '../../client/checksum.js';
import { LocalOrderBook, BookIntegrityError } from '../../client/book.js';
import { marketSpec, priceToUnits, sizeToQuantums, unitsToPrice, quantumsToSize, usdcToMicro, UnitsError, D } from '../../client/units.js';
import { placeOrderMsg } from '../../client/orders.js';
import { parseSequenceMismatch, SequenceTracker } from '../../client/sequence.js';
import { diffSide } from '../../chain/api/feed.js';
import type { WireLevel } from '../../client/checksum.js';

const BTC = marketSpec({ id: 0, ticker: 'BTC-USD', atomic_resolution: -10, price_exponent: -5, tick_size: '100000', step_size: '100000', min_order_size: '100000' });
const ETH = marketSpec({ id: 1, ticker: 'ETH-USD', atomic_resolution: -9, price_exponent: -6, tick_size: '10000', step_size: '1000000', min_order_size: '1000000' });

describe('checksum', () => {
  it('is the IEEE CRC-32 (check value of "123456789")', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32('')).toBe(0);
  });
  it('covers the top 25 levels of each side as price:size:count', () => {
    const bids: WireLevel[] = Array.from({ length: 30 }, (_, i) => [String(100 - i), String(i + 1), 1]);
    const asks: WireLevel[] = [['101', '5', 2]];
    expect(checksumText(bids.slice(0, 2), asks)).toBe('100:1:1,99:2:1|101:5:2');
    // level 26 does not count
    const changed = bids.map((l, i) => (i === 26 ? ([l[0], '999', 1] as WireLevel) : l));
    expect(bookChecksum(changed, asks)).toBe(bookChecksum(bids, asks));
    const changed2 = bids.map((l, i) => (i === 24 ? ([l[0], '999', 1] as WireLevel) : l));
    expect(bookChecksum(changed2, asks)).not.toBe(bookChecksum(bids, asks));
  });
});

describe('LocalOrderBook', () => {
  const snap = (bids: WireLevel[], asks: WireLevel[], height = 10, seq = 1) => ({ seq, height, data: { market_id: 0, ticker: 'BTC-USD', bids, asks, checksum: bookChecksum(bids, asks) } });
  it('applies a snapshot and deltas, verifying each', () => {
    const b = new LocalOrderBook('BTC-USD');
    b.applySnapshot(snap([['100', '5', 1]], [['105', '2', 1]]));
    const after = { bids: [['101', '1', 1], ['100', '5', 1]] as WireLevel[], asks: [] as WireLevel[] };
    b.applyDelta({ seq: 2, height: 11, data: { bids: [['101', '1', 1]], asks: [['105', '0', 0]], checksum: bookChecksum(after.bids, after.asks) } });
    expect(b.wire()).toEqual(after);
    expect(b.bestBid()?.price).toBe(101n);
    expect(b.bestAsk()).toBeUndefined();
  });
  it('detects a seq gap, a height gap and a checksum mismatch', () => {
    const b = new LocalOrderBook('BTC-USD');
    b.applySnapshot(snap([['100', '5', 1]], []));
    const cs = bookChecksum([['100', '5', 1]], []);
    expect(() => b.applyDelta({ seq: 3, height: 11, data: { bids: [], asks: [], checksum: cs } })).toThrow(BookIntegrityError);
    expect(b.ready).toBe(false);
    b.applySnapshot(snap([['100', '5', 1]], []));
    try {
      b.applyDelta({ seq: 2, height: 12, data: { bids: [], asks: [], checksum: cs } });
      expect.unreachable();
    } catch (e) {
      expect((e as BookIntegrityError).reason).toBe('height_gap');
    }
    b.applySnapshot(snap([['100', '5', 1]], []));
    try {
      b.applyDelta({ seq: 2, height: 11, data: { bids: [['100', '4', 1]], asks: [], checksum: cs } });
      expect.unreachable();
    } catch (e) {
      expect((e as BookIntegrityError).reason).toBe('checksum_mismatch');
    }
  });
  it('rebuilds any book from the server-side diff of random books (property)', () => {
    const level = fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 5 }));
    const book = fc.record({ bids: fc.uniqueArray(level, { selector: (l) => l[0], maxLength: 40 }), asks: fc.uniqueArray(level, { selector: (l) => l[0], maxLength: 40 }) });
    const wire = (ls: Array<[number, number, number]>, bids: boolean): WireLevel[] =>
      [...ls].sort((a, b) => (bids ? b[0] - a[0] : a[0] - b[0])).map((l) => [String(bids ? l[0] : l[0] + 100), String(l[1]), l[2]]);
    fc.assert(
      fc.property(fc.array(book, { minLength: 2, maxLength: 8 }), (books) => {
        const states = books.map((x) => ({ bids: wire(x.bids, true), asks: wire(x.asks, false) }));
        const lb = new LocalOrderBook('X');
        lb.applySnapshot({ seq: 1, height: 1, data: { market_id: 0, ticker: 'X', ...states[0]!, checksum: bookChecksum(states[0]!.bids, states[0]!.asks) } });
        for (let i = 1; i < states.length; i++) {
          const prev = states[i - 1]!;
          const next = states[i]!;
          lb.applyDelta({ seq: i + 1, height: i + 1, data: { bids: diffSide(prev.bids, next.bids, true), asks: diffSide(prev.asks, next.asks, false), checksum: bookChecksum(next.bids, next.asks) } });
          expect(lb.wire()).toEqual(next);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('units', () => {
  it('converts human decimals exactly (devnet BTC-USD and ETH-USD)', () => {
    expect(priceToUnits(BTC, '65000')).toBe(6_500_000_000n);
    expect(priceToUnits(BTC, '65001')).toBe(6_500_100_000n);
    expect(sizeToQuantums(BTC, '0.001')).toBe(10_000_000n);
    expect(sizeToQuantums(BTC, '0.00001')).toBe(100_000n);
    expect(priceToUnits(ETH, '3000.01')).toBe(3_000_010_000n);
    expect(sizeToQuantums(ETH, '0.001')).toBe(1_000_000n);
    expect(sizeToQuantums(ETH, '12.345')).toBe(12_345_000_000n);
    expect(unitsToPrice(BTC, 6_500_050_000n).toString()).toBe('65000.5');
    expect(quantumsToSize(ETH, 1_000_000n).toString()).toBe('0.001');
    expect(usdcToMicro('10000.5')).toBe(10_000_500_000n);
  });
  it('refuses values off the tick or step, below the minimum, non-positive or not numbers', () => {
    expect(() => priceToUnits(BTC, '65000.5')).toThrow(/not a multiple of BTC-USD's tick 1; nearest: 65000 or 65001/);
    expect(() => priceToUnits(ETH, '3000.001')).toThrow(UnitsError);
    expect(() => sizeToQuantums(BTC, '0.000015')).toThrow(/step 0.00001/);
    expect(() => sizeToQuantums(ETH, '0.0005')).toThrow(UnitsError);
    expect(() => priceToUnits(BTC, '0')).toThrow(/positive/);
    expect(() => priceToUnits(BTC, 'abc')).toThrow(/not a decimal number/);
    expect(() => priceToUnits(BTC, Number.NaN)).toThrow(UnitsError);
    expect(() => usdcToMicro('0.0000001')).toThrow(/6 decimals/);
    // decimal.js would read these as hex / binary ($16, $64,000): refused
    expect(() => priceToUnits(BTC, '0x10')).toThrow(/"0x10" is not a decimal number/);
    expect(() => priceToUnits(BTC, '0b1111101000000000')).toThrow(/not a decimal number/);
    // more digits than the arithmetic keeps would be rounded silently: refused
    expect(() => priceToUnits(BTC, '64000.' + '0'.repeat(90) + '1')).toThrow(/more than 60 significant digits/);
    expect(priceToUnits(BTC, '6.4e4')).toBe(6_400_000_000n);
  });
  it('refuses, rather than wraps, what does not fit the tx fields, and unknown enum values', () => {
    const o = { clientId: 1, market: 'BTC-USD', side: 'buy' as const, price: '20000' };
    // 3125·2^64 + 1e8 quantums used to wrap to a real 0.01 BTC order
    expect(() => placeOrderMsg('perp1x', 0, BTC, { ...o, size: '5764607523034.24488' })).toThrow(/does not fit in a uint64/);
    expect(() => placeOrderMsg('perp1x', 0, BTC, { ...o, size: '0.01', price: '576460752303443488' })).toThrow(/does not fit in a uint64/);
    expect(() => placeOrderMsg('perp1x', 0, BTC, { ...o, size: '0.01', goodTilBlock: -5 })).toThrow(/does not fit in a uint64/);
    expect(() => placeOrderMsg('perp1x', 0, BTC, { ...o, size: '0.01', goodTilBlock: 1.5 })).toThrow(/whole number/);
    expect(() => placeOrderMsg('perp1x', 0, BTC, { ...o, size: '0.01', goodTilTime: Date.now() })).toThrow(/looks like milliseconds/);
    expect(() => placeOrderMsg('perp1x', 0, BTC, { ...o, size: '0.01', timeInForce: 'IOC' as never })).toThrow(/timeInForce must be one of gtc, ioc, fok, post_only; got "IOC"/);
    expect(() => placeOrderMsg('perp1x', 0, BTC, { ...o, size: '0.01', stp: 'x' as never })).toThrow(/stp must be one of/);
    expect(() => placeOrderMsg('perp1x', 0, BTC, { ...o, size: '0.01', side: 'bid' as never })).toThrow(/side must be one of buy, sell/);
    expect(() => placeOrderMsg('perp1x', 0, BTC, { ...o, size: '0.01', type: 'Limit' as never })).toThrow(/type must be one of/);
    expect(placeOrderMsg('perp1x', 0, BTC, { ...o, size: '0.01', timeInForce: 'ioc' }).value.timeInForce).toBe(1); // TIME_IN_FORCE_IOC
  });
  it('round-trips every multiple of the tick and step (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.bigInt({ min: 1n, max: 10n ** 12n }), (ticks, steps) => {
        for (const m of [BTC, ETH]) {
          const units = ticks * m.tickSize;
          expect(priceToUnits(m, unitsToPrice(m, units).toString())).toBe(units);
          const q = steps * m.stepSize;
          expect(sizeToQuantums(m, quantumsToSize(m, q).toFixed())).toBe(q);
          // one unit off the grid is refused
          expect(() => priceToUnits(m, unitsToPrice(m, units + 1n))).toThrow(UnitsError);
        }
      }),
      { numRuns: 300 },
    );
    expect(new D('0.1').plus('0.2').toString()).toBe('0.3');
  });
});

describe('sequence tracking', () => {
  it('parses the chain\'s sequence mismatch (tx/12)', () => {
    expect(parseSequenceMismatch({ code: 12, codespace: 'tx', log: 'account sequence mismatch: expected 7, got 5' })).toEqual({ expected: 7n, got: 5n });
    expect(parseSequenceMismatch({ code: 12, codespace: 'clob', log: 'expected 7, got 5' })).toBeUndefined();
  });
  it('hands out sequences one caller at a time', async () => {
    let fetched = 0;
    const t = new SequenceTracker(async () => (fetched++, { accountNumber: 3n, sequence: 10n }));
    const seen: bigint[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.exclusive(async (s) => {
          seen.push(s.sequence);
          await new Promise((r) => setTimeout(r, i % 3));
          if (i !== 5) t.set(s.sequence + 1n); // #5 "failed CheckTx": its number is reused
        }),
      ),
    );
    expect(fetched).toBe(1);
    expect(seen.length).toBe(20);
    expect(new Set(seen).size).toBe(19);
    expect(t.next).toBe(29n);
  });
});
