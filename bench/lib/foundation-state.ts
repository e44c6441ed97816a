/**
 * Helpers of bench/foundation.bench.ts: pre-signed MsgSend txs (native
 * TestKey signer, so signing stays out of every measurement), Apps on
 * temporary sqlite files, and synthetic large states written straight
 * through the store layer (SqliteStore + MerkleIndex, the same code the App
 * uses) so a 1,000,000-account state takes seconds to build, not a genesis
 * of hours.
 */
import { hash } from 'node:crypto';
import { bech32 } from 'bech32';
import Database from 'better-sqlite3';
import { App } from '../../chain/app.js';
import { encodeInt, decodeInt } from '../../chain/codec/amount.js';
import { MerkleIndex, leafHash } from '../../chain/store/merkle.js';
import { SqliteStore } from '../../chain/store/sqlite.js';
import type { ConsensusParams, FinalizeBlockRequest } from '../../chain/types.js';
import type { VerifyPool } from '../../chain/crypto/verify-pool.js';
import { encodeAccount } from '../../modules/auth/keeper.js';
import { genesisFor } from '../../test/helpers/chain.js';
import type { TestKey } from '../../test/helpers/keys.js';
import { buildTx, msgSendAny } from '../../test/helpers/rawtx.js';

export const CHAIN_ID = 'perpchain-bench-foundation';
export const GENESIS_NS = 1_767_225_600_000_000_000n;
/** No block gas limit: block size is set by the bench, not by gas. */
export const PARAMS: ConsensusParams = { block: { maxBytes: 200_000_000n, maxGas: -1n }, abci: { voteExtensionsEnableHeight: 0n } };
/** A MsgSend uses ~25–35k gas; 60k leaves room and costs a 60 uusdc fee. */
export const TX_GAS = 60_000n;
export const FUNDS = 1_000_000_000_000n;

export function now(): number {
  return performance.now();
}

/** Open an App on `dbPath` and InitChain it with the keys funded (and block 1 committed, so account numbers are fixed). */
export function newApp(dbPath: string, keys: readonly TestKey[], verifyPool?: VerifyPool): App {
  const app = App.open({ dbPath, ...(verifyPool ? { verifyPool } : {}) });
  app.initChain({
    chainId: CHAIN_ID,
    timeNs: GENESIS_NS,
    initialHeight: 1n,
    appStateBytes: Buffer.from(JSON.stringify(genesisFor(keys, FUNDS))),
    consensusParams: PARAMS,
  });
  app.finalizeBlock(blockReq(1n, []));
  app.commit();
  return app;
}

export function blockReq(height: bigint, txs: Uint8Array[]): FinalizeBlockRequest {
  return { txs, height, timeNs: GENESIS_NS + height * 1_000_000_000n, hash: new Uint8Array(32), proposerAddress: new Uint8Array(20) };
}

/**
 * `rounds` × keys.length signed MsgSends: in round r every key sends (sequence
 * startSeq + r) to a recipient chosen by `to(keyIndex, round)`. Returned in
 * round order, so any cut into consecutive blocks keeps each signer's
 * sequences in order.
 */
export function signSends(o: {
  keys: readonly TestKey[];
  accountNumbers: readonly bigint[];
  startSeq?: readonly bigint[];
  rounds: number;
  to: (k: number, round: number) => string;
}): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let r = 0; r < o.rounds; r++) {
    for (let k = 0; k < o.keys.length; k++) {
      const key = o.keys[k]!;
      const sequence = (o.startSeq?.[k] ?? 0n) + BigInt(r);
      out.push(
        buildTx({
          messages: [msgSendAny(key.address, o.to(k, r), String(1 + ((k + r) % 1000)))],
          signers: [{ key, sequence }],
          chainId: CHAIN_ID,
          accountNumber: o.accountNumbers[k]!,
          gas: TX_GAS,
        }).bytes,
      );
    }
  }
  return out;
}

export function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** A deterministic synthetic address (no key behind it: it only receives). */
export function syntheticAddress(i: number): string {
  return bech32.encode('perp', bech32.toWords(hash('sha256', `synthetic-account-${i}`, 'buffer').subarray(0, 20)));
}

/**
 * Add accounts [from, to) (auth account + bank balance each) to the
 * committed state on disk, keep bank supply and the next account number
 * consistent, and recompute the app hash from every leaf (so App.open finds
 * a state that hashes to its committed app hash). The App must be closed.
 */
export function addSyntheticAccounts(dbPath: string, from: number, to: number, balance = 1_000_000n): void {
  const raw = new Database(dbPath, { readonly: true });
  const get = (k: string): Buffer | undefined => (raw.prepare('SELECT value FROM kv WHERE key = ?').get(k) as { value: Buffer } | undefined)?.value;
  let next = decodeInt(get('auth/next/')!);
  const supply = decodeInt(get('bank/supply/')!);
  raw.close();

  const db = new SqliteStore(dbPath);
  const { height } = db.lastCommitted();
  const bal = encodeInt(balance);
  const BATCH = 100_000;
  for (let start = from; start < to; start += BATCH) {
    const changes: Array<[string, Uint8Array | null, Uint8Array | null]> = [];
    for (let i = start; i < Math.min(to, start + BATCH); i++) {
      const address = syntheticAddress(i);
      const acc = encodeAccount({ address, pubKey: undefined, accountNumber: next++, sequence: 0n });
      changes.push([`auth/acc/${address}`, acc, leafHash(`auth/acc/${address}`, acc)]);
      changes.push([`bank/bal/${address}`, bal, leafHash(`bank/bal/${address}`, bal)]);
    }
    db.commit({ height, appHash: db.lastCommitted().appHash, changes });
  }
  const nextV = encodeInt(next);
  const supplyV = encodeInt(supply + BigInt(to - from) * balance);
  db.commit({
    height,
    appHash: db.lastCommitted().appHash,
    changes: [
      ['auth/next/', nextV, leafHash('auth/next/', nextV)],
      ['bank/supply/', supplyV, leafHash('bank/supply/', supplyV)],
    ],
  });
  const m = new MerkleIndex();
  for (const row of db.loadAll()) m.loadLeaf(row.key, row.leaf);
  m.rebuild();
  db.commit({ height, appHash: m.root(), changes: [] });
  db.close();
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
