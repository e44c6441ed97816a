/**
 * Helpers of bench/foundation.bench.ts (and bench/orders.bench.ts): pre-signed MsgSend txs (native
 * TestKey signer, so signing stays out of every measurement), Apps on
 * temporary sqlite files, and synthetic large states written straight
 * through the store layer (SqliteStore + MerkleIndex, the same code the App
 * uses) so a 1,000,000-account state takes seconds to build, not a genesis
 * of hours.
 */
import { hash } from 'node:crypto';
import { bech32 } from 'bech32';
import Database from 'better-sqlite3';
import { App, decodeBlockRecord, encodeBlockRecord } from '../../chain/app.js';
import { encodeInt, decodeInt } from '../../chain/codec/amount.js';
import { MerkleIndex, leafHash, withLeafHashes } from '../../chain/store/merkle.js';
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

/**
 * Open an App on `dbPath` and InitChain it with the keys funded (and block 1
 * committed, so account numbers are fixed); `appState` adds genesis sections
 * (e.g. markets and prices).
 */
export function newApp(dbPath: string, keys: readonly TestKey[], verifyPool?: VerifyPool, appState: Record<string, unknown> = {}): App {
  const app = App.open({ dbPath, ...(verifyPool ? { verifyPool } : {}) });
  app.initChain({
    chainId: CHAIN_ID,
    timeNs: GENESIS_NS,
    initialHeight: 1n,
    appStateBytes: Buffer.from(JSON.stringify(genesisFor(keys, FUNDS, appState))),
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
 * A synthetic large state on disk, grown through the store layer: it keeps a
 * MerkleIndex in step with the sqlite file, so growing by n accounts costs
 * O(n) (no reload of the whole state) and the file always holds a state
 * that hashes to its committed app hash (App.open checks that).
 */
export class SyntheticState {
  readonly merkle = new MerkleIndex();
  private next: bigint;
  private supply: bigint;
  /** Account number of synthetic account 0 (account i has firstNumber + i). */
  private firstNumber: bigint;
  /** Synthetic accounts 0 … count−1 exist. */
  count = 0;

  constructor(readonly dbPath: string) {
    const db = new SqliteStore(dbPath);
    db.checkpoint(); // merge the App's change log into kv: this class reads and writes kv directly
    for (const row of db.loadAll()) this.merkle.loadLeaf(row.key, row.leaf);
    this.merkle.rebuild();
    if (!this.merkle.root().equals(db.lastCommitted().appHash)) throw new Error('synthetic state: the file does not hash to its app hash');
    db.close();
    const raw = new Database(dbPath, { readonly: true });
    const get = (k: string): Buffer => (raw.prepare('SELECT value FROM kv WHERE key = ?').get(k) as { value: Buffer }).value;
    this.next = decodeInt(get('auth/next/'));
    this.firstNumber = this.next;
    this.supply = decodeInt(get('bank/supply/'));
    raw.close();
  }

  /** Write `changes` (and the new app hash) in one Commit-shaped sqlite transaction; returns [merkle ms, sqlite ms]. */
  write(db: SqliteStore, changes: Array<[string, Uint8Array | null]>): [number, number] {
    changes.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let t = now();
    // as the App does: each leaf hashed once, for the Merkle update and for the sqlite rows
    const withLeaves = withLeafHashes(changes);
    this.merkle.updateLeaves(withLeaves);
    const appHash = this.merkle.root();
    const merkleMs = now() - t;
    t = now();
    // (the synthetic commits reuse the last height: its block record takes the new hash, as the node's
    // start-up check of the committed hash against the block log expects)
    const height = db.lastCommitted().height;
    const rec = db.block(height);
    db.commit({ height, appHash, changes: withLeaves, ...(rec ? { blockRecord: encodeBlockRecord(decodeBlockRecord(rec), appHash) } : {}) });
    const sqliteMs = now() - t;
    // The change log is keyed by height and these synthetic commits reuse one: merge each at once
    // (untimed here; the App path in restart-child.ts times the node's checkpoint separately).
    db.checkpoint();
    return [merkleMs, sqliteMs];
  }

  /**
   * Grow to `total` synthetic accounts (an auth account and a bank balance each), keeping supply and
   * the next account number right. New keys go to sqlite in batches and into the Merkle index as
   * bulk-loaded leaves, hashed once at the end (rehashing every bucket per batch would dominate).
   */
  grow(total: number, balance = 1_000_000n): void {
    if (this.count >= total) return;
    this.supply += BigInt(total - this.count) * balance;
    const db = new SqliteStore(this.dbPath);
    const { height, appHash } = db.lastCommitted();
    const bal = encodeInt(balance);
    while (this.count < total) {
      const changes: Array<[string, Uint8Array, Uint8Array]> = [];
      const end = Math.min(total, this.count + 100_000);
      for (let i = this.count; i < end; i++) {
        const address = syntheticAddress(i);
        const acc = encodeAccount({ address, pubKey: undefined, accountNumber: this.next++, sequence: 0n });
        changes.push([`auth/acc/${address}`, acc, leafHash(`auth/acc/${address}`, acc)]);
        changes.push([`bank/bal/${address}`, bal, leafHash(`bank/bal/${address}`, bal)]);
      }
      this.count = end;
      changes.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      db.commit({ height, appHash, changes }); // (the app hash is fixed below)
      db.checkpoint(); // the change log is keyed by height, which stays the same here
      for (const [k, , leaf] of changes) this.merkle.loadLeaf(k, leaf);
    }
    this.merkle.rebuild();
    db.close();
    const final = new SqliteStore(this.dbPath);
    this.write(final, [
      ['auth/next/', encodeInt(this.next)],
      ['bank/supply/', encodeInt(this.supply)],
    ]);
    final.close();
  }

  /**
   * A Commit-sized change set written through the store layer: n distinct keys of random synthetic
   * accounts (balances and accounts, as sends change them); returns [merkle ms, sqlite ms].
   */
  touch(n: number, rng: { int(n: number): number }, db: SqliteStore): [number, number] {
    if (n > 2 * this.count) throw new Error(`cannot change ${n} distinct keys of ${this.count} accounts`);
    const changes = new Map<string, Uint8Array>();
    // (bank supply is not kept equal to Σ balances here: no invariant runs in the benchmark)
    while (changes.size < n) {
      const i = rng.int(this.count);
      const address = syntheticAddress(i);
      if (rng.int(2) === 0) changes.set(`bank/bal/${address}`, encodeInt(BigInt(1 + rng.int(1_000_000_000))));
      else changes.set(`auth/acc/${address}`, encodeAccount({ address, pubKey: undefined, accountNumber: this.firstNumber + BigInt(i), sequence: BigInt(1 + rng.int(1000)) }));
    }
    return this.write(db, [...changes.entries()]);
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
