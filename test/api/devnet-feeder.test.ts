/**
 * The devnet price feeder (chain/devnet/feeder.ts) on a real App and mempool,
 * without a node: it recovers when its account's sequence moved under it (it
 * re-reads the sequence from the chain after a refusal instead of repeating a
 * stale number forever), its replayed prices never reach 0 (the chain refuses
 * a zero price), and at the end of a dataset the replay continues from where
 * the price stands instead of jumping back to the start.
 *
 * The price path is read through the feeder's private nextPrices() and its
 * pending report through `pending` (the node does not await it either).
 */
import { describe, expect, it } from 'vitest';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { DevnetFeeder } from '../../chain/devnet/feeder.js';
import { Mempool } from '../../chain/devnet/mempool.js';
import { DEVNET_INITIAL_PRICES, marketsAppState } from '../../chain/devnet/markets.js';
import { txHash } from '../../chain/tx/decode.js';
import { feeFor, signTx } from '../../client/signing.js';
import { TEST_CHAIN_ID, TestChain } from '../helpers/chain.js';
import { testKeys } from '../helpers/keys.js';

/** The BIP-39 test mnemonic: a fixed feeder key. */
const MNEMONIC = `${'abandon '.repeat(11)}about`;

interface FeederInternals {
  pending: Promise<void>;
  nextPrices(): Array<{ marketId: number; price: bigint }>;
  series: Array<{ ticks: unknown[] }>;
}

/** A chain whose prices params register the fixed feeder key (funded), with BTC-USD at `btcPrice` units. */
async function setup(o: { btcPrice?: string; dataMsPerBlock?: number } = {}) {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(MNEMONIC, { prefix: 'perp' });
  const [acc] = await wallet.getAccounts();
  const feederAddress = acc!.address;
  const keys = testKeys(1);
  const markets = marketsAppState(keys[0]!.address, [feederAddress]) as { prices: { prices: Array<{ market_id: number; price: string }> } };
  markets.prices.prices = DEVNET_INITIAL_PRICES.map((p) => (p.market_id === 0 && o.btcPrice ? { ...p, price: o.btcPrice } : p));
  const chain = TestChain.create({
    keys,
    appState: { bank: { balances: [keys[0]!, { address: feederAddress }].map((k) => ({ address: k.address, amount: '1000000000' })) }, ...markets },
  });
  chain.block();
  const mempool = new Mempool(chain.app);
  const feeder = await DevnetFeeder.create({ app: chain.app, mempool, mnemonic: MNEMONIC, markets: [{ marketId: 0, dataset: 'btc-2022-11-08', exponent: -5 }], dataMsPerBlock: o.dataMsPerBlock ?? 60_000, log: () => {} });
  const internals = feeder as unknown as FeederInternals;
  const report = async () => {
    feeder.onCommit();
    await internals.pending;
  };
  return { chain, mempool, feeder, wallet, feederAddress, internals, report };
}

describe('devnet feeder', () => {
  it('re-reads its sequence from the chain after a refused report (someone else used its account)', async () => {
    const { chain, mempool, wallet, feederAddress, report } = await setup();
    await report();
    expect(mempool.size).toBe(1); // its report with sequence 0
    // the same key (e.g. the operator with the dev mnemonic) sends two txs that land first: the chain's sequence is now 2
    const own = await Promise.all(
      [0n, 1n].map((sequence) =>
        signTx({
          signer: wallet,
          signerAddress: feederAddress,
          messages: [{ typeUrl: '/perpchain.bank.v1.MsgSend', value: { fromAddress: feederAddress, toAddress: chain.keys[0]!.address, amount: '1' } }],
          fee: feeFor(200_000n, 1000n),
          chainId: TEST_CHAIN_ID,
          accountNumber: chain.accountNumber(feederAddress),
          sequence,
        }),
      ),
    );
    const r = chain.block(own);
    expect(r.txResults.map((x) => x.code)).toEqual([0, 0]);
    mempool.update(chain.app.height, own.map(txHash), r.txResults);
    expect(mempool.size).toBe(0); // its sequence-0 report failed the recheck
    await report(); // signed with sequence 1: refused (expected 2)
    expect(mempool.size).toBe(0);
    await report(); // re-read from the chain: sequence 2
    expect(mempool.size).toBe(1);
  });

  it('never reports a price of 0: a replay scaled down below one unit is reported as 1', async () => {
    // BTC-USD at 1 price unit: the FTX-crash replay falls below its first minute, which scales to 0
    const { internals } = await setup({ btcPrice: '1' });
    const prices = Array.from({ length: 30 }, () => internals.nextPrices()[0]!.price);
    expect(prices.every((p) => p === 1n)).toBe(true);
  });

  it('continues from where the price stands at the end of the dataset (no jump back to the start)', async () => {
    // one hour of data per block: a short series, so the wrap is reached quickly
    const { internals } = await setup({ dataMsPerBlock: 3_600_000 });
    const len = internals.series[0]!.ticks.length;
    const prices = Array.from({ length: len + 2 }, () => internals.nextPrices()[0]!.price);
    expect(prices[0]).toBe(BigInt(DEVNET_INITIAL_PRICES[0]!.price));
    expect(prices[len - 1]).not.toBe(prices[0]); // the replay moved the price
    // the first tick after the wrap is the dataset's first, scaled to the last price reported
    expect(prices[len]).toBe(prices[len - 1]);
  });
});
