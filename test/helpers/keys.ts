import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { AccountData, DirectSignResponse, OfflineDirectSigner } from '@cosmjs/proto-signing';
import { SignDoc } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { addressFromPubKey } from '../../chain/codec/address.js';

const require = createRequire(import.meta.url);
const secp = require('secp256k1') as {
  publicKeyCreate(priv: Uint8Array, compressed?: boolean): Uint8Array;
  ecdsaSign(msg32: Uint8Array, priv: Uint8Array): { signature: Uint8Array };
};

/**
 * Deterministic test keys (sha256 of a label) and an OfflineDirectSigner
 * over the native secp256k1 binding: the same interface as a cosmjs wallet,
 * fast enough to sign thousands of txs in a test or benchmark.
 * libsecp256k1 always produces low-S signatures, as the chain requires.
 */
export class TestKey implements OfflineDirectSigner {
  readonly priv: Uint8Array;
  readonly pub: Uint8Array;
  readonly address: string;

  constructor(label: string) {
    this.priv = createHash('sha256').update(`perpchain-test-key:${label}`).digest();
    this.pub = secp.publicKeyCreate(this.priv, true);
    this.address = addressFromPubKey(this.pub);
  }

  async getAccounts(): Promise<readonly AccountData[]> {
    return [{ address: this.address, algo: 'secp256k1', pubkey: this.pub }];
  }

  async signDirect(signerAddress: string, signDoc: SignDoc): Promise<DirectSignResponse> {
    if (signerAddress !== this.address) throw new Error(`TestKey ${this.address} cannot sign for ${signerAddress}`);
    const signature = this.signBytes(SignDoc.encode(signDoc).finish());
    return {
      signed: signDoc,
      signature: { pub_key: { type: 'tendermint/PubKeySecp256k1', value: Buffer.from(this.pub).toString('base64') }, signature: Buffer.from(signature).toString('base64') },
    };
  }

  /** Sign arbitrary bytes (sha256 digest, 64-byte r‖s). */
  signBytes(bytes: Uint8Array): Uint8Array {
    return secp.ecdsaSign(createHash('sha256').update(bytes).digest(), this.priv).signature;
  }
}

export function testKeys(n: number, prefix = 'acct'): TestKey[] {
  return Array.from({ length: n }, (_, i) => new TestKey(`${prefix}-${i}`));
}
