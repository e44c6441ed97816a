/**
 * Vote-extension determinism harness: four App instances, each one validator
 * of a four-validator set, driven through the full ABCI 2.0 flow per height
 * with the harness playing CometBFT:
 *
 *   ProcessProposal(h) on every node  (proposer rotates over A, C, D; B never proposes)
 *   ExtendVote(h) on every node, VerifyVoteExtension(h) of every extension on every node
 *   FinalizeBlock(h) + Commit on every node
 *   PrepareProposal(h+1) on the next proposer with its own local_last_commit of h
 *
 * Nodes / validators (CometBFT order: power desc, then address):
 *   A  ed25519  power 40  in memory, CheckTx on every mempool tx, reference for the traffic
 *   B  ed25519  power 25  in memory, never CheckTx / PrepareProposal (a pure non-proposer);
 *                         now and then first finalizes the rejected proposal and abandons it
 *   C  ed25519  power 25  sqlite; reopened from disk every few blocks, sometimes crashed
 *                         between FinalizeBlock and Commit
 *   D  secp256k1 power 10 sqlite with a VerifyPool (finalizeBlockAsync)
 *
 * Each validator has its own price source (noise, none, throwing, lagging,
 * junk markets that ExtendVote must filter). Byzantine behaviour: now and
 * then B's extension is malformed (unknown market, oversize, garbage, zero
 * price, duplicate market) — every node must reject it alike and it then shows
 * up only as an unverified late vote in some proposers' local_last_commit.
 * Every few heights round 0's proposer is adversarial and mutates its
 * proposal (see MUTATIONS); every node must return the same ProcessProposal
 * status, the expected one, and when every node rejects, round 1's honest
 * proposer takes over (so commits with round ≠ 0 occur).
 *
 *   node --import tsx test/reliability/lib/ve-fleet.ts [--blocks 300] [--seed 1] [--txs 8] [--verbose]
 *
 * Exit code 0 when no problem was found.
 */
import { createPrivateKey, createPublicKey, hash, sign as edSign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1';
import { TxBody, TxRaw, AuthInfo, Fee } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { Any } from 'cosmjs-types/google/protobuf/any';
import Long from 'long';
import { Writer } from 'protobufjs/minimal.js';
import { App, encodeProtocolTx } from '../../../chain/app.js';
import { VerifyPool } from '../../../chain/crypto/verify-pool.js';
import { encodeVoteExtension, injectedFromProto, injectedToProto, validatorAddress, voteExtensionSignBytes, type InjectedVote } from '../../../chain/oracle/vote-extensions.js';
import type { CommitInfo, ExtendedCommitInfo, ExtendedVoteInfo, FinalizeBlockRequest, FinalizeBlockResult, InitChainRequest } from '../../../chain/types.js';
import { MSG_INJECT_PRICES_URL } from '../../../modules/prices/index.js';
import { perpchain } from '../../../proto/gen/perpchain.js';
import { Rng } from '../../helpers/rng.js';
import { Traffic } from './traffic.js';
import { resultDigest, hex } from './wire.js';
import { allInvariantProblems } from './ledger.js';
import { buildTx } from '../../helpers/rawtx.js';
import { DEVNET_MARKETS } from '../../../chain/devnet/markets.js';
import { marketFromJson, marketToProto } from '../../../modules/perpetuals/index.js';

const COMMIT = 2;
const ABSENT = 1;
const NIL = 3;
const SECP_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

// ------------------------------------------------------------------ validators

export interface Val {
  name: string;
  type: 'ed25519' | 'secp256k1';
  pub: Uint8Array;
  address: Uint8Array;
  power: bigint;
  sign(msg: Uint8Array): Uint8Array;
}

export function edVal(name: string, seed: number, power: bigint): Val {
  const priv: KeyObject = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, seed)]), format: 'der', type: 'pkcs8' });
  const pub = new Uint8Array(createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(12));
  return { name, type: 'ed25519', pub, address: validatorAddress({ type: 'ed25519', pubKey: pub }), power, sign: (m) => new Uint8Array(edSign(null, m, priv)) };
}

export function secpVal(name: string, seed: number, power: bigint): Val {
  const priv = new Uint8Array(32).fill(seed);
  const pub = secp256k1.getPublicKey(priv, true);
  return {
    name,
    type: 'secp256k1',
    pub,
    address: validatorAddress({ type: 'secp256k1', pubKey: pub }),
    power,
    sign: (m) => secp256k1.sign(hash('sha256', m, 'buffer'), priv, { lowS: true }).toCompactRawBytes(),
  };
}

/** CometBFT's validator order: voting power descending, then address ascending. */
export function cometOrder(vals: Val[]): Val[] {
  return [...vals].sort((a, b) => (a.power !== b.power ? (a.power > b.power ? -1 : 1) : Buffer.compare(Buffer.from(a.address), Buffer.from(b.address))));
}

export const toCommit = (c: ExtendedCommitInfo): CommitInfo => ({ round: c.round, votes: c.votes.map((v) => ({ validatorAddress: v.validatorAddress, power: v.power, blockIdFlag: v.blockIdFlag })) });

// ---------------------------------------------------------------- oracle tx

export function injectedTx(height: bigint, round: number, votes: InjectedVote[]): Uint8Array {
  return encodeProtocolTx(MSG_INJECT_PRICES_URL, perpchain.prices.v1.MsgInjectPrices.encode(injectedToProto(height, round, votes)).finish());
}

export function parseInjected(tx: Uint8Array): { height: bigint; round: number; votes: InjectedVote[] } {
  const body = TxBody.decode(TxRaw.decode(tx).bodyBytes);
  return injectedFromProto(perpchain.prices.v1.MsgInjectPrices.decode(body.messages[0]!.value));
}

// ------------------------------------------------------------------ harness

type Source = () => ReadonlyArray<{ marketId: number; price: bigint }>;

interface Node {
  name: 'A' | 'B' | 'C' | 'D';
  val: Val;
  app: App;
  dbPath?: string;
  source: Source | undefined;
}

export interface VeOptions {
  blocks: number;
  seed: number;
  txsPerBlock?: number;
  verbose?: boolean;
  /** Vote extensions from this height (the feeder carries prices before; default 4). */
  enableHeight?: bigint;
}

export interface VeStats {
  heights: number;
  rounds: number;
  problems: string[];
  adversarial: Map<string, { tried: number; status: string }>;
  priceMovesFromVotes: number;
  oracleLessBlocks: number;
  byzantineExtensions: number;
  lateVotes: number;
  reopens: number;
  crashes: number;
  abandons: number;
  txs: number;
  okTxs: number;
  liquidations: number;
  finalAppHash: string;
}

interface Mutation {
  name: string;
  /** 'reject' | 'accept': what every node must answer. */
  expect: 'reject' | 'accept';
  /** Returns the mutated proposal txs, or undefined when not applicable here. */
  apply(ctx: MutCtx): Uint8Array[] | undefined;
}

interface MutCtx {
  honest: Uint8Array[];
  local: ExtendedCommitInfo;
  h: bigint; // the proposal's height
  vals: Val[];
  chainId: string;
  rng: Rng;
  /** A user tx from the mempool, if any. */
  userTx: Uint8Array | undefined;
}

const valOf = (ctx: MutCtx, addr: Uint8Array) => ctx.vals.find((v) => Buffer.from(v.address).equals(addr))!;
const reinject = (ctx: MutCtx, f: (m: { height: bigint; round: number; votes: InjectedVote[] }) => void): Uint8Array[] | undefined => {
  if (ctx.honest.length === 0) return undefined;
  const m = parseInjected(ctx.honest[0]!);
  m.votes = m.votes.map((v) => ({ ...v }));
  f(m);
  return [injectedTx(m.height, m.round, m.votes), ...ctx.honest.slice(1)];
};
const carried = (m: { votes: InjectedVote[] }) => m.votes.map((v, i) => [v, i] as const).filter(([v]) => v.extensionSignature.length > 0);
/** Replace vote i's extension with `ext` signed by its validator (a colluding validator) for (height, round, chain). */
function resign(ctx: MutCtx, v: InjectedVote, ext: Uint8Array, height = ctx.h - 1n, round = ctx.local.round, chain = ctx.chainId, by?: Val): void {
  v.voteExtension = ext;
  v.extensionSignature = (by ?? valOf(ctx, v.validatorAddress)).sign(voteExtensionSignBytes(ext, height, round, chain));
}
const pad = (ext: Uint8Array, n: number) => Buffer.concat([Buffer.from(ext), Buffer.from([0x7a]), Writer.create().uint32(n).finish(), Buffer.alloc(n)]); // field 15, bytes

function protocolTxWith(msgValue: Uint8Array, extra: { memo?: string; gas?: bigint; timeout?: bigint; unknownBodyField?: boolean }): Uint8Array {
  const body = TxBody.fromPartial({ messages: [Any.fromPartial({ typeUrl: MSG_INJECT_PRICES_URL, value: msgValue })], memo: extra.memo ?? '', timeoutHeight: extra.timeout ?? 0n });
  const bodyBytes = TxBody.encode(body).finish();
  const authInfoBytes = AuthInfo.encode(AuthInfo.fromPartial(extra.gas !== undefined ? { fee: Fee.fromPartial({ gasLimit: extra.gas, amount: [{ denom: 'uusdc', amount: '1' }] }) } : {})).finish();
  return TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [] }).finish();
}

export const MUTATIONS: Mutation[] = [
  { name: 'no oracle tx', expect: 'reject', apply: (c) => c.honest.slice(1) },
  { name: 'oracle tx not first', expect: 'reject', apply: (c) => (c.userTx ? [c.userTx, ...c.honest] : undefined) },
  { name: 'oracle tx last', expect: 'reject', apply: (c) => (c.honest.length > 1 ? [...c.honest.slice(1), c.honest[0]!] : undefined) },
  { name: 'two oracle txs', expect: 'reject', apply: (c) => [c.honest[0]!, ...c.honest] },
  { name: 'undecodable tx appended', expect: 'reject', apply: (c) => [...c.honest, Buffer.from('garbage')] },
  {
    name: 'carried price altered (signature kept)',
    expect: 'reject',
    apply: (c) =>
      reinject(c, (m) => {
        const [v] = carried(m).find(([x]) => x.voteExtension.length > 0) ?? [];
        if (!v) throw new Skip();
        const p = perpchain.prices.v1.VoteExtension.decode(v.voteExtension);
        p.prices[0]!.price = Long.fromNumber(Number(p.prices[0]!.price) * 2, true);
        v.voteExtension = perpchain.prices.v1.VoteExtension.encode(p).finish();
      }),
  },
  {
    name: 'extension signed for height h-2',
    expect: 'reject',
    apply: (c) =>
      reinject(c, (m) => {
        const [v] = carried(m)[0] ?? [];
        if (!v) throw new Skip();
        resign(c, v, v.voteExtension, c.h - 2n);
      }),
  },
  {
    name: 'extension signed for the wrong round',
    expect: 'reject',
    apply: (c) =>
      reinject(c, (m) => {
        const [v] = carried(m)[0] ?? [];
        if (!v) throw new Skip();
        resign(c, v, v.voteExtension, c.h - 1n, c.local.round + 1);
      }),
  },
  {
    name: 'extension signed for another chain id',
    expect: 'reject',
    apply: (c) =>
      reinject(c, (m) => {
        const [v] = carried(m)[0] ?? [];
        if (!v) throw new Skip();
        resign(c, v, v.voteExtension, c.h - 1n, c.local.round, c.chainId + '-x');
      }),
  },
  {
    name: 'extension signed by another validator key',
    expect: 'reject',
    apply: (c) =>
      reinject(c, (m) => {
        const [v] = carried(m)[0] ?? [];
        if (!v) throw new Skip();
        const other = c.vals.find((x) => !Buffer.from(x.address).equals(v.validatorAddress))!;
        resign(c, v, v.voteExtension, c.h - 1n, c.local.round, c.chainId, other);
      }),
  },
  {
    name: 'secp256k1 signature as its high-S twin',
    expect: 'reject',
    apply: (c) =>
      reinject(c, (m) => {
        const hit = carried(m).find(([x]) => valOf(c, x.validatorAddress).type === 'secp256k1');
        if (!hit) throw new Skip();
        const sig = Buffer.from(hit[0].extensionSignature);
        const s = BigInt('0x' + sig.subarray(32).toString('hex'));
        Buffer.from((SECP_N - s).toString(16).padStart(64, '0'), 'hex').copy(sig, 32);
        hit[0].extensionSignature = sig;
      }),
  },
  {
    name: 'MsgInjectPrices height h-2',
    expect: 'reject',
    apply: (c) => reinject(c, (m) => void (m.height = c.h - 2n)),
  },
  {
    name: 'MsgInjectPrices round + 1',
    expect: 'reject',
    apply: (c) => reinject(c, (m) => void (m.round += 1)),
  },
  {
    name: 'two votes swapped',
    expect: 'reject',
    apply: (c) => reinject(c, (m) => void ([m.votes[0], m.votes[1]] = [m.votes[1]!, m.votes[0]!])),
  },
  { name: 'a vote dropped', expect: 'reject', apply: (c) => reinject(c, (m) => void m.votes.pop()) },
  { name: 'a vote added (duplicate of the first)', expect: 'reject', apply: (c) => reinject(c, (m) => void m.votes.push({ ...m.votes[0]! })) },
  { name: 'a power changed', expect: 'reject', apply: (c) => reinject(c, (m) => void (m.votes[0]!.power += 1n)) },
  {
    name: 'a flag changed',
    expect: 'reject',
    apply: (c) => reinject(c, (m) => void (m.votes[m.votes.length - 1]!.blockIdFlag = m.votes[m.votes.length - 1]!.blockIdFlag === COMMIT ? NIL : COMMIT)),
  },
  {
    name: 'duplicate validator (vote 1 replaced by vote 0)',
    expect: 'reject',
    apply: (c) => reinject(c, (m) => void (m.votes[1] = { ...m.votes[0]! })),
  },
  {
    name: 'signed extension with an unknown market',
    expect: 'reject',
    apply: (c) =>
      reinject(c, (m) => {
        const [v] = carried(m)[0] ?? [];
        if (!v) throw new Skip();
        resign(c, v, encodeVoteExtension([{ marketId: 0, price: 6_500_000_000n }, { marketId: 77, price: 1n }]));
      }),
  },
  {
    name: 'signed extension over 8 KiB',
    expect: 'reject',
    apply: (c) =>
      reinject(c, (m) => {
        const [v] = carried(m)[0] ?? [];
        if (!v) throw new Skip();
        resign(c, v, pad(encodeVoteExtension([{ marketId: 0, price: 6_500_000_000n }]), 8_300));
      }),
  },
  {
    name: 'signed extension of garbage bytes',
    expect: 'reject',
    apply: (c) =>
      reinject(c, (m) => {
        const [v] = carried(m)[0] ?? [];
        if (!v) throw new Skip();
        resign(c, v, Buffer.from([0xff, 0xff, 0xff]));
      }),
  },
  {
    name: 'signed extension with a zero price',
    expect: 'reject',
    apply: (c) =>
      reinject(c, (m) => {
        const [v] = carried(m)[0] ?? [];
        if (!v) throw new Skip();
        resign(c, v, perpchain.prices.v1.VoteExtension.encode({ prices: [{ marketId: 0, price: Long.UZERO }] }).finish());
      }),
  },
  {
    name: 'signed extension with a market twice',
    expect: 'reject',
    apply: (c) =>
      reinject(c, (m) => {
        const [v] = carried(m)[0] ?? [];
        if (!v) throw new Skip();
        resign(c, v, encodeVoteExtension([{ marketId: 0, price: 6_500_000_000n }, { marketId: 0, price: 6_600_000_000n }]));
      }),
  },
  {
    name: 'extension without a signature',
    expect: 'reject',
    apply: (c) =>
      reinject(c, (m) => {
        const [v] = carried(m)[0] ?? [];
        if (!v) throw new Skip();
        v.extensionSignature = new Uint8Array();
        if (v.voteExtension.length === 0) v.voteExtension = encodeVoteExtension([{ marketId: 0, price: 6_500_000_000n }]);
      }),
  },
  {
    name: 'signed extension on an absent/nil vote',
    expect: 'reject',
    apply: (c) =>
      reinject(c, (m) => {
        const v = m.votes.find((x) => x.blockIdFlag !== COMMIT);
        if (!v) throw new Skip();
        resign(c, v, encodeVoteExtension([{ marketId: 0, price: 6_500_000_000n }]));
      }),
  },
  {
    name: 'carried extensions cut to 2/3 of the power or less',
    expect: 'reject',
    apply: (c) =>
      reinject(c, (m) => {
        const total = m.votes.reduce((s, v) => s + v.power, 0n);
        const kept = () => carried(m).reduce((s, [v]) => s + v.power, 0n);
        if (kept() === 0n) throw new Skip();
        for (const [v] of carried(m).sort((a, b) => (a[0].power < b[0].power ? -1 : 1))) {
          if (kept() * 3n <= total * 2n) break;
          v.voteExtension = new Uint8Array();
          v.extensionSignature = new Uint8Array();
        }
        if (kept() === 0n) throw new Skip();
      }),
  },
  // accepted by design (ProcessProposal cannot know what the proposer received): every node must still agree
  {
    name: 'every extension blanked (oracle-less block)',
    expect: 'accept',
    apply: (c) =>
      reinject(c, (m) => {
        for (const v of m.votes) {
          v.voteExtension = new Uint8Array();
          v.extensionSignature = new Uint8Array();
        }
      }),
  },
  {
    name: 'one extension omitted, more than 2/3 kept',
    expect: 'accept',
    apply: (c) =>
      reinject(c, (m) => {
        const total = m.votes.reduce((s, v) => s + v.power, 0n);
        const cs = carried(m);
        const kept = cs.reduce((s, [v]) => s + v.power, 0n);
        const drop = cs.find(([v]) => (kept - v.power) * 3n > total * 2n);
        if (!drop) throw new Skip();
        drop[0].voteExtension = new Uint8Array();
        drop[0].extensionSignature = new Uint8Array();
      }),
  },
  {
    name: 'oracle tx with memo, fee and timeout height',
    expect: 'accept',
    apply: (c) => {
      const m = parseInjected(c.honest[0]!);
      const v = perpchain.prices.v1.MsgInjectPrices.encode(injectedToProto(m.height, m.round, m.votes)).finish();
      return [protocolTxWith(v, { memo: 'hello', gas: 10n ** 12n, timeout: 1n }), ...c.honest.slice(1)];
    },
  },
  {
    name: 'MsgInjectPrices with an unknown field',
    expect: 'accept',
    apply: (c) => {
      const m = parseInjected(c.honest[0]!);
      const v = Buffer.concat([perpchain.prices.v1.MsgInjectPrices.encode(injectedToProto(m.height, m.round, m.votes)).finish(), Buffer.from([0x7a, 0x01, 0x00])]);
      return [encodeProtocolTx(MSG_INJECT_PRICES_URL, v), ...c.honest.slice(1)];
    },
  },
];

class Skip extends Error {}

export async function runVe(o: VeOptions): Promise<VeStats> {
  const rng = new Rng(o.seed ^ 0x5eed);
  const traffic = new Traffic({ seed: o.seed, txsPerBlock: o.txsPerBlock ?? 8 });
  const vals = cometOrder([edVal('A', 11, 40n), edVal('B', 12, 25n), edVal('C', 13, 25n), secpVal('D', 14, 10n)]);
  const total = vals.reduce((s, v) => s + v.power, 0n);
  const byName = (n: string) => vals.find((v) => v.name === n)!;
  const enable = o.enableHeight ?? 4n;
  const stats: VeStats = {
    heights: 0,
    rounds: 0,
    problems: [],
    adversarial: new Map(),
    priceMovesFromVotes: 0,
    oracleLessBlocks: 0,
    byzantineExtensions: 0,
    lateVotes: 0,
    reopens: 0,
    crashes: 0,
    abandons: 0,
    txs: 0,
    okTxs: 0,
    liquidations: 0,
    finalAppHash: '',
  };
  const problem = (s: string) => {
    stats.problems.push(s);
    if (o.verbose) console.log('PROBLEM ' + s);
  };
  const tmp = mkdtempSync(join(tmpdir(), 've-fleet-'));
  const pool = new VerifyPool(1);
  const init: InitChainRequest = {
    ...traffic.initChain(),
    consensusParams: { block: { maxBytes: 22_020_096n, maxGas: 200_000_000n }, abci: { voteExtensionsEnableHeight: enable } },
    validators: vals.map((v) => ({ pubKeyType: v.type, pubKeyBytes: v.pub, power: v.power })),
  };
  const chainId = init.chainId;

  // ---- the "true" prices and each validator's view of them
  // market 2 is created mid-chain by the authority (CREATE_AT): until its block is committed ExtendVote must leave it out
  const truth = new Map<number, number>([
    [0, 6_500_000_000],
    [1, 3_000_000_000],
    [2, 150_000_000],
  ]);
  const CREATE_AT = enable + 7n;
  let lagged = new Map(truth);
  let crash: { market: number; dir: number; left: number } | undefined;
  const stepTruth = () => {
    lagged = new Map(truth);
    if (!crash && rng.chance(1 / 40)) crash = { market: rng.int(2), dir: rng.chance(0.6) ? -1 : 1, left: rng.range(2, 5) };
    for (const [m, p] of truth) {
      let f = 1 + (rng.float() - 0.5) * 0.006;
      if (crash && crash.market === m) f = 1 + crash.dir * (0.05 + rng.float() * 0.2);
      truth.set(m, Math.max(1_000_000, Math.round(p * f)));
    }
    if (crash && --crash.left === 0) crash = undefined;
  };
  const noisy = (p: number, ppm: number) => BigInt(Math.max(1, Math.round(p * (1 + ((rng.float() - 0.5) * 2 * ppm) / 1e6))));
  const sources: Record<Node['name'], Source> = {
    A: () => [...truth].map(([m, p]) => ({ marketId: m, price: noisy(p, 1_000) })),
    // B: no prices now and then; junk that ExtendVote must drop (unknown market, duplicates, zero, too large)
    B: () => {
      if (rng.chance(0.3)) return [];
      const out = [...truth].map(([m, p]) => ({ marketId: m, price: noisy(p, 2_000) }));
      if (rng.chance(0.3)) out.push({ marketId: 99, price: 5n }, { marketId: 0, price: 1n }, { marketId: 1, price: 0n }, { marketId: 1, price: 2n ** 60n });
      return out;
    },
    C: () => {
      if (rng.chance(0.1)) throw new Error('price service down');
      return [...truth].map(([m, p]) => ({ marketId: m, price: BigInt(p) }));
    },
    // D: a lagging feed, sometimes for one market only
    D: () => [...lagged].filter(([m]) => m === 0 || rng.chance(0.7)).map(([m, p]) => ({ marketId: m, price: BigInt(p) })),
  };

  const nodes: Node[] = (['A', 'B', 'C', 'D'] as const).map((name) => {
    const dbPath = name === 'C' || name === 'D' ? join(tmp, `${name}.db`) : undefined;
    const app = App.open(dbPath ? { dbPath, ...(name === 'D' ? { verifyPool: pool } : {}) } : {});
    return { name, val: byName(name), app, ...(dbPath ? { dbPath } : {}), source: sources[name] };
  });
  const node = (n: Node['name']) => nodes.find((x) => x.name === n)!;
  const reopen = (n: Node) => {
    n.app.close();
    n.app = App.open({ dbPath: n.dbPath!, ...(n.name === 'D' ? { verifyPool: pool } : {}) });
    n.app.setOracleSource(n.source);
  };
  for (const n of nodes) {
    n.app.initChain(init);
    n.app.setOracleSource(n.source);
  }

  /** Per prospective proposer: its local_last_commit of the previous height. */
  let views = new Map<Node['name'], ExtendedCommitInfo>(nodes.map((n) => [n.name, { round: 0, votes: [] }]));
  let reopenIn = rng.range(2, 6);
  const proposers: Array<Node['name']> = ['A', 'C', 'D'];

  try {
    for (let i = 0; i < o.blocks; i++) {
      const A = node('A').app;
      const base = traffic.next(A);
      const h = base.height;
      const mempool = base.txs;
      if (h === CREATE_AT) {
        const acct = JSON.parse(Buffer.from(A.query({ path: `auth/account/${traffic.authority.address}`, data: new Uint8Array(), height: 0n, prove: false }).value).toString());
        const market = marketToProto({ ...marketFromJson({ ...DEVNET_MARKETS[1], id: 2, ticker: 'SOL-USD' } as never), status: 'active' } as never);
        const value = perpchain.perpetuals.v1.MsgCreateMarket.encode({ authority: traffic.authority.address, market, initialPrice: Long.fromNumber(150_000_000, true) }).finish();
        const tx = buildTx({ messages: [Any.fromPartial({ typeUrl: '/perpchain.perpetuals.v1.MsgCreateMarket', value })], signers: [{ key: traffic.authority, sequence: BigInt(acct.sequence) }], chainId, accountNumber: BigInt(acct.account_number), gas: 400_000n }).bytes;
        mempool.unshift(tx);
      }
      for (const tx of mempool) A.checkTx({ tx, type: 'new' });

      // ---------------------------------------------------- proposals, by round
      let decided: { txs: Uint8Array[]; round: number; proposer: Node; trusted: CommitInfo } | undefined;
      let rejected: Uint8Array[] | undefined;
      for (let round = 0; !decided; round++) {
        if (round > 6) {
          problem(`height ${h}: no proposal accepted in 7 rounds (halt)`);
          throw new Error('halt');
        }
        stats.rounds++;
        const proposer = node(proposers[(Number(h) + round) % proposers.length]!);
        const local = views.get(proposer.name)!;
        const trusted = toCommit(local);
        if (proposer.name !== 'A') for (const tx of mempool) proposer.app.checkTx({ tx, type: 'new' });
        const honest = proposer.app.prepareProposal({ maxTxBytes: 4_000_000n, txs: mempool, localLastCommit: local, height: h, timeNs: base.timeNs, proposerAddress: proposer.val.address }).txs;
        let txs = honest;
        let expect: 'accept' | 'reject' = 'accept';
        let label = 'honest';
        if (round === 0 && h > enable + 1n && rng.chance(0.35)) {
          const m = MUTATIONS[rng.int(MUTATIONS.length)]!;
          try {
            const userTx = mempool.find((t) => { try { return TxRaw.decode(t).signatures.length === 1; } catch { return false; } });
            const out = m.apply({ honest, local, h, vals, chainId, rng, userTx });
            if (out) {
              txs = out;
              expect = m.expect;
              label = m.name;
            }
          } catch (e) {
            if (!(e instanceof Skip)) throw e;
          }
        }
        const statuses = nodes.map((n) => {
          try {
            return n.app.processProposal({ txs, proposedLastCommit: trusted, hash: base.hash, height: h, timeNs: base.timeNs, proposerAddress: proposer.val.address });
          } catch (e) {
            problem(`height ${h} round ${round}: ProcessProposal threw on ${n.name} (${label}): ${(e as Error).message}`);
            return 'threw';
          }
        });
        if (label !== 'honest') {
          const a = stats.adversarial.get(label) ?? { tried: 0, status: '' };
          a.tried++;
          a.status = [...new Set(statuses)].join('/');
          stats.adversarial.set(label, a);
        }
        if (new Set(statuses).size !== 1) problem(`height ${h} round ${round}: ProcessProposal differs across nodes (${label}): ${nodes.map((n, j) => `${n.name}=${statuses[j]}`).join(' ')}`);
        if (statuses[0] !== expect) problem(`height ${h} round ${round}: ProcessProposal ${statuses[0]} for "${label}", expected ${expect}`);
        if (statuses.every((s) => s === 'accept')) decided = { txs, round, proposer, trusted };
        else rejected = txs;
      }

      // ---------------------------------------------------- votes of height h
      const exts = new Map<string, Uint8Array>();
      const verified = new Map<string, boolean>();
      for (const n of nodes) {
        let ext = n.app.extendVote({ hash: base.hash, height: h, timeNs: base.timeNs, txs: decided.txs, proposerAddress: decided.proposer.val.address }).voteExtension;
        // a byzantine B now and then
        if (n.name === 'B' && h >= enable && rng.chance(0.12)) {
          stats.byzantineExtensions++;
          const kinds = [
            () => encodeVoteExtension([{ marketId: 0, price: 1n }, { marketId: 55, price: 1n }]),
            () => pad(encodeVoteExtension([{ marketId: 0, price: 6_000_000_000n }]), 8_200),
            () => Buffer.from([0x0a, 0xff]),
            () => perpchain.prices.v1.VoteExtension.encode({ prices: [{ marketId: 0, price: Long.UZERO }] }).finish(),
            () => encodeVoteExtension([{ marketId: 1, price: 1n }, { marketId: 1, price: 2n }]),
            () => pad(encodeVoteExtension([{ marketId: 0, price: 1n }]), 7_000), // well formed (skipped field): accepted
          ];
          ext = kinds[rng.int(kinds.length)]!();
        }
        exts.set(n.name, ext);
        const answers = nodes.filter((m) => m !== n).map((m) => m.app.verifyVoteExtension({ hash: base.hash, validatorAddress: n.val.address, height: h, voteExtension: ext }));
        if (new Set(answers).size !== 1) problem(`height ${h}: VerifyVoteExtension of ${n.name}'s extension differs across nodes: ${answers.join(' ')}`);
        verified.set(n.name, answers[0] === 'accept');
        if (h >= enable && n.name !== 'B' && answers[0] !== 'accept') problem(`height ${h}: an honest extension of ${n.name} was rejected`);
      }
      // the commit of h: verified precommits, one now and then missing (absent or nil) while > 2/3 remain
      const counted = new Set<string>(nodes.filter((n) => verified.get(n.name)).map((n) => n.name));
      const power = (s: Set<string>) => vals.filter((v) => s.has(v.name)).reduce((x, v) => x + v.power, 0n);
      if (rng.chance(0.2)) {
        const drop = [...counted][rng.int(counted.size)]!;
        const rest = new Set([...counted].filter((x) => x !== drop));
        if (power(rest) * 3n > total * 2n) counted.delete(drop);
      }
      if (power(counted) * 3n <= total * 2n) {
        problem(`height ${h}: the honest validators' extensions hold only ${power(counted)} of ${total}: no commit possible`);
        throw new Error('no commit');
      }
      const sigOf = (v: Val, ext: Uint8Array) => (h >= enable ? v.sign(voteExtensionSignBytes(ext, h, decided.round, chainId)) : new Uint8Array());
      const vote = (v: Val, late: boolean): ExtendedVoteInfo => {
        const ext = h >= enable ? exts.get(v.name)! : new Uint8Array();
        if (counted.has(v.name) || late) return { validatorAddress: v.address, power: v.power, blockIdFlag: COMMIT, voteExtension: ext, extensionSignature: sigOf(v, ext) };
        return { validatorAddress: v.address, power: v.power, blockIdFlag: rng.chance(0.5) ? ABSENT : NIL, voteExtension: new Uint8Array(), extensionSignature: new Uint8Array() };
      };
      const nextViews = new Map<Node['name'], ExtendedCommitInfo>();
      const flags = new Map(vals.map((v) => [v.name, vote(v, false).blockIdFlag]));
      for (const n of nodes) {
        // late precommits (never given to the App's VerifyVoteExtension) in some proposers' views
        const votes = vals.map((v) => {
          const late = !counted.has(v.name) && rng.chance(0.4);
          if (late) stats.lateVotes++;
          const x = vote(v, late);
          if (!late && !counted.has(v.name)) x.blockIdFlag = flags.get(v.name)!;
          return x;
        });
        nextViews.set(n.name, { round: decided.round, votes });
      }

      // ---------------------------------------------------- FinalizeBlock + Commit
      const req: FinalizeBlockRequest = { txs: decided.txs, height: h, timeNs: base.timeNs, hash: base.hash, proposerAddress: decided.proposer.val.address };
      const results = new Map<string, FinalizeBlockResult>();
      for (const n of nodes) {
        try {
          if (n.name === 'B' && rejected && rng.chance(0.3)) {
            n.app.finalizeBlock({ ...req, txs: rejected });
            stats.abandons++;
          }
          let r = n.name === 'D' ? await n.app.finalizeBlockAsync(req) : n.app.finalizeBlock(req);
          if (n.name === 'C' && rng.chance(1 / 15)) {
            reopen(n);
            stats.crashes++;
            if (n.app.height === 0n) n.app.initChain(init);
            r = n.app.finalizeBlock(req);
          }
          n.app.commit();
          results.set(n.name, r);
        } catch (e) {
          problem(`height ${h}: FinalizeBlock/Commit threw on ${n.name}: ${(e as Error).stack}`);
          throw e;
        }
      }
      const da = resultDigest(results.get('A')!);
      for (const n of nodes) {
        const d = resultDigest(results.get(n.name)!);
        if (d !== da) problem(`height ${h}: ${n.name} differs from A: app hash ${hex(results.get(n.name)!.appHash)} vs ${hex(results.get('A')!.appHash)}`);
      }
      const ra = results.get('A')!;
      if (h > enable) {
        if (h === CREATE_AT) {
          const created = ra.txResults.some((r) => r.events.some((e) => e.type === 'perpetuals.market_created'));
          if (!created) problem(`height ${h}: market 2 was not created`);
        }
        const t0 = ra.txResults[0];
        if (!t0 || t0.code !== 0) problem(`height ${h}: the oracle tx failed: ${t0?.codespace}/${t0?.code} ${t0?.log}`);
        const moves = t0?.events.filter((e) => e.type === 'prices.update').length ?? 0;
        stats.priceMovesFromVotes += moves;
        if (parseInjected(decided.txs[0]!).votes.every((v) => v.extensionSignature.length === 0)) stats.oracleLessBlocks++;
      }
      stats.liquidations += ra.events.filter((e) => e.type === 'liquidation.liquidated').length;
      for (const r of ra.txResults) {
        stats.txs++;
        if (r.code === 0) stats.okTxs++;
      }
      if (i % 10 === 0) for (const p of allInvariantProblems(A)) problem(`height ${h}: invariant: ${p}`);

      // C reopened from disk every few blocks; D checkpoints
      const C = node('C');
      if (--reopenIn === 0) {
        reopen(C);
        stats.reopens++;
        reopenIn = rng.range(2, 6);
        if (hex(C.app.appHash) !== hex(A.appHash)) problem(`height ${h}: C reopened with app hash ${hex(C.app.appHash)}`);
      }
      if (rng.chance(0.5)) node('D').app.checkpoint();

      views = nextViews;
      stepTruth();
      stats.heights++;
      if (o.verbose && (i % 25 === 0 || (h >= CREATE_AT - 1n && h <= CREATE_AT + 3n))) console.log(`height ${h}: ${decided.txs.length} txs, round ${decided.round}, BTC ${A.keepers.prices.price(A.state, 0)}, ETH ${A.keepers.prices.price(A.state, 1)}, SOL ${A.keepers.prices.getPrice(A.state, 2)?.price ?? "-"} (h${A.keepers.prices.getPrice(A.state, 2)?.updatedHeight ?? "-"}), problems ${stats.problems.length}`);
      if (stats.problems.length > 30) break;
    }
    stats.finalAppHash = hex(node('A').app.appHash);
  } finally {
    for (const n of nodes) n.app.close();
    await pool.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  return stats;
}

// ------------------------------------------------------------------ CLI
if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, def: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
  };
  const s = await runVe({ blocks: Number(arg('blocks', '300')), seed: Number(arg('seed', '1')), txsPerBlock: Number(arg('txs', '8')), verbose: process.argv.includes('--verbose') });
  console.log(
    `heights ${s.heights}, rounds ${s.rounds}, txs ${s.txs} (${s.okTxs} ok), price moves from votes ${s.priceMovesFromVotes}, oracle-less blocks ${s.oracleLessBlocks}, ` +
      `byzantine extensions ${s.byzantineExtensions}, late votes ${s.lateVotes}, C reopens ${s.reopens}, C crashes ${s.crashes}, B abandons ${s.abandons}, liquidations ${s.liquidations}`,
  );
  for (const [k, v] of [...s.adversarial].sort()) console.log(`  adversarial: ${k}: ${v.tried}× → ${v.status}`);
  console.log(`final app hash ${s.finalAppHash}`);
  if (s.problems.length) console.log(`PROBLEMS (${s.problems.length}):\n  ${[...new Set(s.problems)].slice(0, 40).join('\n  ')}`);
  else console.log('OK');
  process.exit(s.problems.length ? 1 : 0);
}
