import { describe, expect, it } from 'vitest';
import { App, DEFAULT_CONSENSUS_PARAMS } from '../../chain/app.js';
import { GENESIS_TIME_NS, TEST_CHAIN_ID, TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';

/**
 * CheckTx refuses a tx that no block can hold (consensus param block.max_bytes): it would sit at the head of
 * the mempool forever. The bound is on the tx's size inside a block's Data (protobuf repeated bytes: a tag
 * byte, a uvarint length, the tx), and it is inclusive: a tx that exactly fills the largest block fits in one
 * and must be admitted, one byte of room less and it never fits. PrepareProposal packs txs up to the
 * request's max_tx_bytes by the same count, also inclusively: a proposer that leaves out a tx that fits wastes
 * block room, one that takes a byte more makes a proposal CometBFT refuses.
 */
const keys = testKeys(2, 'checktx-block-bytes');
const [alice, bob] = keys as [TestKey, TestKey];

/** What CometBFT counts for a tx in a block: tag + uvarint(length) + length. */
function framed(n: number): bigint {
  let varint = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 128)) varint++;
  return BigInt(1 + varint + n);
}

/** A chain whose genesis sets block.max_bytes (TestChain's own InitChain takes the default params). */
function chainWithMaxBlockBytes(maxBytes: bigint): TestChain {
  const c = TestChain.create({ keys, balance: 1_000_000_000n });
  const app = App.open();
  app.initChain({
    chainId: TEST_CHAIN_ID,
    timeNs: GENESIS_TIME_NS,
    initialHeight: 1n,
    appStateBytes: Buffer.from(JSON.stringify(c.appState)),
    consensusParams: { block: { maxBytes, maxGas: DEFAULT_CONSENSUS_PARAMS.block.maxGas }, abci: { voteExtensionsEnableHeight: 0n } },
  });
  c.reopen(app);
  c.block();
  return c;
}

describe('CheckTx and block.max_bytes', () => {
  it('admits a tx that exactly fills the largest block, and the block runs it', async () => {
    // sign once on a throwaway chain to learn the tx's size (same genesis, so same account number and bytes)
    const probe = chainWithMaxBlockBytes(DEFAULT_CONSENSUS_PARAMS.block.maxBytes);
    const size = framed((await probe.send(alice, bob.address, 1n)).length);

    const c = chainWithMaxBlockBytes(size);
    const tx = await c.send(alice, bob.address, 1n);
    expect(framed(tx.length)).toBe(size);
    const r = c.app.checkTx({ tx, type: 'new' });
    expect(`${r.codespace}/${r.code}`, r.log).toBe('/0');
    expectOk(c.block([tx]).txResults[0]!);
  });

  it('refuses it when the largest block is one byte short of it', async () => {
    const probe = chainWithMaxBlockBytes(DEFAULT_CONSENSUS_PARAMS.block.maxBytes);
    const size = framed((await probe.send(alice, bob.address, 1n)).length);

    const c = chainWithMaxBlockBytes(size - 1n);
    const r = c.app.checkTx({ tx: await c.send(alice, bob.address, 1n), type: 'new' });
    expect(`${r.codespace}/${r.code}`).toBe('tx/2');
    expect(r.log).toMatch(/do not fit in a block of at most/);
  });
});

describe('PrepareProposal and max_tx_bytes', () => {
  it('takes txs that fill max_tx_bytes exactly; with one byte less the last one waits', async () => {
    const c = chainWithMaxBlockBytes(DEFAULT_CONSENSUS_PARAMS.block.maxBytes);
    const a = await c.send(alice, bob.address, 1n);
    const b = await c.send(bob, alice.address, 1n);
    const room = framed(a.length) + framed(b.length);
    const propose = (maxTxBytes: bigint) =>
      c.app.prepareProposal({ maxTxBytes, txs: [a, b], localLastCommit: { round: 0, votes: [] }, height: c.app.height + 1n, timeNs: c.timeNs + 1n, proposerAddress: new Uint8Array(20) }).txs;
    expect(propose(room)).toEqual([a, b]);
    expect(propose(room - 1n)).toEqual([a]);
  });
});

