import { describe, expect, it } from 'vitest';
import { marketCoords, RiskIndex, surplus } from '../../modules/liquidation/risk-index.js';
import { accountRisk, isLiquidatable } from '../../modules/subaccounts/margin.js';

/**
 * The index's triggers are compared as scaled integers (risk-index.ts place(): coordinates divided by a
 * per-market power of ten S, ~10¹³ for BTC-USD), and the threshold must round so that a trigger never fires
 * later than the exact test: a long's threshold G₀ − d rounds UP (⌈(G₀ − d)/S⌉). One scaled unit is worth
 * |size| · S · 10⁻²⁴ uusdc, which is below the 3 uusdc of slack per position only for small positions (the
 * property test's are at most 0.6 BTC); for 1,000 BTC it is 100 uusdc, so a threshold rounded the other way
 * lets a large account sit up to ~97 uusdc past the line with no trigger fired: never flagged until the price
 * moves again.
 *
 * BTC-USD units (e = −9, MMF 3%), no funding: a 1,000 BTC long (10¹³ quantums) with collateral C has
 * NC − MMR = C + 9,700·p uusdc exactly at price p (value 10⁴·p, MMR 300·p), so its exact surplus M is that
 * times 10²⁴, and G = 0.97·10¹⁵·p, i.e. G/S = 97·p.
 */
describe('a trigger never fires later than the exact test', () => {
  it('a 1,000 BTC long 50 uusdc past the maintenance line is a candidate in the block the price gets there', () => {
    const p1 = 6_000_000_000n; // $60,000
    const size = 10_000_000_000_000n; // 1,000 BTC
    // C = −(9,700·p1 + 50): at p1, NC − MMR = −50 uusdc. The exact threshold sits at G/S = 97·p1 + 0.53: rounded up
    // it is 97·p1 + 1 and G/S = 97·p1 is below it (fires); rounded down it is 97·p1, which G/S is not below.
    const collateral = -(9_700n * p1 + 50n);
    const sub = { owner: 'perp1whale', number: 0, collateral, positions: [{ marketId: 0, size, costBasis: 0n, fundingIndex: 0n, fundingCarry: 0n }] };
    const at = (p: bigint) => new Map([[0, marketCoords(0, -9, 30_000n, p, 0n)]]);
    const risk = (p: bigint) => accountRisk(collateral, [{ marketId: 0, size, price: p, e: -9, imfPpm: 50_000n, mmfPpm: 30_000n, unsettledFunding: 0n }]);

    const index = new RiskIndex();
    const p0 = p1 + 100_000n; // $1 higher: NC − MMR = 969,999,950 uusdc (≈ $970), safe, so the account is armed, not hot
    expect(risk(p0).nc - risk(p0).mmr).toBe(969_999_950n);
    index.update(sub, at(p0), undefined);
    expect(index.candidates(at(p0)).n).toBe(0); // nothing fired, nothing hot

    expect(risk(p1).nc - risk(p1).mmr).toBe(-50n);
    expect(isLiquidatable(risk(p1))).toBe(true);
    expect(surplus(index.get('perp1whale/0')!, at(p1))).toBe(-50n * 10n ** 24n);
    const c = index.candidates(at(p1));
    expect([...c.slot.subarray(0, c.n)]).toEqual([index.slot('perp1whale/0')]);
    expect(c.status[0]).toBe(1); // and the float screen decides it: liquidatable
  });
});
