/**
 * The SDK's signTx / feeFor / txHashOf (client/signing.ts) against the
 * chain's own rules on a real App: the fee feeFor computes is the chain's
 * minimum (rounded up the same way, never one short), what signTx puts in the
 * body (memo, timeout height, the TxExtension) is what the chain reads, and
 * txHashOf is the hash the node reports and indexes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { feeFor, signTx, txHashOf, type SignTxOptions } from '../../client/signing.js';
import { requiredFee } from '../../chain/tx/ante.js';
import { txHash } from '../../chain/tx/decode.js';
import { TEST_CHAIN_ID, TestChain } from '../helpers/chain.js';
import type { TestKey } from '../helpers/keys.js';

function setup() {
  const chain = TestChain.create({ accounts: 2, balance: 10_000_000n });
  chain.block();
  const [a, b] = chain.keys as [TestKey, TestKey];
  const sign = (o: Partial<SignTxOptions>) =>
    signTx({
      signer: a,
      signerAddress: a.address,
      messages: [{ typeUrl: '/perpchain.bank.v1.MsgSend', value: { fromAddress: a.address, toAddress: b.address, amount: '1' } }],
      fee: feeFor(200_000n, 1000n),
      chainId: TEST_CHAIN_ID,
      accountNumber: chain.accountNumber(a.address),
      sequence: 0n,
      ...o,
    });
  return { chain, a, b, sign };
}
const body = (tx: Uint8Array) => TxBody.decode(TxRaw.decode(tx).bodyBytes);

describe('feeFor is the chain\'s minimum fee', () => {
  it('equals the ante handler\'s requiredFee for any gas and gas price (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.bigInt({ min: 0n, max: 10n ** 9n }), (gas, price) => {
        expect(feeFor(gas, price).amount).toBe(requiredFee(gas, price));
      }),
      { numRuns: 500 },
    );
  });

  it('a fee from feeFor passes CheckTx where the gas price leaves a fraction of a uusdc; one uusdc less does not', async () => {
    const { chain, sign } = setup();
    // default min gas price 1000 micro-uusdc: 200,001 gas → 200.001 uusdc → 201
    const fee = feeFor(200_001n, 1000n);
    expect(fee.amount).toBe(201n);
    expect(chain.app.checkTx({ tx: await sign({ fee: { gas: fee.gas, amount: fee.amount - 1n } }), type: 'new' }).code).toBe(14);
    expect(chain.app.checkTx({ tx: await sign({ fee }), type: 'new' }).code).toBe(0);
  });
});

describe('signTx body', () => {
  it('carries the memo and, by default, the TxExtension (extension: false leaves it out)', async () => {
    const { sign } = setup();
    const b = body(await sign({ memo: 'grid bot #4' }));
    expect(b.memo).toBe('grid bot #4');
    expect(b.nonCriticalExtensionOptions.map((x) => x.typeUrl)).toEqual(['/perpchain.tx.v1.TxExtension']);
    expect(body(await sign({ extension: false })).nonCriticalExtensionOptions).toEqual([]);
  });

  it('carries the timeout height: the chain refuses the tx once that height has passed', async () => {
    const { chain, sign } = setup();
    chain.block(); // height 2: the next block is 3
    expect(body(await sign({ timeoutHeight: 2n })).timeoutHeight.toString()).toBe('2');
    const late = chain.app.checkTx({ tx: await sign({ timeoutHeight: 2n }), type: 'new' });
    expect([late.codespace, late.code]).toEqual(['tx', 22]);
    expect(chain.app.checkTx({ tx: await sign({ timeoutHeight: 3n }), type: 'new' }).code).toBe(0);
  });
});

describe('txHashOf', () => {
  it('is the hash the node gives the tx (upper-case hex sha256 of the TxRaw bytes)', async () => {
    const { sign } = setup();
    const tx = await sign({});
    const h = await txHashOf(tx);
    expect(h).toBe(txHash(tx));
    expect(h).toMatch(/^[0-9A-F]{64}$/);
  });
});
