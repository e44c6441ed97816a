import { describe, expect, it } from 'vitest';
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { App } from '../../chain/app.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { testKeys } from '../helpers/keys.js';
import { encodeVoteExtension, injectedToProto, validatorAddress, voteExtensionSignBytes } from '../../chain/oracle/vote-extensions.js';
import { encodeProtocolTx } from '../../chain/app.js';
import { MSG_INJECT_PRICES_URL, MSG_UPDATE_PRICES_URL } from '../../modules/prices/index.js';
import { buildTx } from '../helpers/rawtx.js';
import Long from 'long';
import { perpchain } from '../../proto/gen/perpchain.js';
import type { ExtendedCommitInfo } from '../../chain/types.js';
import { TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';

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

/** An App after InitChain: the markets in genesis, `set` as validators, extensions from height 1. */
function genesisApp(set: ReadonlyArray<ReturnType<typeof validator>> = vals) {
  const app = App.open({});
  app.initChain({
    chainId: CHAIN,
    timeNs: T0,
    initialHeight: 1n,
    appStateBytes: Buffer.from(JSON.stringify(marketsAppState(keys[0]!.address, [keys[1]!.address]))),
    consensusParams: { block: { maxBytes: 22_020_096n, maxGas: 200_000_000n }, abci: { voteExtensionsEnableHeight: 1n } },
    validators: set.map((v) => ({ pubKeyType: 'ed25519' as const, pubKeyBytes: v.pub, power: v.power })),
  });
  return app;
}

/** The same App after block 1. */
function newApp(set: ReadonlyArray<ReturnType<typeof validator>> = vals) {
  const app = genesisApp(set);
  app.finalizeBlock({ txs: [], height: 1n, timeNs: T0 + 1_000_000_000n, hash: new Uint8Array(32), proposerAddress: set[0]!.address });
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

/** The MsgInjectPrices inside a protocol tx. */
function injectedOf(tx: Uint8Array): perpchain.prices.v1.MsgInjectPrices {
  const body = TxBody.decode(TxRaw.decode(tx).bodyBytes);
  return perpchain.prices.v1.MsgInjectPrices.decode(body.messages[0]!.value);
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
    // an honest proposer leaves such votes out altogether (an oracle-less block), which every node accepts …
    const weakTxs = propose(app, weak);
    expect(perpchain.prices.v1.MsgInjectPrices.decode(perpchain.prices.v1.MsgInjectPrices.encode(injectedOf(weakTxs[0]!)).finish()).votes.every((v) => v.voteExtension!.length === 0)).toBe(true);
    expect(process_(app, weakTxs, good)).toBe('accept');
    // … while a proposer that injects them as they are (10 of 60 power behind prices) is rejected
    const weakTx = encodeProtocolTx(MSG_INJECT_PRICES_URL, perpchain.prices.v1.MsgInjectPrices.encode(injectedToProto(1n, 0, weak.votes)).finish());
    expect(process_(app, [weakTx], good)).toBe('reject');
    expect(process_(app, txs, good)).toBe('accept');
  });

  it('validators without a price source sign empty extensions: the honest proposal is accepted whatever their share of the power', () => {
    // Regression: empty extensions were dropped with their signatures, so 2 of 3 validators without a source left
    // 10 of 60 power "behind extensions"; the proposer's own block was rejected by every node and the height never ended.
    for (const [reporting, moves] of [[[2], false], [[0, 1], true], [[], false]] as Array<[number[], boolean]>) {
      const app = newApp();
      const votes = vals.map((v, i) => {
        app.setOracleSource(() => (reporting.includes(i) ? [{ marketId: 0, price: 6_100_000_000n }] : []));
        const ext = app.extendVote({ hash: new Uint8Array(32), height: 1n, timeNs: 0n, txs: [], proposerAddress: v.address }).voteExtension;
        const sig = sign(null, voteExtensionSignBytes(ext, 1n, 0, CHAIN), v.priv);
        return { validatorAddress: v.address, power: v.power, blockIdFlag: 2, voteExtension: ext, extensionSignature: new Uint8Array(sig) };
      });
      const local: ExtendedCommitInfo = { round: 0, votes };
      const txs = propose(app, local);
      expect(process_(app, txs, local)).toBe('accept');
      const before = app.keepers.prices.price(app.state, 0);
      const r = app.finalizeBlock({ txs, height: 2n, timeNs: T0 + 2_000_000_000n, hash: new Uint8Array(32), proposerAddress: vals[0]!.address });
      expect(r.txResults[0]!.code).toBe(0);
      app.commit();
      // prices move only where more than 2/3 of the power reported them (50 of 60 does, 10 of 60 does not)
      expect(app.keepers.prices.price(app.state, 0) !== before).toBe(moves);
    }
  });

  it('the injected votes are not held to the user-tx size limit (many validators, large extensions)', () => {
    // Regression: FinalizeBlock applied auth max_tx_bytes to tx 0, which ProcessProposal had accepted: the oracle tx failed
    // with tx/2 and no prices moved once the validator set's extensions outgrew 64 KiB.
    const many = Array.from({ length: 12 }, (_, i) => validator(10 + i, 10n));
    const app = newApp(many);
    // ~6,900-byte extensions that VerifyVoteExtension accepts (an unknown field 15 of 6,900 bytes, which the decoder skips)
    const padding = Buffer.concat([Buffer.from([0x7a, 0xf4, 0x35]), Buffer.alloc(6_900)]);
    const votes = many.map((v) => {
      const ext = Buffer.concat([encodeVoteExtension([{ marketId: 0, price: 6_100_000_000n }]), padding]);
      expect(app.verifyVoteExtension({ hash: new Uint8Array(32), validatorAddress: v.address, height: 1n, voteExtension: ext })).toBe('accept');
      return { validatorAddress: v.address, power: v.power, blockIdFlag: 2, voteExtension: ext, extensionSignature: new Uint8Array(sign(null, voteExtensionSignBytes(ext, 1n, 0, CHAIN), v.priv)) };
    });
    const local: ExtendedCommitInfo = { round: 0, votes };
    const txs = app.prepareProposal({ maxTxBytes: 1_000_000n, txs: [], localLastCommit: local, height: 2n, timeNs: T0 + 2_000_000_000n, proposerAddress: many[0]!.address }).txs;
    expect(txs[0]!.length).toBeGreaterThan(65_536);
    expect(app.processProposal({ txs, proposedLastCommit: trusted(local), hash: new Uint8Array(32), height: 2n, timeNs: T0 + 2_000_000_000n, proposerAddress: many[0]!.address })).toBe('accept');
    const r = app.finalizeBlock({ txs, height: 2n, timeNs: T0 + 2_000_000_000n, hash: new Uint8Array(32), proposerAddress: many[0]!.address });
    expect(r.txResults[0]!.code).toBe(0);
    app.commit();
    expect(app.keepers.prices.price(app.state, 0)).toBe(6_100_000_000n);
  });

  it('extensions that together outgrow the block are left out, largest first, while more than 2/3 of the power stays behind the rest', () => {
    // Regression: the oracle tx was silently dropped when it exceeded max_tx_bytes, and ProcessProposal rejects a block
    // without it: every proposer of the height built the same rejected block and the chain halted. Any validator may pad
    // its own extension (an unknown field the decoder skips, within the 8 KiB limit).
    const many = Array.from({ length: 12 }, (_, i) => validator(30 + i, 10n));
    const padding = Buffer.concat([Buffer.from([0x7a, 0xf4, 0x35]), Buffer.alloc(6_900)]);
    const build = (app: App, padded: (i: number) => boolean) =>
      many.map((v, i) => {
        const ext = Buffer.concat([encodeVoteExtension([{ marketId: 0, price: BigInt(6_100_000_000 + (padded(i) ? 900_000_000 : i)) }]), padded(i) ? padding : Buffer.alloc(0)]);
        expect(app.verifyVoteExtension({ hash: new Uint8Array(32), validatorAddress: v.address, height: 1n, voteExtension: ext })).toBe('accept');
        return { validatorAddress: v.address, power: v.power, blockIdFlag: 2, voteExtension: ext, extensionSignature: new Uint8Array(sign(null, voteExtensionSignBytes(ext, 1n, 0, CHAIN), v.priv)) };
      });
    const maxTxBytes = 12_000n; // room for one padded extension, not for three
    const run = (padded: (i: number) => boolean) => {
      const app = newApp(many);
      const local: ExtendedCommitInfo = { round: 0, votes: build(app, padded) };
      const txs = app.prepareProposal({ maxTxBytes, txs: [], localLastCommit: local, height: 2n, timeNs: T0 + 2_000_000_000n, proposerAddress: many[0]!.address }).txs;
      expect(txs.length).toBe(1);
      expect(txs[0]!.length).toBeLessThanOrEqual(Number(maxTxBytes));
      expect(app.processProposal({ txs, proposedLastCommit: trusted(local), hash: new Uint8Array(32), height: 2n, timeNs: T0 + 2_000_000_000n, proposerAddress: many[0]!.address })).toBe('accept');
      const before = app.keepers.prices.price(app.state, 0);
      expect(app.finalizeBlock({ txs, height: 2n, timeNs: T0 + 2_000_000_000n, hash: new Uint8Array(32), proposerAddress: many[0]!.address }).txResults[0]!.code).toBe(0);
      app.commit();
      return { carried: injectedOf(txs[0]!).votes.filter((v) => (v.voteExtension?.length ?? 0) > 0).length, before, after: app.keepers.prices.price(app.state, 0) };
    };
    // three padders (1/4 of the power): two are left out (what the block needs), the median is the honest one
    const three = run((i) => i >= 9);
    expect(three.carried).toBe(10);
    expect(three.after).not.toBe(three.before);
    expect(three.after! < 6_200_000_000n).toBe(true);
    // every validator pads: leaving any set out would leave ≤ 2/3 or still not fit, so the block carries no extension
    const all = run(() => true);
    expect(all.carried).toBe(0);
    expect(all.after).toBe(all.before);
  });

  it('the first height\'s votes carry the genesis markets\' prices (ExtendVote and VerifyVoteExtension before any Commit)', () => {
    const app = genesisApp();
    app.finalizeBlock({ txs: [], height: 1n, timeNs: T0 + 1_000_000_000n, hash: new Uint8Array(32), proposerAddress: vals[0]!.address });
    app.setOracleSource(() => [{ marketId: 0, price: 6_050_000_000n }]);
    const ext = app.extendVote({ hash: new Uint8Array(32), height: 1n, timeNs: 0n, txs: [], proposerAddress: vals[0]!.address }).voteExtension;
    expect(ext.length).toBeGreaterThan(0);
    expect(app.verifyVoteExtension({ hash: new Uint8Array(32), validatorAddress: vals[1]!.address, height: 1n, voteExtension: ext })).toBe('accept');
  });

  it('once the validators carry the prices, feeder reports are refused (a price moves at most once per block)', () => {
    // Regression: with a feeder still registered (as `perpchain init` writes it), the injected median moved the price at
    // tx 0 and the feeders' median moved it again at the end of the block: +21% in one block with max_move 10%.
    const app = App.open({});
    app.initChain({
      chainId: CHAIN,
      timeNs: T0,
      initialHeight: 1n,
      appStateBytes: Buffer.from(JSON.stringify({ ...marketsAppState(keys[0]!.address, [keys[1]!.address]), bank: { balances: [{ address: keys[1]!.address, amount: '1000000000' }] } })),
      consensusParams: { block: { maxBytes: 22_020_096n, maxGas: 200_000_000n }, abci: { voteExtensionsEnableHeight: 1n } },
      validators: vals.map((v) => ({ pubKeyType: 'ed25519' as const, pubKeyBytes: v.pub, power: v.power })),
    });
    const feederTx = (sequence: bigint) =>
      buildTx({ messages: [{ typeUrl: MSG_UPDATE_PRICES_URL, value: perpchain.prices.v1.MsgUpdatePrices.encode({ feeder: keys[1]!.address, prices: [{ marketId: 0, price: Long.fromNumber(9_750_000_000) }] }).finish() }], signers: [{ key: keys[1]!, sequence }], chainId: CHAIN, accountNumber: 0n }).bytes;
    // block 1: no injected votes yet (extensions start at height 1, their first injection is at height 2): the feeder still counts
    expect(app.checkTx({ tx: feederTx(0n), type: 'new' }).code).toBe(0);
    const b1 = app.finalizeBlock({ txs: [feederTx(0n)], height: 1n, timeNs: T0 + 1_000_000_000n, hash: new Uint8Array(32), proposerAddress: vals[0]!.address });
    expect(b1.txResults[0]!.code).toBe(0);
    app.commit();
    expect(app.keepers.prices.price(app.state, 0)).toBe(7_150_000_000n); // $65,000 + 10% (clamped)
    // block 2: every validator reports +50%, and the feeder too, in the same block
    const local = extendedCommit(app, [9_750_000_000n, 9_750_000_000n, 9_750_000_000n]);
    const txs = [...propose(app, local), feederTx(1n)];
    expect(process_(app, txs, local)).toBe('accept');
    const b2 = app.finalizeBlock({ txs, height: 2n, timeNs: T0 + 2_000_000_000n, hash: new Uint8Array(32), proposerAddress: vals[0]!.address });
    expect(b2.txResults[0]!.code).toBe(0);
    expect(`${b2.txResults[1]!.codespace}/${b2.txResults[1]!.code}`).toBe('prices/11');
    expect(b2.txResults[1]!.log).toContain('since height 2');
    app.commit();
    expect(app.keepers.prices.price(app.state, 0)).toBe(7_865_000_000n); // one clamped move: 71,500 + 10%
    // and the mempool refuses the next report before it costs a fee
    const r = app.checkTx({ tx: feederTx(2n), type: 'new' });
    expect(`${r.codespace}/${r.code}`).toBe('prices/11');
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
