import { z } from 'zod';
import { safeUintJson } from '../../chain/codec/json-int.js';
import { addressProblem } from '../../chain/codec/address.js';
import { isValidPubKey } from '../../chain/crypto/secp256k1.js';
import { ErrInvalidGenesis } from './errors.js';
import { DEFAULT_AUTH_PARAMS, type AuthParams } from './params.js';
import type { Account } from './keeper.js';

const uint = safeUintJson;

export const AuthGenesisSchema = z.strictObject({
  params: z
    .strictObject({
      max_memo_characters: uint,
      max_tx_bytes: uint,
      tx_size_cost_per_byte: uint,
      sig_verify_cost_secp256k1: uint,
      min_gas_price_micro: uint,
    })
    .partial()
    .optional(),
  accounts: z
    .array(
      z.strictObject({
        address: z.string(),
        pub_key: z.string().optional(),
        account_number: uint.optional(),
        sequence: uint.optional(),
      }),
    )
    .default([]),
});

export type AuthGenesisJson = z.input<typeof AuthGenesisSchema>;

export interface AuthGenesis {
  params: AuthParams;
  accounts: Account[];
}

export function defaultAuthGenesis(): AuthGenesisJson {
  return { params: paramsToJson(DEFAULT_AUTH_PARAMS), accounts: [] };
}

export function paramsToJson(p: AuthParams) {
  return {
    max_memo_characters: String(p.maxMemoCharacters),
    max_tx_bytes: String(p.maxTxBytes),
    tx_size_cost_per_byte: String(p.txSizeCostPerByte),
    sig_verify_cost_secp256k1: String(p.sigVerifyCostSecp256k1),
    min_gas_price_micro: p.minGasPriceMicro.toString(),
  };
}

export function parseAuthGenesis(json: unknown): AuthGenesis {
  const r = AuthGenesisSchema.safeParse(json ?? {});
  if (!r.success) throw ErrInvalidGenesis(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const g = r.data;
  const p = g.params ?? {};
  const d = DEFAULT_AUTH_PARAMS;
  const params: AuthParams = {
    maxMemoCharacters: p.max_memo_characters !== undefined ? Number(p.max_memo_characters) : d.maxMemoCharacters,
    maxTxBytes: p.max_tx_bytes !== undefined ? Number(p.max_tx_bytes) : d.maxTxBytes,
    txSizeCostPerByte: p.tx_size_cost_per_byte !== undefined ? Number(p.tx_size_cost_per_byte) : d.txSizeCostPerByte,
    sigVerifyCostSecp256k1: p.sig_verify_cost_secp256k1 !== undefined ? Number(p.sig_verify_cost_secp256k1) : d.sigVerifyCostSecp256k1,
    minGasPriceMicro: p.min_gas_price_micro !== undefined ? BigInt(p.min_gas_price_micro) : d.minGasPriceMicro,
  };
  if (params.maxTxBytes < 256) throw ErrInvalidGenesis('max_tx_bytes must be at least 256');
  const seenAddr = new Set<string>();
  const seenNum = new Set<bigint>();
  const accounts: Account[] = g.accounts.map((a, i) => {
    const problem = addressProblem(a.address);
    if (problem) throw ErrInvalidGenesis(`accounts[${i}]: ${problem}`);
    if (seenAddr.has(a.address)) throw ErrInvalidGenesis(`accounts[${i}]: duplicate address ${a.address}`);
    seenAddr.add(a.address);
    const pubKey = a.pub_key ? Buffer.from(a.pub_key, 'base64') : undefined;
    if (pubKey && !isValidPubKey(pubKey)) throw ErrInvalidGenesis(`accounts[${i}]: pub_key is not a compressed secp256k1 key`);
    const num = a.account_number !== undefined ? BigInt(a.account_number) : BigInt(i);
    if (seenNum.has(num)) throw ErrInvalidGenesis(`accounts[${i}]: duplicate account_number ${num}`);
    seenNum.add(num);
    return { address: a.address, pubKey: pubKey ? new Uint8Array(pubKey) : undefined, accountNumber: num, sequence: BigInt(a.sequence ?? 0) };
  });
  return { params, accounts };
}
