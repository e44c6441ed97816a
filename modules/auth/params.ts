import { perpchain } from '../../proto/gen/perpchain.js';
import { toBigInt } from '../../chain/codec/amount.js';
import { toLong } from '../../chain/codec/long.js';

/** Ante-handler parameters (see README). */
export interface AuthParams {
  maxMemoCharacters: number;
  maxTxBytes: number;
  txSizeCostPerByte: number;
  sigVerifyCostSecp256k1: number;
  /** Minimum gas price in micro-uusdc per gas: fee ≥ ceil(gasLimit · minGasPriceMicro / 10^6). */
  minGasPriceMicro: bigint;
}

export const DEFAULT_AUTH_PARAMS: AuthParams = {
  maxMemoCharacters: 256,
  maxTxBytes: 64 * 1024,
  txSizeCostPerByte: 10,
  sigVerifyCostSecp256k1: 1000,
  minGasPriceMicro: 1000n,
};

const P = perpchain.auth.v1.Params;

export function encodeParams(p: AuthParams): Uint8Array {
  return P.encode({
    maxMemoCharacters: toLong(p.maxMemoCharacters),
    maxTxBytes: toLong(p.maxTxBytes),
    txSizeCostPerByte: toLong(p.txSizeCostPerByte),
    sigVerifyCostSecp256k1: toLong(p.sigVerifyCostSecp256k1),
    minGasPriceMicro: toLong(p.minGasPriceMicro),
  }).finish();
}

export function decodeParams(b: Uint8Array): AuthParams {
  const m = P.decode(b);
  return {
    maxMemoCharacters: Number(toBigInt(m.maxMemoCharacters)),
    maxTxBytes: Number(toBigInt(m.maxTxBytes)),
    txSizeCostPerByte: Number(toBigInt(m.txSizeCostPerByte)),
    sigVerifyCostSecp256k1: Number(toBigInt(m.sigVerifyCostSecp256k1)),
    minGasPriceMicro: toBigInt(m.minGasPriceMicro),
  };
}
