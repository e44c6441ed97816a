import { perpchain } from '../../proto/gen/perpchain.js';

export interface LiquidationParams {
  liquidationFeePpm: bigint;
  spreadToMmfPpm: bigint;
  positionFractionPpm: bigint;
  minLiquidationNotional: bigint;
  maxLiquidationsPerBlock: number;
  maxAdlFillsPerBlock: number;
  maxAdlCandidates: number;
}

export const DEFAULT_LIQUIDATION_PARAMS: LiquidationParams = {
  liquidationFeePpm: 15_000n, // 1.5%
  spreadToMmfPpm: 1_500_000n, // 1.5 × MMF
  positionFractionPpm: 200_000n, // 20% of a position per block …
  minLiquidationNotional: 10_000_000_000n, // … or all of it when ≤ $10,000
  maxLiquidationsPerBlock: 50,
  maxAdlFillsPerBlock: 20,
  maxAdlCandidates: 500,
};

const P = perpchain.liquidation.v1.Params;

export function encodeLiquidationParams(p: LiquidationParams): Uint8Array {
  return P.encode({
    liquidationFeePpm: Number(p.liquidationFeePpm),
    spreadToMmfPpm: Number(p.spreadToMmfPpm),
    positionFractionPpm: Number(p.positionFractionPpm),
    minLiquidationNotional: p.minLiquidationNotional.toString(),
    maxLiquidationsPerBlock: p.maxLiquidationsPerBlock,
    maxAdlFillsPerBlock: p.maxAdlFillsPerBlock,
    maxAdlCandidates: p.maxAdlCandidates,
  }).finish();
}

export function decodeLiquidationParams(b: Uint8Array): LiquidationParams {
  const m = P.decode(b);
  return {
    liquidationFeePpm: BigInt(m.liquidationFeePpm),
    spreadToMmfPpm: BigInt(m.spreadToMmfPpm),
    positionFractionPpm: BigInt(m.positionFractionPpm),
    minLiquidationNotional: BigInt(m.minLiquidationNotional || '0'),
    maxLiquidationsPerBlock: m.maxLiquidationsPerBlock,
    maxAdlFillsPerBlock: m.maxAdlFillsPerBlock,
    maxAdlCandidates: m.maxAdlCandidates,
  };
}

export function liquidationParamsJson(p: LiquidationParams) {
  return {
    liquidation_fee_ppm: p.liquidationFeePpm.toString(),
    spread_to_mmf_ppm: p.spreadToMmfPpm.toString(),
    position_fraction_ppm: p.positionFractionPpm.toString(),
    min_liquidation_notional: p.minLiquidationNotional.toString(),
    max_liquidations_per_block: p.maxLiquidationsPerBlock,
    max_adl_fills_per_block: p.maxAdlFillsPerBlock,
    max_adl_candidates: p.maxAdlCandidates,
  };
}
