import { perpchain } from '../../proto/gen/perpchain.js';

export interface SubaccountId {
  owner: string;
  number: number;
}

export interface Position {
  marketId: number;
  size: bigint;
  costBasis: bigint;
  fundingIndex: bigint;
  fundingCarry: bigint;
}

export interface Subaccount extends SubaccountId {
  collateral: bigint;
  /** Sorted by market id, no zero sizes. */
  positions: Position[];
}

const S = perpchain.subaccounts.v1.Subaccount;

export function encodeSubaccount(s: Subaccount): Uint8Array {
  return S.encode({
    owner: s.owner,
    number: s.number,
    collateral: s.collateral.toString(),
    positions: s.positions.map((p) => ({
      marketId: p.marketId,
      size: p.size.toString(),
      costBasis: p.costBasis.toString(),
      fundingIndex: p.fundingIndex.toString(),
      fundingCarry: p.fundingCarry.toString(),
    })),
  }).finish();
}

export function decodeSubaccount(b: Uint8Array): Subaccount {
  const m = S.decode(b);
  return {
    owner: m.owner,
    number: m.number,
    collateral: BigInt(m.collateral || '0'),
    positions: m.positions.map((p) => ({
      marketId: p.marketId ?? 0,
      size: BigInt(p.size || '0'),
      costBasis: BigInt(p.costBasis || '0'),
      fundingIndex: BigInt(p.fundingIndex || '0'),
      fundingCarry: BigInt(p.fundingCarry || '0'),
    })),
  };
}

export function subaccountName(id: SubaccountId): string {
  return `${id.owner}/${id.number}`;
}
