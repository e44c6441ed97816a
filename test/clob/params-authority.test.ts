import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import type { ExecTxResult } from '../../chain/types.js';

/**
 * Clob params (fees, limits, tiers) change only by the authority: MsgUpdateParams is signed by whoever it names
 * as authority, so the handler must compare that name with the chain's authority (a signature alone proves
 * nothing). Without that check anyone could set the taker fee to 0 or lift the open-order tiers.
 */
const keys = testKeys(3, 'clob-params-authority');
const [authority, feeder, mallory] = keys as [TestKey, TestKey, TestKey];
const code = (r: ExecTxResult) => `${r.codespace}/${r.code}`;

describe('MsgUpdateParams', () => {
  it('is refused (clob/18) when signed by anyone but the authority, and leaves the params as they were', async () => {
    const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState: marketsAppState(authority.address, [feeder.address]) });
    c.block();
    const params = { takerFeePpm: 0, makerFeePpm: 0, maxOpenOrders: 256, maxGoodTilBlocks: 100_000, maxGoodTilSeconds: 8_208_000, marketOrderSlippagePpm: 50_000, clientIdRetentionBlocks: 2_000, maxTriggersPerBlock: 64, maxExpiriesPerBlock: 1024, openOrderTiers: [{ minNetCollateral: '0', maxOpenOrders: 256 }] };
    const update = (signer: TestKey) => ({ typeUrl: '/perpchain.clob.v1.MsgUpdateParams', value: { authority: signer.address, params } });
    const before = c.queryJson('clob/params');
    const r = c.block([await c.sign(mallory, [update(mallory)])]).txResults[0]!;
    expect(code(r)).toBe('clob/18');
    expect(c.queryJson('clob/params')).toEqual(before);
    expectOk(c.block([await c.sign(authority, [update(authority)])]).txResults[0]!);
    expect(c.queryJson('clob/params')).toMatchObject({ taker_fee_ppm: '0' });
  });
});
