import type { Invariant } from '../../chain/module.js';
import type { KVReader } from '../../chain/store/kv.js';
import { FUNDING_SCALE } from './margin.js';
import { SUBACCOUNT_TABLE } from './keys.js';
import { decodeSubaccount } from './types.js';
import type { SubaccountsKeeper } from './keeper.js';

export interface InvariantDeps {
  keeper: SubaccountsKeeper;
  poolBalance(state: KVReader): bigint;
  fundingIndex(state: KVReader, marketId: number): bigint;
  openInterest(state: KVReader, marketId: number): bigint;
  marketIds(state: KVReader): number[];
}

/**
 * Conservation: the pool holds exactly what subaccounts are owed, to 10^-18 uusdc:
 *   pool · 10^18 = Σ (collateral · 10^18 + funding carry + unsettled funding) + funding dust − bad debt · 10^18
 * where a position's unsettled funding is −size · (index − entry index), exact. This is
 * also the statement that funding is zero-sum: what one side has settled (paid or
 * received) the other side is owed, unsettled, to the last 10^-18 uusdc.
 * OI: Σ longs = Σ shorts = recorded OI.
 */
export function subaccountInvariants(d: InvariantDeps): Invariant[] {
  return [
    {
      name: 'subaccounts/conservation-and-oi',
      check(state: KVReader): string[] {
        const broken: string[] = [];
        let claims = 0n;
        let unsettled = 0n;
        const longs = new Map<number, bigint>();
        const shorts = new Map<number, bigint>();
        for (const [key, value] of state.scanTable(SUBACCOUNT_TABLE)) {
          const s = decodeSubaccount(value);
          claims += s.collateral * FUNDING_SCALE;
          let last = -1;
          for (const p of s.positions) {
            if (p.size === 0n) broken.push(`${key}: zero-size position in market ${p.marketId}`);
            if (p.marketId <= last) broken.push(`${key}: positions not sorted/unique`);
            last = p.marketId;
            if (p.fundingCarry < 0n || p.fundingCarry >= FUNDING_SCALE) broken.push(`${key}: funding carry ${p.fundingCarry} out of [0, 10^18)`);
            claims += p.fundingCarry;
            unsettled += -p.size * (d.fundingIndex(state, p.marketId) - p.fundingIndex);
            if (p.size > 0n) longs.set(p.marketId, (longs.get(p.marketId) ?? 0n) + p.size);
            else shorts.set(p.marketId, (shorts.get(p.marketId) ?? 0n) - p.size);
          }
        }
        const dust = d.keeper.dust(state);
        const bad = d.keeper.totalBadDebt(state);
        const pool = d.poolBalance(state);
        const lhs = pool * FUNDING_SCALE;
        const rhs = claims + unsettled + dust - bad * FUNDING_SCALE;
        if (lhs !== rhs) broken.push(`pool ${pool} uusdc ≠ claims: pool·10^18 = ${lhs}, Σ collateral·10^18 + carries + unsettled funding + dust − bad debt·10^18 = ${rhs} (difference ${lhs - rhs})`);
        for (const id of d.marketIds(state)) {
          const l = longs.get(id) ?? 0n;
          const s = shorts.get(id) ?? 0n;
          const oi = d.openInterest(state, id);
          if (l !== s || l !== oi) broken.push(`market ${id}: OI long ${l}, short ${s}, recorded ${oi}`);
        }
        return broken;
      },
    },
  ];
}
