import { describe, expect, it } from 'vitest';
import { App } from '../../chain/app.js';
import { GENESIS_TIME_NS, TEST_CHAIN_ID, genesisFor } from '../helpers/chain.js';
import { testKeys } from '../helpers/keys.js';

/**
 * InitChain's initial_height: a genesis without one (0, as protobuf sends an unset field) starts at height 1,
 * as CometBFT does; a set one is the first height. The chain's first FinalizeBlock must be at that height.
 */
const appState = Buffer.from(JSON.stringify(genesisFor(testKeys(1, 'init-chain-height'), 1_000_000n)));
const finalize = (app: App, height: bigint) => app.finalizeBlock({ txs: [], height, timeNs: GENESIS_TIME_NS + 1_000_000_000n, hash: new Uint8Array(32), proposerAddress: new Uint8Array(20) });

describe('InitChain initial_height', () => {
  it('0 (unset) means 1: the first block is height 1', () => {
    const app = App.open();
    app.initChain({ chainId: TEST_CHAIN_ID, timeNs: GENESIS_TIME_NS, initialHeight: 0n, appStateBytes: appState });
    expect(app.nextHeight).toBe(1n);
    expect(() => finalize(app, 0n)).toThrow(/expected 1/);
    finalize(app, 1n);
    app.commit();
    expect(app.height).toBe(1n);
  });

  it('a set initial height is the first block\'s height', () => {
    const app = App.open();
    app.initChain({ chainId: TEST_CHAIN_ID, timeNs: GENESIS_TIME_NS, initialHeight: 100n, appStateBytes: appState });
    expect(app.nextHeight).toBe(100n);
    expect(() => finalize(app, 1n)).toThrow(/expected 100/);
    finalize(app, 100n);
    app.commit();
    expect(app.height).toBe(100n);
    // and a chain under way takes no second InitChain
    expect(() => app.initChain({ chainId: TEST_CHAIN_ID, timeNs: GENESIS_TIME_NS, initialHeight: 1n, appStateBytes: appState })).toThrow(/already at height 100/);
  });
});
