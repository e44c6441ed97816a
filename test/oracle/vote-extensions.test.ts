import { describe, expect, it } from 'vitest';
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { App } from '../../chain/app.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { testKeys } from '../helpers/keys.js';
import { injectedToProto, validatorAddress, voteExtensionSignBytes } from '../../chain/oracle/vote-extensions.js';
import { encodeProtocolTx } from '../../chain/app.js';
import { MSG_INJECT_PRICES_URL } from '../../modules/prices/index.js';
import { perpchain } from '../../proto/gen/perpchain.js';
import type { ExtendedCommitInfo } from '../../chain/types.js';

/**
 * Oracle prices from vote extensions, with the App playing three validators
 * and the test playing CometBFT (signing extensions with each validator's
 * ed25519 key, building local_last_commit / proposed_last_commit).
 */
const CHAIN = 'perpchain-ve-1';
const T0 = 1_767_225_600_000_000_000n;
const keys = testKeys(2, 've');

function validator(seed: number, power: bigint) {
  const priv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, seed)]), format: 'der', type: 'pkcs8' });
  const pub = createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(12);
  return { priv, pub: new Uint8Array(pub), power, address: validatorAddress({ type: 'ed25519', pubKey: pub }) };
}
const vals = [validator(1, 30n), validator(2, 20n), validator(3, 10n)]; // CometBFT order: power descending

function newApp() {
  const app = App.open({});
  app.initChain({
    chainId: CHAIN,
    timeNs: T0,
    initialHeight: 1n,
    appStateBytes: Buffer.from(JSON.stringify(marketsAppState(keys[0]!.address, [keys[1]!.address]))),
    consensusParams: { block: { maxBytes: 22_020_096n, maxGas: 200_000_000n }, abci: { voteExtensionsEnableHeight: 1n } },
    validators: vals.map((v) => ({ pubKeyType: 'ed25519' as const, pubKeyBytes: v.pub, power: v.power })),
  });
  app.finalizeBlock({ txs: [], height: 1n, timeNs: T0 + 1_000_000_000n, hash: new Uint8Array(32), proposerAddress: vals[0]!.address });
  app.commit();
  return app;
}

/** Each validator extends its vote at height 1 with its own prices; CometBFT signs the extension. */
function extendedCommit(app: App, btcPrices: bigint[], tamper?: (c: ExtendedCommitInfo) => void): ExtendedCommitInfo {
  const votes = vals.map((v, i) => {
    app.setOracleSource(() => [{ marketId: 0, price: btcPrices[i]! }]);
    const ext = app.extendVote({ hash: new Uint8Array(32), height: 1n, timeNs: 0n, txs: [], proposerAddress: v.address }).voteExtension;
    expect(app.verifyVoteExtension({ hash: new Uint8Array(32), validatorAddress: v.address, height: 1n, voteExtension: ext })).toBe('accept');
    const sig = sign(null, voteExtensionSignBytes(ext, 1n, 0, CHAIN), v.priv);
    return { validatorAddress: v.address, power: v.power, blockIdFlag: 2, voteExtension: ext, extensionSignature: new Uint8Array(sig) };
  });
  const c: ExtendedCommitInfo = { round: 0, votes };
  tamper?.(c);
  return c;
}

const trusted = (c: ExtendedCommitInfo) => ({ round: c.round, votes: c.votes.map((v) => ({ validatorAddress: v.validatorAddress, power: v.power, blockIdFlag: v.blockIdFlag })) });

function propose(app: App, local: ExtendedCommitInfo) {
  return app.prepareProposal({ maxTxBytes: 1_000_000n, txs: [], localLastCommit: local, height: 2n, timeNs: T0 + 2_000_000_000n, proposerAddress: vals[0]!.address }).txs;
}
const process_ = (app: App, txs: Uint8Array[], local: ExtendedCommitInfo) =>
  app.processProposal({ txs, proposedLastCommit: trusted(local), hash: new Uint8Array(32), height: 2n, timeNs: T0 + 2_000_000_000n, proposerAddress: vals[0]!.address });

describe('oracle prices from vote extensions', () => {
  it('three validators: the proposer injects the signed votes, every node accepts them, the stake-weighted median is applied', () => {
    const app = newApp();
    // $60,000 (power 30), $61,000 (20), $62,000 (10): weighted lower median = $60,000 (30 of 60 reaches half)
    const local = extendedCommit(app, [6_000_000_000n, 6_100_000_000n, 6_200_000_000n]);
    const txs = propose(app, local);
    expect(txs.length).toBe(1);
    expect(process_(app, txs, local)).toBe('accept');
    const r = app.finalizeBlock({ txs, height: 2n, timeNs: T0 + 2_000_000_000n, hash: new Uint8Array(32), proposerAddress: vals[0]!.address, decidedLastCommit: trusted(local) });
    expect(r.txResults[0]!.code).toBe(0);
    app.commit();
    expect(app.keepers.prices.price(app.state, 0)).toBe(6_000_000_000n);
  });

  it('weights by stake: the big validator alone cannot set the price, the median moves with the power', () => {
    const app = newApp();
    const local = extendedCommit(app, [6_300_000_000n, 6_100_000_000n, 6_200_000_000n]);
    const txs = propose(app, local);
    app.finalizeBlock({ txs, height: 2n, timeNs: T0 + 2_000_000_000n, hash: new Uint8Array(32), proposerAddress: vals[0]!.address });
    app.commit();
    // sorted: 61,000 (20), 62,000 (10), 63,000 (30): cumulative 20, 30 ≥ 30 → $62,000
    expect(app.keepers.prices.price(app.state, 0)).toBe(6_200_000_000n);
  });

  it('rejects proposals whose injected votes do not match the commit or were tampered with', () => {
    const app = newApp();
    const good = extendedCommit(app, [6_000_000_000n, 6_100_000_000n, 6_200_000_000n]);
    const txs = propose(app, good);
    expect(process_(app, [], good)).toBe('reject'); // oracle votes missing
    // the trusted commit has a vote the injected tx lacks
    const fewer = extendedCommit(app, [6_000_000_000n, 6_100_000_000n, 6_200_000_000n], (c) => c.votes.pop());
    expect(process_(app, propose(app, fewer), good)).toBe('reject');
    // a power changed in the injected votes
    const bigger = extendedCommit(app, [6_000_000_000n, 6_100_000_000n, 6_200_000_000n], (c) => (c.votes[2]!.power = 100n));
    expect(process_(app, propose(app, bigger), good)).toBe('reject');
    // an extension altered after signing: the proposer blanks it (invalid signature), which leaves 50 of 60 power: still accepted
    const forged = extendedCommit(app, [6_000_000_000n, 6_100_000_000n, 6_200_000_000n], (c) => (c.votes[2]!.voteExtension = c.votes[0]!.voteExtension));
    expect(process_(app, propose(app, forged), good)).toBe('accept');
    // … but a proposer that injects the forged extension as is is rejected
    const forgedTx = encodeProtocolTx(MSG_INJECT_PRICES_URL, perpchain.prices.v1.MsgInjectPrices.encode(injectedToProto(1n, 0, forged.votes)).finish());
    expect(process_(app, [forgedTx], good)).toBe('reject');
    // only the 10-power validator carries prices: under 2/3 of the power
    const weak = extendedCommit(app, [6_000_000_000n, 6_100_000_000n, 6_200_000_000n], (c) => {
      for (const v of c.votes.slice(0, 2)) {
        v.voteExtension = new Uint8Array();
        v.extensionSignature = new Uint8Array();
      }
    });
    expect(process_(app, propose(app, weak), good)).toBe('reject');
    expect(process_(app, txs, good)).toBe('accept');
  });

  it('refuses injected txs from users and malformed extensions', () => {
    const app = newApp();
    const local = extendedCommit(app, [6_000_000_000n, 6_100_000_000n, 6_200_000_000n]);
    const [injected] = propose(app, local);
    const r = app.checkTx({ tx: injected!, type: 'new' });
    expect(`${r.codespace}/${r.code}`).toBe('tx/28');
    expect(app.verifyVoteExtension({ hash: new Uint8Array(32), validatorAddress: vals[0]!.address, height: 1n, voteExtension: Buffer.from('garbage') })).toBe('reject');
    expect(app.verifyVoteExtension({ hash: new Uint8Array(32), validatorAddress: vals[0]!.address, height: 1n, voteExtension: new Uint8Array(10_000) })).toBe('reject');
  });
});
