import { describe, expect, it } from 'vitest';
import { TestChain } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';

/**
 * A params update signed by anyone but the authority is refused already at CheckTx, for every module that has
 * one (perpetuals always did; prices, clob and liquidation refused it only in the block, after the stranger's
 * fee was taken and its gas had a place in the block). The authority's own update passes CheckTx.
 */
const keys = testKeys(3, 'params-authority-checktx');
const [authority, feeder, mallory] = keys as [TestKey, TestKey, TestKey];

const updates: Array<{ module: string; code: string; msg: (who: string) => { typeUrl: string; value: Record<string, unknown> } }> = [
  {
    module: 'prices',
    code: 'prices/9',
    msg: (who) => ({ typeUrl: '/perpchain.prices.v1.MsgUpdateParams', value: { authority: who, params: { feeders: [feeder.address], minChangePpm: 10, maxMovePpm: 100_000, stalenessSeconds: 60 } } }),
  },
  {
    module: 'clob',
    code: 'clob/18',
    msg: (who) => ({
      typeUrl: '/perpchain.clob.v1.MsgUpdateParams',
      value: { authority: who, params: { takerFeePpm: 0, makerFeePpm: 0, maxOpenOrders: 256, maxGoodTilBlocks: 100_000, maxGoodTilSeconds: 8_208_000, marketOrderSlippagePpm: 50_000, clientIdRetentionBlocks: 2_000, maxTriggersPerBlock: 64, maxExpiriesPerBlock: 1024, openOrderTiers: [{ minNetCollateral: '0', maxOpenOrders: 256 }] } },
    }),
  },
  {
    module: 'liquidation',
    code: 'liquidation/3',
    msg: (who) => ({
      typeUrl: '/perpchain.liquidation.v1.MsgUpdateParams',
      value: { authority: who, params: { liquidationFeePpm: 15_000, spreadToMmfPpm: 1_500_000, positionFractionPpm: 200_000, minLiquidationNotional: '10000000000', maxLiquidationsPerBlock: 50, maxAdlFillsPerBlock: 20, maxAdlCandidates: 500 } },
    }),
  },
  {
    module: 'perpetuals',
    code: 'perpetuals/5',
    msg: (who) => ({ typeUrl: '/perpchain.perpetuals.v1.MsgUpdateParams', value: { authority: who, params: { authority: authority.address, fundingIntervalSeconds: 3600 } } }),
  },
];

describe('params updates at CheckTx', () => {
  for (const u of updates) {
    it(`${u.module}: a stranger's update is refused (${u.code}) before it reaches a block; the authority's passes`, async () => {
      const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState: marketsAppState(authority.address, [feeder.address]) });
      c.block();
      const r = c.app.checkTx({ tx: await c.sign(mallory, [u.msg(mallory.address)]), type: 'new' });
      expect(`${r.codespace}/${r.code}`).toBe(u.code);
      expect(r.log).toMatch(/authority/);
      const ok = c.app.checkTx({ tx: await c.sign(authority, [u.msg(authority.address)]), type: 'new' });
      expect(ok.code).toBe(0);
    });
  }
});

describe('the SDK registry', () => {
  it('holds every message a key can sign: each message type the chain routes, but the proposer-only ones', async () => {
    const { buildModules } = await import('../../chain/app-modules.js');
    const { perpchainTypes } = await import('../../client/index.js');
    const signable = buildModules()
      .modules.flatMap((m) => m.msgs ?? [])
      .filter((d) => !d.protocolOnly)
      .map((d) => d.typeUrl)
      .sort();
    expect(perpchainTypes.map(([url]) => url).sort()).toEqual(signable);
  });
});
