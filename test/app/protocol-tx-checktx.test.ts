import Long from 'long';
import { describe, expect, it } from 'vitest';
import { encodeProtocolTx } from '../../chain/app.js';
import { MSG_INJECT_PRICES_URL } from '../../modules/prices/index.js';
import { perpchain } from '../../proto/gen/perpchain.js';
import type { ExecTxResult } from '../../chain/types.js';
import { TestChain } from '../helpers/chain.js';
import type { TestKey } from '../helpers/keys.js';

/**
 * MsgInjectPrices (the oracle votes) is put in a block only by its proposer, as tx 0. Its bytes are public
 * once the block is: anyone can hand them to a node's CheckTx. The mempool must refuse them with the
 * registered reason (tx/28 protocol_tx_only) before anything else looks at them (the ante would find no
 * signer and no signature and say something about those instead), and no proposer takes them from the mempool.
 * In a decided block it runs only as tx 0: anywhere else (a byzantine proposer's block) it fails, changing nothing.
 */
describe('a protocol tx sent to the mempool', () => {
  it('is refused by CheckTx as proposer-only, new or at recheck, and never proposed from the mempool', () => {
    const c = TestChain.create({ accounts: 1 });
    c.block();
    const injected = encodeProtocolTx(MSG_INJECT_PRICES_URL, perpchain.prices.v1.MsgInjectPrices.encode({ height: Long.fromNumber(1), round: 0, votes: [] }).finish());
    for (const type of ['new', 'recheck'] as const) {
      const r = c.app.checkTx({ tx: injected, type });
      expect(`${r.codespace}/${r.code}`, r.log).toBe('tx/28');
      expect(r.log).toMatch(/only a block proposer can include this message/);
    }
    const prop = c.app.prepareProposal({ maxTxBytes: 1_000_000n, txs: [injected], localLastCommit: { round: 0, votes: [] }, height: c.app.height + 1n, timeNs: c.timeNs + 1n, proposerAddress: new Uint8Array(20) });
    expect(prop.txs).toEqual([]);
  });
});

describe('a protocol tx in a decided block', () => {
  it('past index 0 fails (tx/28) without running; the txs around it run as usual', async () => {
    const c = TestChain.create({ accounts: 2 });
    c.block();
    const [a, b] = c.keys as [TestKey, TestKey];
    const injected = encodeProtocolTx(MSG_INJECT_PRICES_URL, perpchain.prices.v1.MsgInjectPrices.encode({ height: Long.fromNumber(1), round: 0, votes: [] }).finish());
    const send = await c.send(a, b.address, 1n);
    const [r0, r1] = c.block([send, injected]).txResults as [ExecTxResult, ExecTxResult];
    expect(r0.code, r0.log).toBe(0);
    expect(`${r1.codespace}/${r1.code}`).toBe('tx/28');
    expect(r1.log).toMatch(/a protocol tx must be the first tx of the block/);
    expect(r1.events).toEqual([]);
  });
});

