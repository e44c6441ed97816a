/**
 * Oracle prices from CometBFT vote extensions (ABCI 2.0):
 *   ExtendVote            — this validator's prices, a VoteExtension{prices}
 *   VerifyVoteExtension   — decode, size cap, sane prices; nothing else
 *   PrepareProposal       — the proposer injects the previous height's
 *                           extended commit as MsgInjectPrices (tx 0)
 *   ProcessProposal       — every node checks tx 0 against the trusted
 *                           proposed_last_commit and the validators' keys
 *   FinalizeBlock         — the prices module applies, per market reported
 *                           by more than 2/3 of the voting power, the
 *                           stake-weighted median (lower) of valid votes
 * See docs/cometbft.md and the ABCI reference §9.
 */
import { createPublicKey, hash, verify as edVerify } from 'node:crypto';
import { perpchain } from '../../proto/gen/perpchain.js';
import { toLong } from '../codec/long.js';
import { toBigInt } from '../codec/amount.js';
import { verifySecp256k1 } from '../crypto/secp256k1.js';
import type { ExtendedCommitInfo, CommitInfo } from '../types.js';

export const MAX_VOTE_EXTENSION_BYTES = 8 * 1024;
export const MAX_PRICES_PER_EXTENSION = 256;
export const BLOCK_ID_FLAG_COMMIT = 2;
const MAX_PRICE = BigInt(Number.MAX_SAFE_INTEGER);

export interface PriceReport {
  marketId: number;
  price: bigint;
}

export function encodeVoteExtension(prices: readonly PriceReport[]): Uint8Array {
  return perpchain.prices.v1.VoteExtension.encode({ prices: prices.map((p) => ({ marketId: p.marketId, price: toLong(p.price) })) }).finish();
}

/** Decode and check a vote extension's content; undefined when malformed (the reason in `why`). */
export function decodeVoteExtension(b: Uint8Array, knownMarket: (id: number) => boolean, why?: (reason: string) => void): PriceReport[] | undefined {
  if (b.length > MAX_VOTE_EXTENSION_BYTES) return void why?.(`extension of ${b.length} bytes exceeds ${MAX_VOTE_EXTENSION_BYTES}`);
  let m: perpchain.prices.v1.VoteExtension;
  try {
    m = perpchain.prices.v1.VoteExtension.decode(b);
  } catch (e) {
    return void why?.(`undecodable: ${(e as Error).message}`);
  }
  if (m.prices.length > MAX_PRICES_PER_EXTENSION) return void why?.('too many prices');
  const seen = new Set<number>();
  const out: PriceReport[] = [];
  for (const r of m.prices) {
    const id = r.marketId ?? 0;
    const price = toBigInt(r.price);
    if (seen.has(id)) return void why?.(`market ${id} twice`);
    seen.add(id);
    if (!knownMarket(id)) return void why?.(`unknown market ${id}`);
    if (price <= 0n || price > MAX_PRICE) return void why?.(`price ${price} out of range`);
    out.push({ marketId: id, price });
  }
  return out;
}

/** CometBFT's sign bytes of a vote extension: uvarint(len) ‖ CanonicalVoteExtension{extension, height, round, chain_id}. */
export function voteExtensionSignBytes(extension: Uint8Array, height: bigint, round: number, chainId: string): Uint8Array {
  const bytes: Uint8Array[] = [];
  const push = (b: Uint8Array) => bytes.push(b);
  if (extension.length) push(Buffer.concat([Buffer.from([0x0a]), uvarint(extension.length), Buffer.from(extension)]));
  if (height !== 0n) {
    const b = Buffer.alloc(9);
    b[0] = 0x11;
    b.writeBigInt64LE(height, 1);
    push(b);
  }
  if (round !== 0) {
    const b = Buffer.alloc(9);
    b[0] = 0x19;
    b.writeBigInt64LE(BigInt(round), 1);
    push(b);
  }
  if (chainId.length) {
    const c = Buffer.from(chainId, 'utf8');
    push(Buffer.concat([Buffer.from([0x22]), uvarint(c.length), c]));
  }
  const body = Buffer.concat(bytes);
  return Buffer.concat([uvarint(body.length), body]);
}

function uvarint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

export interface ValidatorKey {
  type: 'ed25519' | 'secp256k1';
  pubKey: Uint8Array;
  power: bigint;
}

/** CometBFT address of a consensus key: sha256(pub)[:20] for ed25519, ripemd160(sha256(pub)) for secp256k1. */
export function validatorAddress(v: Pick<ValidatorKey, 'type' | 'pubKey'>): Uint8Array {
  const sha = hash('sha256', v.pubKey, 'buffer');
  return v.type === 'ed25519' ? sha.subarray(0, 20) : hash('ripemd160', sha, 'buffer');
}

const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');

export function verifyExtensionSignature(v: ValidatorKey, signBytes: Uint8Array, sig: Uint8Array): boolean {
  if (v.type === 'ed25519') {
    if (v.pubKey.length !== 32 || sig.length !== 64) return false;
    try {
      const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI, Buffer.from(v.pubKey)]), format: 'der', type: 'spki' });
      return edVerify(null, signBytes, key, sig);
    } catch {
      return false;
    }
  }
  return verifySecp256k1(sig, hash('sha256', signBytes, 'buffer'), v.pubKey) === 'ok';
}

export interface InjectedVote {
  validatorAddress: Uint8Array;
  power: bigint;
  blockIdFlag: number;
  voteExtension: Uint8Array;
  extensionSignature: Uint8Array;
}

/**
 * Build the injected commit from the proposer's local_last_commit, keeping
 * every vote's position, address, power and flag (ProcessProposal compares
 * them with proposed_last_commit) but blanking extensions that fail the
 * validators' own checks (late votes may never have been verified).
 *
 * An empty extension with a valid signature is kept: it is a validator's
 * signed "no prices", and it counts toward the 2/3 of voting power that
 * checkInjected requires behind the carried extensions. When the kept
 * extensions hold 2/3 of the power or less, all of them are blanked (an
 * oracle-less block), so what an honest proposer builds is always accepted
 * by ProcessProposal (ABCI: ProcessProposal must accept an honest
 * PrepareProposal's block, or the height never ends).
 */
export function injectedVotes(
  local: ExtendedCommitInfo,
  height: bigint,
  chainId: string,
  keyOf: (address: Uint8Array) => ValidatorKey | undefined,
  knownMarket: (id: number) => boolean,
): InjectedVote[] {
  let total = 0n;
  let kept = 0n;
  const votes = local.votes.map((v) => {
    total += v.power;
    const keep =
      v.blockIdFlag === BLOCK_ID_FLAG_COMMIT &&
      v.extensionSignature.length > 0 &&
      decodeVoteExtension(v.voteExtension, knownMarket) !== undefined &&
      (() => {
        const k = keyOf(v.validatorAddress);
        return k !== undefined && verifyExtensionSignature(k, voteExtensionSignBytes(v.voteExtension, height, local.round, chainId), v.extensionSignature);
      })();
    if (keep) kept += v.power;
    return {
      validatorAddress: v.validatorAddress,
      power: v.power,
      blockIdFlag: v.blockIdFlag,
      voteExtension: keep ? v.voteExtension : new Uint8Array(),
      extensionSignature: keep ? v.extensionSignature : new Uint8Array(),
    };
  });
  if (kept * 3n > total * 2n) return votes;
  return votes.map((v) => ({ ...v, voteExtension: new Uint8Array(), extensionSignature: new Uint8Array() }));
}

/**
 * Leave extensions out of an injected commit until it is `excess` bytes
 * smaller (null: leave all of them out). The largest go first, each only
 * while more than 2/3 of the power stays behind the extensions kept, since
 * checkInjected requires that of any carried set; when the budget cannot be
 * met that way, all are left out (an oracle-less block is always accepted).
 * A padded extension (unknown protobuf fields, within the per-vote limit)
 * from enough validators could otherwise outgrow the block and leave no
 * proposal that ProcessProposal accepts. The byte count is the extension and
 * signature fields' own bytes: a lower bound of what the encoding saves,
 * so the caller encodes again and falls back to null if it still does not fit.
 */
export function fitInjectedVotes(votes: readonly InjectedVote[], excess: bigint | null): InjectedVote[] {
  const blank = (v: InjectedVote): InjectedVote => ({ ...v, voteExtension: new Uint8Array(), extensionSignature: new Uint8Array() });
  if (excess === null) return votes.map(blank);
  let total = 0n;
  let kept = 0n;
  for (const v of votes) {
    total += v.power;
    if (v.extensionSignature.length > 0) kept += v.power;
  }
  const cost = (v: InjectedVote) => BigInt(v.voteExtension.length + v.extensionSignature.length);
  const order = votes.map((v, i) => i).filter((i) => votes[i]!.extensionSignature.length > 0);
  order.sort((a, b) => {
    const d = cost(votes[b]!) - cost(votes[a]!);
    return d > 0n ? 1 : d < 0n ? -1 : a - b;
  });
  const out = [...votes];
  let saved = 0n;
  for (const i of order) {
    if (saved >= excess) break;
    const v = votes[i]!;
    if ((kept - v.power) * 3n <= total * 2n) continue;
    out[i] = blank(v);
    kept -= v.power;
    saved += cost(v);
  }
  return saved >= excess ? out : votes.map(blank);
}

/**
 * ProcessProposal's check of an injected commit (returns a reason when it
 * must be rejected): same round and votes as the trusted proposed_last_commit
 * (address, power, flag, position), every carried extension well formed and
 * signed by its validator's key (an empty extension too: a signed "no
 * prices"), and more than 2/3 of the power behind those signed extensions —
 * or none at all (an oracle-less block is allowed).
 */
export function checkInjected(
  m: { height: bigint; round: number; votes: InjectedVote[] },
  trusted: CommitInfo,
  expectedHeight: bigint,
  chainId: string,
  keyOf: (address: Uint8Array) => ValidatorKey | undefined,
  knownMarket: (id: number) => boolean,
): string | undefined {
  if (m.height !== expectedHeight) return `votes for height ${m.height}, expected ${expectedHeight}`;
  if (m.round !== trusted.round) return `round ${m.round}, commit round ${trusted.round}`;
  if (m.votes.length !== trusted.votes.length) return `${m.votes.length} votes, commit has ${trusted.votes.length}`;
  let total = 0n;
  let withExt = 0n;
  const seen = new Set<string>();
  for (let i = 0; i < m.votes.length; i++) {
    const v = m.votes[i]!;
    const t = trusted.votes[i]!;
    const addr = Buffer.from(v.validatorAddress).toString('hex');
    if (seen.has(addr)) return `validator ${addr} twice`;
    seen.add(addr);
    if (!Buffer.from(t.validatorAddress).equals(v.validatorAddress) || t.power !== v.power || t.blockIdFlag !== v.blockIdFlag) return `vote ${i} differs from the commit`;
    total += t.power;
    if (v.voteExtension.length === 0 && v.extensionSignature.length === 0) continue;
    if (v.blockIdFlag !== BLOCK_ID_FLAG_COMMIT) return `vote ${i} is not a commit but carries an extension`;
    const k = keyOf(v.validatorAddress);
    if (!k) return `vote ${i}: unknown validator ${addr}`;
    if (decodeVoteExtension(v.voteExtension, knownMarket) === undefined) return `vote ${i}: malformed extension`;
    if (!verifyExtensionSignature(k, voteExtensionSignBytes(v.voteExtension, m.height, m.round, chainId), v.extensionSignature)) return `vote ${i}: bad extension signature`;
    withExt += t.power;
  }
  if (withExt > 0n && withExt * 3n <= total * 2n) return `extensions carry ${withExt} of ${total} voting power (need more than 2/3)`;
  return undefined;
}

/**
 * Per market reported by more than 2/3 of the commit's total power: the
 * stake-weighted lower median of the reported prices (sorted by price; the
 * first price at which the cumulative power reaches half the reporting power).
 */
export function aggregatePrices(votes: ReadonlyArray<{ power: bigint; blockIdFlag: number; voteExtension: Uint8Array }>, knownMarket: (id: number) => boolean): PriceReport[] {
  let total = 0n;
  const byMarket = new Map<number, Array<{ price: bigint; power: bigint }>>();
  for (const v of votes) {
    total += v.power;
    if (v.blockIdFlag !== BLOCK_ID_FLAG_COMMIT || v.voteExtension.length === 0) continue;
    const prices = decodeVoteExtension(v.voteExtension, knownMarket);
    if (!prices) continue;
    for (const p of prices) {
      const list = byMarket.get(p.marketId) ?? [];
      list.push({ price: p.price, power: v.power });
      byMarket.set(p.marketId, list);
    }
  }
  const out: PriceReport[] = [];
  for (const id of [...byMarket.keys()].sort((a, b) => a - b)) {
    const list = byMarket.get(id)!.sort((a, b) => (a.price < b.price ? -1 : a.price > b.price ? 1 : 0));
    const reporting = list.reduce((s, x) => s + x.power, 0n);
    if (reporting * 3n <= total * 2n) continue;
    let acc = 0n;
    for (const x of list) {
      acc += x.power;
      if (acc * 2n >= reporting) {
        out.push({ marketId: id, price: x.price });
        break;
      }
    }
  }
  return out;
}

export function injectedFromProto(m: perpchain.prices.v1.IMsgInjectPrices): { height: bigint; round: number; votes: InjectedVote[] } {
  return {
    height: toBigInt(m.height),
    round: m.round ?? 0,
    votes: (m.votes ?? []).map((v) => ({
      validatorAddress: v.validatorAddress ?? new Uint8Array(),
      power: toBigInt(v.power),
      blockIdFlag: v.blockIdFlag ?? 0,
      voteExtension: v.voteExtension ?? new Uint8Array(),
      extensionSignature: v.extensionSignature ?? new Uint8Array(),
    })),
  };
}

export function injectedToProto(height: bigint, round: number, votes: InjectedVote[]): perpchain.prices.v1.IMsgInjectPrices {
  return {
    height: toLong(height),
    round,
    votes: votes.map((v) => ({ validatorAddress: v.validatorAddress, power: toLong(v.power), blockIdFlag: v.blockIdFlag, voteExtension: v.voteExtension, extensionSignature: v.extensionSignature })),
  };
}
