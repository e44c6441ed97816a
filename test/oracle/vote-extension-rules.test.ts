/**
 * Boundary rules of the oracle vote extensions that the consensus of every
 * node relies on (docs: chain/oracle/vote-extensions.ts, ABCI reference §9.3):
 * VerifyVoteExtension's size and price limits, the "more than 2/3 of the
 * power" thresholds of the proposer, of ProcessProposal and of the price
 * aggregation at exactly 2/3, the checks ProcessProposal makes on the
 * injected commit (flag, content, height, round), and CometBFT's sign bytes.
 *
 * The App plays three validators with powers 30, 20 and 10 (total 60, so
 * 40 is exactly 2/3); the test plays CometBFT and signs each extension with
 * the validator's ed25519 key.
 */
import { describe, expect, it } from 'vitest';
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { App, encodeProtocolTx } from '../../chain/app.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import {
  aggregatePrices,
  decodeVoteExtension,
  encodeVoteExtension,
  fitInjectedVotes,
  injectedToProto,
  validatorAddress,
  voteExtensionSignBytes,
  MAX_PRICES_PER_EXTENSION,
  MAX_VOTE_EXTENSION_BYTES,
  type InjectedVote,
} from '../../chain/oracle/vote-extensions.js';
import type { ExtendedCommitInfo } from '../../chain/types.js';
import { MSG_INJECT_PRICES_URL } from '../../modules/prices/index.js';
import { perpchain } from '../../proto/gen/perpchain.js';
import { testKeys } from '../helpers/keys.js';
import { buildTx, msgSendAny } from '../helpers/rawtx.js';

const CHAIN = 'perpchain-ve-rules';
const T0 = 1_767_225_600_000_000_000n;
const keys = testKeys(2, 've-rules');
const COMMIT = 2;
const ABSENT = 1;
const NIL = 3;
/** Genesis prices of the devnet markets: BTC (0) $65,000 and ETH (1) $3,000, 6 decimals. */
const BTC_GENESIS = 6_500_000_000n;
const ETH_GENESIS = 3_000_000_000n;

function validator(seed: number, power: bigint) {
  const priv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, seed)]), format: 'der', type: 'pkcs8' });
  const pub = new Uint8Array(createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(12));
  return { priv, pub, power, address: validatorAddress({ type: 'ed25519', pubKey: pub }) };
}
type Validator = ReturnType<typeof validator>;
const vals = [validator(41, 30n), validator(42, 20n), validator(43, 10n)]; // power descending, as CometBFT orders them

/** An App after InitChain (markets 0 and 1 in genesis, `vals` as validators, extensions from height 1) and block 1. */
function newApp(): App {
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

/** A height-1 precommit of `v` carrying `ext`, signed by v's key the way CometBFT signs it. */
function signedVote(v: Validator, ext: Uint8Array, blockIdFlag = COMMIT) {
  return { validatorAddress: v.address, power: v.power, blockIdFlag, voteExtension: ext, extensionSignature: new Uint8Array(sign(null, voteExtensionSignBytes(ext, 1n, 0, CHAIN), v.priv)) };
}

/** A precommit without extension (absent or nil: CometBFT attaches none). */
function bareVote(v: Validator, blockIdFlag: number) {
  return { validatorAddress: v.address, power: v.power, blockIdFlag, voteExtension: new Uint8Array(), extensionSignature: new Uint8Array() };
}

const ext = (prices: Array<[number, bigint]>) => encodeVoteExtension(prices.map(([marketId, price]) => ({ marketId, price })));
const trusted = (c: ExtendedCommitInfo) => ({ round: c.round, votes: c.votes.map((v) => ({ validatorAddress: v.validatorAddress, power: v.power, blockIdFlag: v.blockIdFlag })) });
const propose = (app: App, local: ExtendedCommitInfo) =>
  app.prepareProposal({ maxTxBytes: 1_000_000n, txs: [], localLastCommit: local, height: 2n, timeNs: T0 + 2_000_000_000n, proposerAddress: vals[0]!.address }).txs;
const processProposal = (app: App, txs: Uint8Array[], local: ExtendedCommitInfo) =>
  app.processProposal({ txs, proposedLastCommit: trusted(local), hash: new Uint8Array(32), height: 2n, timeNs: T0 + 2_000_000_000n, proposerAddress: vals[0]!.address });
/** The oracle tx a (possibly dishonest) proposer builds from the votes exactly as given. */
const injectAsIs = (votes: InjectedVote[], height = 1n, round = 0) => encodeProtocolTx(MSG_INJECT_PRICES_URL, perpchain.prices.v1.MsgInjectPrices.encode(injectedToProto(height, round, votes)).finish());
const injectedOf = (tx: Uint8Array) => perpchain.prices.v1.MsgInjectPrices.decode(TxBody.decode(TxRaw.decode(tx).bodyBytes).messages[0]!.value);
const verify = (app: App, voteExtension: Uint8Array) => app.verifyVoteExtension({ hash: new Uint8Array(32), validatorAddress: vals[0]!.address, height: 2n, voteExtension });

/** `base` followed by an unknown length-delimited field 15 (skipped by the decoder) so the whole is exactly `total` bytes. */
function padTo(base: Uint8Array, total: number): Uint8Array {
  for (let len = total - base.length - 2; len >= 0; len--) {
    const lenBytes: number[] = [];
    for (let v = len; ; v = Math.floor(v / 128)) {
      if (v < 0x80) {
        lenBytes.push(v);
        break;
      }
      lenBytes.push((v % 128) | 0x80);
    }
    if (base.length + 1 + lenBytes.length + len === total) return Buffer.concat([base, Buffer.from([0x7a, ...lenBytes]), Buffer.alloc(len)]);
  }
  throw new Error(`cannot pad to ${total}`);
}

describe('VerifyVoteExtension: the limits every validator applies to the others\' extensions', () => {
  it('an extension of exactly 8 KiB is accepted, one byte more is rejected', () => {
    const app = newApp();
    const base = ext([[0, BTC_GENESIS]]);
    expect(verify(app, padTo(base, MAX_VOTE_EXTENSION_BYTES))).toBe('accept');
    expect(verify(app, padTo(base, MAX_VOTE_EXTENSION_BYTES + 1))).toBe('reject');
  });

  it('prices from 1 to 2^53 − 1 are accepted; 0 and 2^53 are not', () => {
    const app = newApp();
    expect(verify(app, ext([[0, 1n]]))).toBe('accept');
    expect(verify(app, ext([[0, BigInt(Number.MAX_SAFE_INTEGER)]]))).toBe('accept');
    expect(verify(app, ext([[0, 0n]]))).toBe('reject'); // a zero price (the int64 default) is not a price
    expect(verify(app, ext([[0, -1n]]))).toBe('reject');
    expect(verify(app, ext([[0, BigInt(Number.MAX_SAFE_INTEGER) + 1n]]))).toBe('reject');
  });

  it('one report per market, and only for markets the chain lists', () => {
    const app = newApp();
    expect(verify(app, ext([[0, BTC_GENESIS], [1, ETH_GENESIS]]))).toBe('accept');
    expect(verify(app, ext([[0, BTC_GENESIS], [0, BTC_GENESIS + 1n]]))).toBe('reject'); // a second vote for the same market
    expect(verify(app, ext([[99, BTC_GENESIS]]))).toBe('reject');
  });

  it('at most 256 prices in one extension', () => {
    const all = () => true;
    const prices = (n: number) => ext(Array.from({ length: n }, (_, i): [number, bigint] => [i, 1_000_000n]));
    expect(decodeVoteExtension(prices(MAX_PRICES_PER_EXTENSION), all)?.length).toBe(MAX_PRICES_PER_EXTENSION);
    expect(decodeVoteExtension(prices(MAX_PRICES_PER_EXTENSION + 1), all)).toBeUndefined();
  });

  it('ExtendVote leaves out a zero price from its source, so its own extension passes the others\' check', () => {
    const app = newApp();
    app.setOracleSource(() => [{ marketId: 0, price: 0n }, { marketId: 1, price: ETH_GENESIS }]);
    const own = app.extendVote({ hash: new Uint8Array(32), height: 2n, timeNs: 0n, txs: [], proposerAddress: vals[0]!.address }).voteExtension;
    expect(decodeVoteExtension(own, () => true)).toEqual([{ marketId: 1, price: ETH_GENESIS }]);
    expect(verify(app, own)).toBe('accept');
  });
});

describe('exactly 2/3 of the power is not enough (the rule is "more than 2/3")', () => {
  it('valid extensions from exactly 2/3: the honest proposer builds an oracle-less block, and it is accepted; carrying them is rejected', () => {
    const app = newApp();
    // 30 + 10 = 40 of 60 signed extensions; the 20-power validator's precommit did not arrive in time (absent).
    const local: ExtendedCommitInfo = { round: 0, votes: [signedVote(vals[0]!, ext([[0, BTC_GENESIS + 1_000_000n]])), bareVote(vals[1]!, ABSENT), signedVote(vals[2]!, ext([[0, BTC_GENESIS + 2_000_000n]]))] };
    const txs = propose(app, local);
    expect(txs.length).toBe(1);
    expect(injectedOf(txs[0]!).votes.every((v) => (v.voteExtension?.length ?? 0) === 0 && (v.extensionSignature?.length ?? 0) === 0)).toBe(true);
    expect(processProposal(app, txs, local)).toBe('accept'); // else no proposal of the height is ever accepted
    expect(processProposal(app, [injectAsIs(local.votes)], local)).toBe('reject');
  });

  it('an oracle tx too big for the block: an extension is left out only while more than 2/3 stays behind the rest', () => {
    const app = newApp();
    // The 20-power validator pads its extension (an unknown field the decoder skips, within 8 KiB): leaving
    // it out would fit the block but leave exactly 40 of 60 behind the rest, which ProcessProposal rejects.
    // The others' extensions are too small to make room, so the honest block carries none.
    const prices = ext([[0, BTC_GENESIS]]);
    const local: ExtendedCommitInfo = { round: 0, votes: [signedVote(vals[0]!, prices), signedVote(vals[1]!, padTo(prices, 7_000)), signedVote(vals[2]!, prices)] };
    const maxTxBytes = 3_000n;
    const txs = app.prepareProposal({ maxTxBytes, txs: [], localLastCommit: local, height: 2n, timeNs: T0 + 2_000_000_000n, proposerAddress: vals[0]!.address }).txs;
    expect(txs.length).toBe(1);
    expect(BigInt(txs[0]!.length)).toBeLessThanOrEqual(maxTxBytes);
    expect(injectedOf(txs[0]!).votes.every((v) => (v.voteExtension?.length ?? 0) === 0)).toBe(true);
    expect(processProposal(app, txs, local)).toBe('accept');
  });

  it('fitInjectedVotes: when leaving out extensions cannot save enough while keeping more than 2/3, it leaves out all of them', () => {
    const sized = (power: bigint, bytes: number): InjectedVote => ({ validatorAddress: new Uint8Array(20), power, blockIdFlag: COMMIT, voteExtension: new Uint8Array(bytes), extensionSignature: new Uint8Array(64) });
    const votes = [sized(30n, 10), sized(20n, 7_000), sized(10n, 10)];
    // Only the 20-power one is big enough, and leaving it out leaves exactly 2/3: the contract is all or nothing here,
    // not a partial set that still does not fit (the App re-checks the size, but the function promises it).
    expect(fitInjectedVotes(votes, 5_000n).every((v) => v.voteExtension.length === 0 && v.extensionSignature.length === 0)).toBe(true);
    // With room for all but the 10-power one's 74 bytes, that one alone goes.
    expect(fitInjectedVotes(votes, 50n).map((v) => v.voteExtension.length)).toEqual([10, 7_000, 0]);
  });

  it('a market reported by exactly 2/3 of the power keeps its price; one reported by all of it moves', () => {
    const app = newApp();
    // Every validator signs an extension (60 of 60 carried), but the 20-power one reports only ETH.
    const btc = BTC_GENESIS + 10_000_000n; // +$10
    const eth = ETH_GENESIS + 5_000_000n; // +$5
    const local: ExtendedCommitInfo = { round: 0, votes: [signedVote(vals[0]!, ext([[0, btc], [1, eth]])), signedVote(vals[1]!, ext([[1, eth]])), signedVote(vals[2]!, ext([[0, btc], [1, eth]]))] };
    const txs = propose(app, local);
    expect(processProposal(app, txs, local)).toBe('accept');
    const r = app.finalizeBlock({ txs, height: 2n, timeNs: T0 + 2_000_000_000n, hash: new Uint8Array(32), proposerAddress: vals[0]!.address, decidedLastCommit: trusted(local) });
    expect(r.txResults[0]!.code).toBe(0);
    app.commit();
    expect(app.keepers.prices.price(app.state, 0)).toBe(BTC_GENESIS); // 40 of 60
    expect(app.keepers.prices.price(app.state, 1)).toBe(eth); // 60 of 60
  });
});

describe('ProcessProposal: what the injected commit may carry (reference §9.3)', () => {
  it('a nil precommit carries no extension, even one its validator really signed', () => {
    const app = newApp();
    const prices = ext([[0, BTC_GENESIS]]);
    // The trusted commit says the 10-power validator voted nil. The proposer holds a valid extension
    // signature of that validator for this height and round and attaches it anyway.
    const local: ExtendedCommitInfo = { round: 0, votes: [signedVote(vals[0]!, prices), signedVote(vals[1]!, prices), signedVote(vals[2]!, prices, NIL)] };
    expect(processProposal(app, [injectAsIs(local.votes)], local)).toBe('reject');
    // The honest proposer drops it and still has 50 of 60 behind the rest.
    const honest = propose(app, local);
    expect(injectedOf(honest[0]!).votes.map((v) => (v.voteExtension?.length ?? 0) > 0)).toEqual([true, true, false]);
    expect(processProposal(app, honest, local)).toBe('accept');
  });

  it('a vote\'s flag must be the trusted commit\'s: a precommit the commit counts as absent cannot be claimed as a commit', () => {
    const app = newApp();
    const prices = ext([[0, BTC_GENESIS]]);
    // The 10-power validator's precommit (with a valid extension) arrived too late for the commit, which
    // lists it as absent. A proposer that relabels it as a commit to carry its extension is rejected.
    const local: ExtendedCommitInfo = { round: 0, votes: [signedVote(vals[0]!, prices), signedVote(vals[1]!, prices), bareVote(vals[2]!, ABSENT)] };
    const relabelled = [...local.votes.slice(0, 2), signedVote(vals[2]!, prices, COMMIT)];
    expect(processProposal(app, [injectAsIs(relabelled)], local)).toBe('reject');
    expect(processProposal(app, propose(app, local), local)).toBe('accept');
  });

  it('the oracle tx comes once, first: a second copy later in the block is rejected', () => {
    const app = newApp();
    const prices = ext([[0, BTC_GENESIS]]);
    const local: ExtendedCommitInfo = { round: 0, votes: vals.map((v) => signedVote(v, prices)) };
    const [oracle] = propose(app, local);
    expect(processProposal(app, [oracle!], local)).toBe('accept');
    expect(processProposal(app, [oracle!, oracle!], local)).toBe('reject');
  });

  it('a block without the oracle tx first is rejected, and a block may use the gas limit exactly, not more', () => {
    const app = newApp();
    const prices = ext([[0, BTC_GENESIS]]);
    const local: ExtendedCommitInfo = { round: 0, votes: vals.map((v) => signedVote(v, prices)) };
    const [oracle] = propose(app, local);
    // A user's transfer; ProcessProposal only decodes it (its signature, fee and balance are FinalizeBlock's business).
    const send = (gas: bigint) => buildTx({ messages: [msgSendAny(keys[1]!.address, keys[0]!.address, '1')], signers: [{ key: keys[1]!, sequence: 0n }], chainId: CHAIN, accountNumber: 0n, gas }).bytes;
    // A proposer that leaves the validators' prices out (a user tx in their place) is rejected.
    expect(processProposal(app, [send(200_000n)], local)).toBe('reject');
    expect(processProposal(app, [send(200_000n), oracle!], local)).toBe('reject');
    expect(processProposal(app, [oracle!, send(200_000n)], local)).toBe('accept');
    // block.max_gas is 200,000,000 (genesis above): a block of exactly that much gas is valid; the oracle tx takes none.
    expect(processProposal(app, [oracle!, send(150_000_000n), send(50_000_000n)], local)).toBe('accept');
    expect(processProposal(app, [oracle!, send(150_000_000n), send(50_000_001n)], local)).toBe('reject');
  });

  it('a correctly signed but malformed extension (a late vote VerifyVoteExtension never saw) is not carried', () => {
    const app = newApp();
    const good = ext([[0, BTC_GENESIS]]);
    const local: ExtendedCommitInfo = { round: 0, votes: [signedVote(vals[0]!, good), signedVote(vals[1]!, good), signedVote(vals[2]!, ext([[99, BTC_GENESIS]]))] };
    expect(processProposal(app, [injectAsIs(local.votes)], local)).toBe('reject');
    const honest = propose(app, local);
    expect(injectedOf(honest[0]!).votes.map((v) => (v.voteExtension?.length ?? 0) > 0)).toEqual([true, true, false]);
    expect(processProposal(app, honest, local)).toBe('accept');
  });

  it('the injected commit must be for the previous height and the commit\'s round, even without extensions', () => {
    const app = newApp();
    const local: ExtendedCommitInfo = { round: 0, votes: vals.map((v) => bareVote(v, COMMIT)) };
    expect(processProposal(app, [injectAsIs(local.votes, 1n, 0)], local)).toBe('accept');
    expect(processProposal(app, [injectAsIs(local.votes, 5n, 0)], local)).toBe('reject');
    expect(processProposal(app, [injectAsIs(local.votes, 1n, 1)], local)).toBe('reject');
  });
});

describe('price aggregation (FinalizeBlock)', () => {
  it('ignores the extension of a vote that is not a commit (its power still counts in the total)', () => {
    const known = () => true;
    const high = ext([[0, 900n]]);
    const low = ext([[0, 100n]]);
    const votes = [
      { power: 30n, blockIdFlag: COMMIT, voteExtension: low },
      { power: 20n, blockIdFlag: COMMIT, voteExtension: low },
      { power: 40n, blockIdFlag: NIL, voteExtension: high },
    ];
    // 50 of 90 is not more than 2/3: nothing; counting the nil vote would give 90 of 90 and 900.
    expect(aggregatePrices(votes, known)).toEqual([]);
    votes[2]!.blockIdFlag = COMMIT;
    expect(aggregatePrices(votes, known)).toEqual([{ marketId: 0, price: 100n }]); // lower median: 50 of 90 reaches half at 100
  });
});

describe('CometBFT sign bytes of a vote extension', () => {
  it('uvarint(len) ‖ CanonicalVoteExtension with zero fields omitted (bytes written out by hand from canonical.proto)', () => {
    // extension 0x01 0x02, height 5, round 0 (omitted), chain id "c"
    expect(Buffer.from(voteExtensionSignBytes(Uint8Array.from([1, 2]), 5n, 0, 'c')).toString('hex')).toBe(
      '10' + '0a020102' + '110500000000000000' + '220163',
    );
    // empty extension (omitted), height 5, round 3 (sfixed64)
    expect(Buffer.from(voteExtensionSignBytes(new Uint8Array(), 5n, 3, 'c')).toString('hex')).toBe('15' + '110500000000000000' + '190300000000000000' + '220163');
  });
});
