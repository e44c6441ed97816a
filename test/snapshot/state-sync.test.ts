import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../chain/app.js';
import { SnapshotStore, type SnapshotInfo } from '../../chain/snapshot/store.js';
import { SqliteStore } from '../../chain/store/sqlite.js';
import { GROUPS, bucketOf, groupHash, groupOf, leafHash, rootOfGroups } from '../../chain/store/merkle.js';
import { MAX_UNCHECKED_BYTES } from '../../chain/snapshot/restorer.js';
import { verifyChain } from '../../chain/verify/index.js';
import { Snapshotter } from '../../chain/snapshot/snapshotter.js';
import { ChunkWriter, decodeMetadata, encodeMetadata, sha256 } from '../../chain/snapshot/format.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { ApiServer, type SubmitResult } from '../../chain/api/index.js';
import { TEST_CHAIN_ID, TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { btc, depositMsg, eventsOf, placeMsg, usd } from '../helpers/orders.js';
import type { FinalizeBlockResult } from '../../chain/types.js';

/**
 * State sync through the App's four snapshot calls (the ABCI handler maps them one to one): a serving node
 * snapshots a chain with balances, positions and resting orders every 5 blocks while it keeps committing; an
 * empty node restores from the chunks, arrives at the same height and app hash, and then runs the next
 * blocks (a taker filling a resting order, so the rebuilt order book is exercised) to the same hashes, also
 * after a restart. Then what a bad peer or a wrong offer gets. Devnet markets: BTC-USD at $65,000.
 */
const keys = testKeys(5, 'state-sync');
const [authority, feeder, alice, bob, carol] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey];
const appState = marketsAppState(authority.address, [feeder.address]);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'perpchain-state-sync-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface Serving {
  chain: TestChain;
  store: SnapshotStore;
  snapshotter: Snapshotter;
  logs: string[];
  /** Every committed block: its txs, time and app hash (to replay on the restored node). */
  blocks: Map<bigint, { txs: Uint8Array[]; timeNs: bigint; appHash: Uint8Array }>;
  block(txs?: Uint8Array[]): Promise<FinalizeBlockResult>;
}

/** A node with a sqlite store that snapshots every `interval` blocks, in small chunks and slices (so a snapshot spans several blocks). */
function serving(name: string, interval = 5, keepRecent = 2): Serving {
  const store = new SnapshotStore(join(dir, name, 'snapshots'));
  const dbPath = join(dir, name, 'state.db');
  mkdirSync(join(dir, name), { recursive: true });
  const chain = TestChain.create({ keys, balance: 10_000_000_000_000n, appState, dbPath, snapshots: store });
  const logs: string[] = [];
  const snapshotter = new Snapshotter({ store, dbPath, interval, keepRecent, chainId: () => chain.app.chainId, initialHeight: () => chain.app.initialHeight, log: (l) => logs.push(l), chunkBytes: 512, sliceEntries: 5 });
  chain.app.onCommit((b) => snapshotter.onCommit(b.height));
  const blocks = new Map<bigint, { txs: Uint8Array[]; timeNs: bigint; appHash: Uint8Array }>();
  return {
    chain,
    store,
    snapshotter,
    logs,
    blocks,
    async block(txs = []) {
      const r = chain.block(txs);
      blocks.set(chain.app.height, { txs, timeNs: chain.timeNs, appHash: r.appHash });
      // one event-loop turn between blocks, as a node has: the snapshot advances a slice
      await new Promise<void>((resolve) => setImmediate(resolve));
      return r;
    },
  };
}

/** Deposits, resting orders on both sides, and a fill: state in every module. */
async function trade(s: Serving): Promise<void> {
  const c = s.chain;
  await s.block();
  await s.block(await Promise.all([alice, bob, carol].map((k) => c.sign(k, [depositMsg(k.address, 100_000_000_000n)]))));
  await s.block([
    await c.sign(alice, [placeMsg(alice.address, { clientId: 1, side: 'sell', price: usd(66_000), size: btc(0.02) })]),
    await c.sign(bob, [placeMsg(bob.address, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.02) })]),
  ]);
  await s.block([await c.sign(carol, [placeMsg(carol.address, { clientId: 1, side: 'buy', tif: 'ioc', price: usd(66_000), size: btc(0.005) })])]);
}

/** A serving node at height 5 with its snapshot of height 5 written, and the app hash of that height. */
async function snapshotAt5(): Promise<{ a: Serving; snap: SnapshotInfo; trusted: Uint8Array }> {
  const a = serving('a');
  await trade(a);
  await a.block();
  await a.snapshotter.idle();
  return { a, snap: a.store.snapshots()[0]!, trusted: a.blocks.get(5n)!.appHash };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** What CometBFT checks after state sync: Info's height and app hash. */
const at = (app: App) => ({ height: app.info().lastBlockHeight, hash: hex(app.info().lastBlockAppHash) });

/** Restore `target` from `from`'s snapshot, chunk by chunk; returns the last chunk's outcome. */
function restore(target: App, from: App, snap: SnapshotInfo, trusted: Uint8Array) {
  expect(target.offerSnapshot(snap, trusted).result).toBe('accept');
  let last;
  for (let i = 0; i < snap.chunks; i++) {
    last = target.applySnapshotChunk(i, from.loadSnapshotChunk(snap.height, snap.format, i), 'peer-a');
    if (i < snap.chunks - 1) expect(last.result).toBe('accept');
  }
  return last!;
}

/** Run block `h` of the serving node on `app` and check the app hash. */
function replay(app: App, s: Serving, h: bigint): void {
  const b = s.blocks.get(h)!;
  const r = app.finalizeBlock({ txs: b.txs, height: h, timeNs: b.timeNs, hash: new Uint8Array(32), proposerAddress: new Uint8Array(20) });
  expect(r.txResults.map((t) => t.code)).toEqual(r.txResults.map(() => 0));
  expect(hex(r.appHash)).toBe(hex(b.appHash));
  app.commit();
}

describe('state sync', () => {
  it('an empty node restores a snapshot taken while blocks kept committing, then follows the chain and survives a restart', async () => {
    const a = serving('a');
    await trade(a);
    while (a.chain.app.height < 7n) await a.block(); // the snapshot of height 5 is cut while 6 and 7 commit
    await a.snapshotter.idle();
    const [snap] = a.store.snapshots();
    expect(snap).toMatchObject({ height: 5n, format: 1 });
    expect(snap!.chunks).toBeGreaterThan(3); // 512-byte chunks: the state does not fit in a few
    expect(a.logs.some((l) => /^snapshot of height 5: \d+ entries in \d+ chunks/.test(l))).toBe(true);

    const bPath = join(dir, 'b.db');
    let b = App.open({ dbPath: bPath, stateSyncChainId: TEST_CHAIN_ID });
    const done = restore(b, a.chain.app, snap!, a.blocks.get(5n)!.appHash);
    expect(done.result).toBe('accept');
    expect(done.restored?.height).toBe(5n);
    expect(at(b)).toEqual({ height: 5n, hash: hex(a.blocks.get(5n)!.appHash) });
    expect(b.chainId).toBe(TEST_CHAIN_ID);

    replay(b, a, 6n);
    replay(b, a, 7n);
    expect(b.exportGenesis()).toEqual(a.chain.app.exportGenesis());
    // a taker meets bob's resting bid, which the restored node knows only from the snapshot
    const taker = await a.chain.sign(carol, [placeMsg(carol.address, { clientId: 2, side: 'sell', tif: 'ioc', price: usd(64_000), size: btc(0.004) })]);
    const filled = await a.block([taker]);
    expect(eventsOf(expectOk(filled.txResults[0]!), 'clob.fill').length).toBeGreaterThan(0);
    replay(b, a, 8n);

    // restart: the restored state is on disk, with its height and hash
    b.close();
    b = App.open({ dbPath: bPath });
    expect(at(b)).toEqual({ height: 8n, hash: hex(a.blocks.get(8n)!.appHash) });
    await a.block([await a.chain.sign(alice, [placeMsg(alice.address, { clientId: 2, side: 'sell', price: usd(65_500), size: btc(0.001) })])]);
    replay(b, a, 9n);
    expect(b.exportGenesis()).toEqual(a.chain.app.exportGenesis());
    b.close();
    // `perpchain verify` replays from genesis, which a restored node cannot: it says so
    writeFileSync(join(dir, 'genesis.json'), '{}');
    expect(() => verifyChain({ db: bPath, genesis: join(dir, 'genesis.json') })).toThrow(/restored by state sync at height 5: it holds no blocks before that height/);
    await a.snapshotter.stop();
    a.chain.app.close();
  });

  it("the API, started before the node was state-synced (perpchain abci), serves the restored state at once, not the empty one until the next block", async () => {
    const a = serving('a');
    await trade(a);
    await a.block();
    await a.snapshotter.idle();
    const snap = a.store.snapshots()[0]!;
    const b = App.open({ dbPath: join(dir, 'b.db'), stateSyncChainId: TEST_CHAIN_ID });
    const submitter = { kind: 'test', submit: async (): Promise<SubmitResult> => { throw new Error('unused'); } };
    const api = new ApiServer({ app: b, submitter, host: '127.0.0.1', port: 0, serveWeb: false });
    expect(api.feed.height).toBe(0);
    expect(restore(b, a.chain.app, snap, a.blocks.get(5n)!.appHash).result).toBe('accept');
    expect(api.feed.height).toBe(5);
    const id = api.feed.marketId('BTC-USD');
    expect(id).toBeDefined();
    // bob's resting bid and alice's resting ask (carol's ioc took 0.005 of the ask)
    const book = api.feed.bookSnapshot(id!);
    expect(book.bids.length).toBe(1);
    expect(book.asks.length).toBe(1);
    await api.close();
    b.close();
    await a.snapshotter.stop();
    a.chain.app.close();
  });

  it('a bad chunk is fetched again from another peer; a wrong app hash, a tampered or foreign snapshot is refused and leaves the node empty', async () => {
    const { a, snap, trusted } = await snapshotAt5();
    const chunk = (i: number) => Buffer.from(a.chain.app.loadSnapshotChunk(snap.height, snap.format, i));
    const c = App.open({ dbPath: join(dir, 'c.db'), stateSyncChainId: TEST_CHAIN_ID });

    expect(c.applySnapshotChunk(0, chunk(0), 'p').result).toBe('abort'); // nothing offered
    expect(c.offerSnapshot({ ...snap, format: 2 }, trusted).result).toBe('reject_format');
    expect(c.offerSnapshot({ ...snap, hash: Buffer.alloc(32, 7) }, trusted).result).toBe('reject'); // hash ≠ sha256(metadata)
    expect(c.offerSnapshot({ ...snap, chunks: snap.chunks + 1 }, trusted).result).toBe('reject');
    expect(c.offerSnapshot({ ...snap, metadata: snap.metadata.subarray(0, 20) }, trusted).result).toBe('reject');
    const other = App.open({ dbPath: join(dir, 'other.db'), stateSyncChainId: 'another-chain' });
    expect(other.offerSnapshot(snap, trusted)).toMatchObject({ result: 'reject', reason: expect.stringContaining('another-chain') });
    other.close();
    expect(a.chain.app.offerSnapshot(snap, trusted).result).toBe('abort'); // a node with state

    // a peer sends a chunk that is not the one the metadata names: refetched, that peer rejected
    expect(c.offerSnapshot(snap, trusted).result).toBe('accept');
    const bad = chunk(0);
    bad[bad.length - 1]! ^= 1;
    expect(c.applySnapshotChunk(0, bad, 'evil-peer')).toMatchObject({ result: 'retry', refetchChunks: [0], rejectSenders: ['evil-peer'] });
    expect(c.applySnapshotChunk(0, chunk(0), 'good-peer').result).toBe('accept');
    expect(c.applySnapshotChunk(2, chunk(2), 'good-peer').result).toBe('retry_snapshot'); // out of order: start over

    // a trusted hash the metadata's group hashes do not add up to: refused at the offer, before any chunk
    const wrong = Buffer.from(trusted);
    wrong[0]! ^= 1;
    expect(c.offerSnapshot(snap, wrong)).toMatchObject({ result: 'reject', reason: expect.stringMatching(/group hashes add up to [0-9A-F]{64}, the chain's app hash at height 5 is/) });
    expect(at(c)).toEqual({ height: 0n, hash: '' });
    expect(c.applySnapshotChunk(0, chunk(0), 'p').result).toBe('abort');

    // and then the right one
    expect(restore(c, a.chain.app, snap, trusted).result).toBe('accept');
    expect(at(c)).toEqual({ height: 5n, hash: hex(trusted) });
    c.close();
    await a.snapshotter.stop();
    a.chain.app.close();
  });

  it('the chain id and initial height are not in the app hash: a node that does not know its chain refuses state sync; one that does refuses an honest snapshot relabelled with another chain id or initial height', async () => {
    const { a, snap, trusted } = await snapshotAt5();
    // a peer serves the honest chunks under metadata of its own: they all match it, and the state hashes to the trusted app hash
    const metadata = encodeMetadata({ ...decodeMetadata(snap.metadata), chainId: 'evil-chain' });
    const relabelled: SnapshotInfo = { ...snap, metadata, hash: sha256(metadata) };
    const blind = App.open({ dbPath: join(dir, 'blind.db') });
    expect(blind.offerSnapshot(relabelled, trusted)).toMatchObject({ result: 'abort', reason: expect.stringContaining('does not know its chain id') });
    expect(blind.offerSnapshot(snap, trusted).result).toBe('abort'); // the honest one too: nothing to check it against
    expect(blind.height).toBe(0n);
    blind.close();
    const c = App.open({ dbPath: join(dir, 'c.db'), stateSyncChainId: TEST_CHAIN_ID, stateSyncInitialHeight: 1n });
    expect(c.offerSnapshot(relabelled, trusted)).toMatchObject({ result: 'reject', reason: expect.stringContaining('evil-chain') });
    // nor is the initial height (it would go into this node's own snapshots, unlike every honest node's)
    const moved = encodeMetadata({ ...decodeMetadata(snap.metadata), initialHeight: 2n });
    expect(c.offerSnapshot({ ...snap, metadata: moved, hash: sha256(moved) }, trusted)).toMatchObject({ result: 'reject', reason: 'snapshot says the chain began at height 2, this node\'s genesis says 1' });
    expect(restore(c, a.chain.app, snap, trusted).result).toBe('accept');
    expect(c.chainId).toBe(TEST_CHAIN_ID);
    c.close();
    await a.snapshotter.stop();
    a.chain.app.close();
  });

  it('a forged snapshot is refused at the first group it falsifies, its peers rejected: an entry added, a key twice, a flood of junk', async () => {
    const { a, trusted } = await snapshotAt5();
    const real: Array<[string, Uint8Array]> = [];
    const db = new SqliteStore(join(dir, 'a', 'state.db'), { readonly: true });
    db.beginSnapshot();
    expect(db.lastCommitted().height).toBe(5n);
    for (const r of db.loadAll()) real.push([r.key, r.value]);
    db.endSnapshot();
    db.close();
    const byBucket = (x: [string, Uint8Array], y: [string, Uint8Array]) => bucketOf(x[0]) - bucketOf(y[0]) || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0);
    /** The real state's group hashes: what a liar must put in the metadata for the offer to pass (they add up to the trusted hash). */
    const groupsOf = (entries: Array<[string, Uint8Array]>): Buffer => {
      const out = Buffer.alloc(GROUPS * 32);
      for (let g = 0; g < GROUPS; g++) {
        const mine = entries.filter(([k]) => groupOf(bucketOf(k)) === g).map(([k, v]) => [k, leafHash(k, v)] as const);
        groupHash(g, mine).copy(out, g * 32);
      }
      return out;
    };
    const honestGroups = groupsOf(real);
    expect(hex(rootOfGroups(honestGroups))).toBe(hex(trusted));
    /** A snapshot of `entries` (in the order given) whose chunk hashes match its chunks, as a lying peer would build it. */
    const forge = (entries: Array<[string, Uint8Array]>, groupHashes = honestGroups, chunkBytes = 512): { info: SnapshotInfo; chunks: Buffer[] } => {
      const cut = new ChunkWriter(chunkBytes);
      const chunks: Buffer[] = [];
      for (const [k, v] of entries) {
        const closed = cut.add(k, v);
        if (closed) chunks.push(closed);
      }
      chunks.push(cut.finish()!);
      const metadata = encodeMetadata({ chainId: TEST_CHAIN_ID, initialHeight: 1n, chunkHashes: chunks.map(sha256), groupHashes });
      return { info: { height: 5n, format: 1, chunks: chunks.length, hash: sha256(metadata), metadata }, chunks };
    };
    const run = (f: { info: SnapshotInfo; chunks: Buffer[] }) => {
      const c = App.open({ stateSyncChainId: TEST_CHAIN_ID });
      const offered = c.offerSnapshot(f.info, trusted);
      let out;
      let at = -1;
      for (let i = 0; offered.result === 'accept' && i < f.chunks.length; i++) {
        out = c.applySnapshotChunk(i, f.chunks[i]!, i % 2 ? 'liar-1' : 'liar-2');
        at = i;
        if (out.result !== 'accept') break;
      }
      return { offered, out: out!, at, c };
    };
    const honest = [...real].sort(byBucket);
    expect(run(forge(honest)).out.result).toBe('accept');

    // a balance the chain never had, in the first group that holds entries: refused at the chunk that completes that group
    const fake: [string, Uint8Array] = ['bank/bal/perp1zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz', Buffer.from('1000000000000')];
    const withFake = [...honest, fake].sort(byBucket);
    const f1 = forge(withFake);
    const r1 = run(f1);
    expect(r1.out).toMatchObject({ result: 'reject_snapshot', reason: expect.stringMatching(/entries of group \d+ hash to [0-9A-F]{64}, the metadata says/) });
    expect(r1.at).toBeLessThan(f1.chunks.length - 1); // caught on the way, not at the end
    expect(new Set(r1.out.rejectSenders)).toEqual(new Set(r1.at > 0 ? ['liar-1', 'liar-2'] : ['liar-2']));
    expect(r1.c.height).toBe(0n);
    // the same with group hashes that include it: they no longer add up to the trusted hash, so the offer is refused
    expect(run(forge(withFake, groupsOf([...real, fake]))).offered).toMatchObject({ result: 'reject', reason: expect.stringMatching(/group hashes add up to/) });

    // an entry twice: the same set of entries, so the same group hashes, but two rows for one key (the
    // store's insert would fail halfway through installing it)
    const twice = [...honest.slice(0, 4), honest[3]!, ...honest.slice(4)];
    const r2 = run(forge(twice));
    expect(r2.out).toMatchObject({ result: 'reject_snapshot', reason: expect.stringMatching(/does not come after/) });
    expect(r2.c.height).toBe(0n);

    // a flood of junk entries in one group (as if the state had millions): refused once the unchecked bytes pass the limit
    const g0 = groupOf(bucketOf(honest[0]![0]));
    const junk: Array<[string, Uint8Array]> = [];
    for (let i = 0; junk.length < 600; i++) {
      const k = `junk/k/${i}`;
      if (groupOf(bucketOf(k)) === g0) junk.push([k, Buffer.alloc(64 * 1024)]);
    }
    junk.sort(byBucket);
    const f3 = forge(junk, honestGroups, 4 * 2 ** 20);
    const r3 = run(f3);
    expect(r3.out).toMatchObject({ result: 'reject_snapshot', reason: expect.stringMatching(new RegExp(`group ${g0} passes ${MAX_UNCHECKED_BYTES} bytes before it can be checked`)) });
    expect(r3.at).toBeLessThan(f3.chunks.length - 1);
    await a.snapshotter.stop();
    a.chain.app.close();
  });

  it('two nodes snapshot the same height to the same chunks and hash; old snapshots are pruned; a partial one is cleaned up', async () => {
    const a = serving('a', 3, 2);
    const a2 = serving('a2', 3, 2);
    for (const s of [a, a2]) await trade(s);
    expect(hex(a2.blocks.get(4n)!.appHash)).toBe(hex(a.blocks.get(4n)!.appHash));
    for (const s of [a, a2]) {
      while (s.chain.app.height < 9n) {
        await s.block();
        await s.snapshotter.idle(); // (a snapshot height reached while one is being written would be skipped)
      }
    }
    const heights = (s: Serving) => s.store.snapshots().map((x) => x.height);
    expect(heights(a)).toEqual([9n, 6n]); // 3 was deleted
    expect(a.logs.some((l) => /deleted the one of height 3/.test(l))).toBe(true);
    const [x, y] = [a.store.snapshots()[0]!, a2.store.snapshots()[0]!];
    expect(hex(y.hash)).toBe(hex(x.hash));
    expect(hex(y.metadata)).toBe(hex(x.metadata));
    for (let i = 0; i < x.chunks; i++) expect(hex(a2.chain.app.loadSnapshotChunk(9n, 1, i))).toBe(hex(a.chain.app.loadSnapshotChunk(9n, 1, i)));
    expect(a.chain.app.loadSnapshotChunk(9n, 1, x.chunks).length).toBe(0); // no such chunk
    expect(a.chain.app.loadSnapshotChunk(3n, 1, 0).length).toBe(0); // pruned
    expect(readdirSync(a.store.dir).sort()).toEqual(['6-1', '9-1']);
    // a snapshot cut short by a crash is a .partial directory: removed when the store opens, never listed
    mkdirSync(join(a.store.dir, '.partial-12'));
    writeFileSync(join(a.store.dir, '.partial-12', '0.chunk'), 'x');
    const reopened = new SnapshotStore(a.store.dir);
    expect(reopened.snapshots().map((s) => s.height)).toEqual([9n, 6n]);
    expect(existsSync(join(a.store.dir, '.partial-12'))).toBe(false);
    for (const s of [a, a2]) {
      await s.snapshotter.stop();
      s.chain.app.close();
    }
  });

  it('a snapshot height reached while the last snapshot is still being written is skipped, with a log line', async () => {
    const a = serving('a', 1, 5);
    await trade(a); // a snapshot every block, and each takes more than one event-loop turn
    await a.snapshotter.idle();
    expect(a.logs.some((l) => /^snapshot of height \d+ skipped: the one of height \d+ is still being written/.test(l))).toBe(true);
    for (const s of a.store.snapshots()) expect(hex(s.hash)).toBe(hex(sha256(s.metadata)));
    await a.snapshotter.stop();
    a.chain.app.close();
  });
});
