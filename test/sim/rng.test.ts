import { describe, expect, it } from 'vitest';
import { drawRange } from '../../sim/agents/base.js';
import { Rng } from '../../sim/rng.js';

/**
 * The simulator's seeded PRNG: a run is reproducible only if the same seed gives the same draws,
 * independent agents only if their forked streams differ, and configured ranges are honoured only
 * if the integer draws cover exactly [0, n) (a [low, high] block range both ends included).
 */
const draws = (r: Rng, n = 8): number[] => Array.from({ length: n }, () => r.u32());

describe('Rng', () => {
  it('same seed and label: the same sequence; another label, stream or seed: another sequence', () => {
    expect(draws(Rng.fork(7, 'trader-1'))).toEqual(draws(Rng.fork(7, 'trader-1')));
    expect(draws(Rng.fork(7, 'trader-1'))).not.toEqual(draws(Rng.fork(7, 'trader-2')));
    expect(draws(Rng.fork(7, 'trader-1'))).not.toEqual(draws(Rng.fork(8, 'trader-1')));
    expect(draws(new Rng(7, 1))).not.toEqual(draws(new Rng(7, 2)));
    expect(draws(new Rng(7, 1))).not.toEqual(draws(new Rng(7)));
  });

  it('int(n) covers exactly 0 … n−1, each about equally often', () => {
    const r = new Rng(123);
    const counts = [0, 0, 0, 0];
    let outside = 0;
    for (let i = 0; i < 40_000; i++) {
      const k = r.int(4);
      if (k >= 0 && k < 4 && Number.isInteger(k)) counts[k]!++;
      else outside++;
    }
    expect(outside).toBe(0);
    // 10,000 expected each; a rounding draw would give the ends half as much
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it('drawRange([lo, hi]) includes both ends', () => {
    const r = new Rng(5);
    const seen = new Set<number>();
    for (let i = 0; i < 2_000; i++) seen.add(drawRange(r, [3, 5]));
    expect([...seen].sort()).toEqual([3, 4, 5]);
    expect(drawRange(r, [9, 9])).toBe(9);
  });
});
