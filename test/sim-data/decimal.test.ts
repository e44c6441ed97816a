import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareDecimal, fromPriceUnits, maxDecimal, minDecimal, toPriceUnits } from '../../sim/data/index.js';

describe('toPriceUnits (chain convention: integer p means p·10^exponent)', () => {
  it('converts exactly', () => {
    expect(toPriceUnits('3621.81', -6)).toBe(3_621_810_000n); // devnet ETH-USD unit
    expect(toPriceUnits('3621.81', -5)).toBe(362_181_000n); // devnet BTC-USD unit
    expect(toPriceUnits('3621.81', -2)).toBe(362_181n);
    expect(toPriceUnits('69000', -6)).toBe(69_000_000_000n);
    expect(toPriceUnits('69000', 3)).toBe(69n); // units of 1000 USD
    expect(toPriceUnits('0.000001', -6)).toBe(1n);
    expect(toPriceUnits('007.50', -1)).toBe(75n);
    expect(toPriceUnits('1297.32780051', -8)).toBe(129_732_780_051n);
    expect(toPriceUnits('-1.5', -3)).toBe(-1500n);
    // far beyond float precision
    expect(toPriceUnits('123456789012345678901234567890.123456789', -9)).toBe(123456789012345678901234567890123456789n);
  });

  it("'exact' refuses values that do not fit the unit", () => {
    expect(() => toPriceUnits('1297.32780051', -6)).toThrow(/1297.32780051 cannot be represented exactly in units of 10\^-6/);
    expect(toPriceUnits('1297.32780000', -6)).toBe(1_297_327_800n); // trailing zeros are fine
    expect(() => toPriceUnits('69001', 3)).toThrow(/units of 10\^3/);
  });

  it('rounds as asked', () => {
    const r = (v: string, mode: Parameters<typeof toPriceUnits>[2]): bigint => toPriceUnits(v, 0, mode);
    expect(['2.5', '3.5', '2.4', '2.6', '-2.5', '-2.6'].map((v) => r(v, 'half-even'))).toEqual([2n, 4n, 2n, 3n, -2n, -3n]);
    expect(['2.5', '3.5', '2.4', '-2.5'].map((v) => r(v, 'half-up'))).toEqual([3n, 4n, 2n, -3n]);
    expect(['2.1', '-2.1'].map((v) => r(v, 'floor'))).toEqual([2n, -3n]);
    expect(['2.1', '-2.1'].map((v) => r(v, 'ceil'))).toEqual([3n, -2n]);
    expect(['2.9', '-2.9'].map((v) => r(v, 'trunc'))).toEqual([2n, -2n]);
    expect(toPriceUnits('455.40999999999997', -6, 'half-even')).toBe(455_410_000n);
    expect(toPriceUnits('2.50000000001', 0, 'half-even')).toBe(3n);
    expect(toPriceUnits('3621.81', 2, 'half-even')).toBe(36n);
    expect(toPriceUnits('5', 3, 'ceil')).toBe(1n);
    expect(toPriceUnits('1500', 3, 'half-even')).toBe(2n);
  });

  it('rejects malformed input', () => {
    for (const bad of ['', '1e5', '1.', '.5', '+1', ' 1', '1,000', 'NaN', '0x10']) {
      expect(() => toPriceUnits(bad, -2), bad).toThrow(TypeError);
    }
    expect(() => toPriceUnits('1', -37)).toThrow(RangeError);
    expect(() => toPriceUnits('1', 1.5)).toThrow(RangeError);
  });

  it('round-trips with fromPriceUnits (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: -18, max: 6 }), (u, e) => {
        const s = fromPriceUnits(u, e);
        expect(toPriceUnits(s, e)).toBe(u);
      }),
    );
    expect(fromPriceUnits(3_621_810_000n, -6)).toBe('3621.81');
    expect(fromPriceUnits(-5n, -2)).toBe('-0.05');
    expect(fromPriceUnits(0n, -6)).toBe('0');
    expect(fromPriceUnits(69n, 3)).toBe('69000');
  });
});

describe('compareDecimal', () => {
  it('compares exactly regardless of formatting', () => {
    expect(compareDecimal('1.50', '1.5')).toBe(0);
    expect(compareDecimal('0010', '9.99')).toBe(1);
    expect(compareDecimal('4901.549', '4901.55')).toBe(-1);
    expect(compareDecimal('-1', '0')).toBe(-1);
    expect(compareDecimal('-0.0', '0')).toBe(0);
    expect(compareDecimal('-2', '-10')).toBe(1);
    expect(minDecimal('3850', '3850.00')).toBe('3850');
    expect(maxDecimal('653.58', '653.5799999999999')).toBe('653.58');
  });

  it('agrees with bigint comparison (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 10 }), (a, b, ea, eb) => {
        // compare a·10^-ea with b·10^-eb
        const x = a * 10n ** BigInt(eb);
        const y = b * 10n ** BigInt(ea);
        expect(compareDecimal(fromPriceUnits(a, -ea), fromPriceUnits(b, -eb))).toBe(x < y ? -1 : x > y ? 1 : 0);
      }),
    );
  });
});
