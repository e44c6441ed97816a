/**
 * State sync end to end: real `perpchain abci` processes on unix sockets, the test playing CometBFT with
 * an independent codec (cosmjs-types' tendermint.abci, test/abci/client.ts), one connection per role
 * (consensus, snapshot, query) as CometBFT opens them.
 *
 * What it proves:
 *  - A node home made by `perpchain init` (its genesis padded with funded accounts so that the state spans
 *    two 4 MiB chunks and chunk indexes above 0 cross the socket), with `snapshots: { interval: 3, keep_recent: 1 }` in config/node.json, runs
 *    InitChain from its genesis file and blocks with real signed txs (deposits, a send, resting orders,
 *    fills), takes the snapshot of height 3 in the background, lists it over
 *    ListSnapshots, and keeps its files where chain/snapshot/README.md says:
 *    <home>/data/snapshots/3-1/manifest.json and <index>.chunk (what LoadSnapshotChunk serves).
 *  - An empty node (same genesis file, so the same chain id) refuses an offer whose trusted app hash the
 *    snapshot's group hashes do not add up to (REJECT before any chunk, Info still at height 0), then
 *    restores as CometBFT's state sync does: OfferSnapshot → ACCEPT, a chunk with one byte flipped from
 *    a bad peer → RETRY with refetch_chunks [index] and reject_senders [that peer], the right chunk from
 *    another peer → ACCEPT; Info then reports the snapshot height, app hash and app version (what
 *    CometBFT's verifyApp checks). No result is ever UNKNOWN.
 *  - The restored node runs the blocks after the snapshot height (the serving node's own FinalizeBlock
 *    requests, replayed; the first fills an order it knows only from the snapshot) to the same app hashes
 *    and tx results, takes its own snapshot of height 6 byte for byte equal to the serving node's (keep_recent
 *    1: the serving node's snapshot of height 3 is then deleted), and after a kill -9 and restart reports
 *    the same height and hash and follows the next block. Both then stop cleanly on SIGTERM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bech32 } from 'bech32';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import type { EncodeObject } from '@cosmjs/proto-signing';
import {
  ResponseApplySnapshotChunk_Result as ChunkResult,
  ResponseOfferSnapshot_Result as OfferResult,
  type RequestFinalizeBlock,
  type ResponseFinalizeBlock,
  type Snapshot,
} from 'cosmjs-types/tendermint/abci/types';
import { BlockIDFlag } from 'cosmjs-types/tendermint/types/validator';
import { homePaths, readDevAccounts, rfc3339ToNs, type GenesisDoc } from '../../chain/devnet/home.js';
import { feeFor, signTx } from '../../client/signing.js';
import { startProc, type Proc } from '../helpers/proc.js';
import { cancelMsg, depositMsg, eventsOf, placeMsg, sendMsg, btc, usd } from '../helpers/orders.js';
import { AbciTestClient } from '../abci/client.js';
import { blockHash, expectKind, hex, ts, VALIDATOR } from '../abci/harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'bin', 'perpchain.mjs');
const CHAIN_ID = 'perpchain-ss-e2e-1';
/** Genesis accounts added to the init genesis: ~170 bytes of state each, ~4.3 MB in all: two 4 MiB chunks. */
const PAD_ACCOUNTS = 25_500;
const INFO = { version: '0.38.25', blockVersion: 11n, p2pVersion: 8n, abciVersion: '2.0.0' };

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-ss-e2e-'));
const homeA = join(tmp, 'serving');
const homeB = join(tmp, 'restoring');
const procs = new Set<Proc>();
const clients: AbciTestClient[] = [];

afterAll(async () => {
  for (const c of clients) c.destroy();
  for (const p of procs) await p.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** A `perpchain abci` process and CometBFT's connections to it. */
interface Node {
  proc: Proc;
  cons: AbciTestClient;
  snap: AbciTestClient;
  query: AbciTestClient;
}

async function startNode(home: string, sock: string): Promise<Node> {
  const addr = `unix://${join(tmp, sock)}`;
  const proc = startProc(process.execPath, [cli, 'abci', '--home', home, '--addr', addr, '--no-api'], { cwd: root });
  procs.add(proc);
  await proc.waitFor(/abci server listening on/, 30_000);
  const [cons, snap, query] = await Promise.all([AbciTestClient.connect(addr), AbciTestClient.connect(addr), AbciTestClient.connect(addr)]);
  clients.push(cons, snap, query);
  return { proc, cons, snap, query };
}

async function stopNode(n: Node): Promise<void> {
  for (const c of [n.cons, n.snap, n.query]) c.destroy();
  await n.proc.kill('SIGKILL');
  procs.delete(n.proc);
}

async function info(n: Node): Promise<{ height: bigint; hash: string; appVersion: bigint }> {
  const r = await n.query.call({ info: INFO });
  expectKind(r, 'info');
  return { height: r.info!.lastBlockHeight, hash: hex(r.info!.lastBlockAppHash), appVersion: r.info!.appVersion };
}

async function listSnapshots(n: Node): Promise<Snapshot[]> {
  const r = await n.snap.call({ listSnapshots: {} });
  expectKind(r, 'listSnapshots');
  return r.listSnapshots!.snapshots;
}

async function loadChunk(n: Node, s: Snapshot, index: number): Promise<Uint8Array> {
  const r = await n.snap.call({ loadSnapshotChunk: { height: s.height, format: s.format, chunk: index } });
  expectKind(r, 'loadSnapshotChunk');
  return r.loadSnapshotChunk!.chunk;
}

/** Every snapshot result seen: none may be UNKNOWN (0), which CometBFT treats as a fatal error. */
const resultsSeen: number[] = [];

async function offer(n: Node, s: Snapshot, appHash: Uint8Array): Promise<OfferResult> {
  const r = await n.snap.call({ offerSnapshot: { snapshot: s, appHash } });
  expectKind(r, 'offerSnapshot');
  resultsSeen.push(r.offerSnapshot!.result);
  return r.offerSnapshot!.result;
}

async function applyChunk(n: Node, index: number, chunk: Uint8Array, sender: string) {
  const r = await n.snap.call({ applySnapshotChunk: { index, chunk, sender } });
  expectKind(r, 'applySnapshotChunk');
  resultsSeen.push(r.applySnapshotChunk!.result);
  return r.applySnapshotChunk!;
}

async function poll<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Peer ids as CometBFT names them (hex node ids). */
const PEER_A = 'a'.repeat(40);
const PEER_EVIL = 'e'.repeat(40);
const PEER_GOOD = 'b'.repeat(40);

describe('state sync over the ABCI socket between two `perpchain abci` processes', () => {
  let genesis: GenesisDoc;
  let genesisNs: bigint;
  let a: Node;
  let b: Node;
  /** The empty node starts while the serving node runs its genesis (the machine has few cores). */
  let bStarting: Promise<Node>;
  /** The FinalizeBlock requests the serving node got, and its answers, by height (replayed to the restored node). */
  const sent = new Map<bigint, Partial<RequestFinalizeBlock>>();
  const answers = new Map<bigint, ResponseFinalizeBlock>();
  let snapshot: Snapshot;
  let trusted: Uint8Array;
  const chunks: Uint8Array[] = [];

  // signing with the dev accounts `perpchain init` wrote (account numbers from the chain, sequences tracked here)
  const signers = new Map<string, { wallet: DirectSecp256k1HdWallet; address: string; accountNumber: bigint; sequence: bigint }>();
  async function tx(name: string, msgs: (address: string) => EncodeObject[]): Promise<Uint8Array> {
    const s = signers.get(name)!;
    const bytes = await signTx({ signer: s.wallet, signerAddress: s.address, messages: msgs(s.address), fee: feeFor(200_000n, 1000n), chainId: CHAIN_ID, accountNumber: s.accountNumber, sequence: s.sequence });
    s.sequence++;
    return bytes;
  }
  const addr = (name: string) => signers.get(name)!.address;

  function finalizeReq(h: bigint, txs: Uint8Array[]): Partial<RequestFinalizeBlock> {
    const votes = h > 1n ? [{ validator: { address: VALIDATOR.address, power: VALIDATOR.power }, blockIdFlag: BlockIDFlag.BLOCK_ID_FLAG_COMMIT }] : [];
    return { txs, decidedLastCommit: { round: 0, votes }, misbehavior: [], hash: blockHash(h), height: h, time: ts(genesisNs + h * 1_000_000_000n), nextValidatorsHash: Buffer.alloc(32, 1), proposerAddress: VALIDATOR.address };
  }

  async function finalizeAndCommit(n: Node, req: Partial<RequestFinalizeBlock>): Promise<ResponseFinalizeBlock> {
    const r = await n.cons.call({ finalizeBlock: req });
    expectKind(r, 'finalizeBlock');
    expectKind(await n.cons.call({ commit: {} }), 'commit');
    return r.finalizeBlock!;
  }

  /** A block on the serving node; every tx in it must succeed. */
  async function blockOnA(txs: Uint8Array[] = []): Promise<ResponseFinalizeBlock> {
    const h = BigInt(sent.size + 1);
    const req = finalizeReq(h, txs);
    const r = await finalizeAndCommit(a, req);
    expect(r.txResults.map((t) => `${t.codespace}/${t.code} ${t.code ? t.log : ''}`)).toEqual(txs.map(() => '/0 '));
    sent.set(h, req);
    answers.set(h, r);
    return r;
  }

  /** Replay the serving node's block `h` on the restored node: same app hash, same tx results. */
  async function replayOnB(h: bigint): Promise<void> {
    const r = await finalizeAndCommit(b, sent.get(h)!);
    const want = answers.get(h)!;
    expect(hex(r.appHash), `app hash at height ${h}`).toBe(hex(want.appHash));
    expect(r.txResults.map((t) => [t.code, t.gasUsed, t.events.length])).toEqual(want.txResults.map((t) => [t.code, t.gasUsed, t.events.length]));
  }

  beforeAll(async () => {
    // the serving home, from `perpchain init`; its genesis padded with funded accounts; snapshots every 3 blocks
    const init = spawnSync(process.execPath, [cli, 'init', '--home', homeA, '--chain-id', CHAIN_ID, '--accounts', '3'], { encoding: 'utf8', timeout: 60_000, cwd: tmp });
    expect(init.status, init.stderr).toBe(0);
    const pa = homePaths(homeA);
    genesis = JSON.parse(readFileSync(pa.genesis, 'utf8')) as GenesisDoc;
    genesisNs = rfc3339ToNs(genesis.genesis_time);
    const balances = (genesis.app_state.bank as { balances: Array<{ address: string; amount: string }> }).balances;
    for (let i = 0; i < PAD_ACCOUNTS; i++) {
      const bytes = createHash('sha256').update(`state-sync-e2e-pad-${i}`).digest().subarray(0, 20);
      balances.push({ address: bech32.encode('perp', bech32.toWords(bytes)), amount: '1000000' });
    }
    writeFileSync(pa.genesis, JSON.stringify(genesis, null, 2) + '\n');
    const config = JSON.parse(readFileSync(pa.config, 'utf8')) as Record<string, unknown>;
    config.snapshots = { interval: 3, keep_recent: 1 };
    writeFileSync(pa.config, JSON.stringify(config, null, 2) + '\n');
    // the restoring home: the same genesis file and node config, no data (as an operator sets up a new node)
    const pb = homePaths(homeB);
    mkdirSync(dirname(pb.genesis), { recursive: true });
    copyFileSync(pa.genesis, pb.genesis);
    copyFileSync(pa.config, pb.config);

    for (const d of readDevAccounts(pa)) {
      const wallet = await DirectSecp256k1HdWallet.fromMnemonic(d.mnemonic, { prefix: 'perp' });
      signers.set(d.name, { wallet, address: d.address, accountNumber: -1n, sequence: 0n });
    }
    a = await startNode(homeA, 'a.sock');
    bStarting = startNode(homeB, 'b.sock');
    bStarting.catch(() => undefined); // (awaited by the tests that use it)
  });

  it('the serving node runs its genesis and blocks with trades, and snapshots height 3 in the background, where the docs say', async () => {
    expect(await info(a)).toMatchObject({ height: 0n, hash: '' });
    const init = await a.cons.call({
      initChain: {
        time: ts(genesisNs),
        chainId: genesis.chain_id,
        consensusParams: {
          block: { maxBytes: BigInt(genesis.consensus_params.block.max_bytes), maxGas: BigInt(genesis.consensus_params.block.max_gas) },
          evidence: { maxAgeNumBlocks: 100_000n, maxAgeDuration: { seconds: 172_800n, nanos: 0 }, maxBytes: 1_048_576n },
          validator: { pubKeyTypes: ['ed25519'] },
          version: { app: 1n },
          abci: { voteExtensionsEnableHeight: BigInt(genesis.consensus_params.abci.vote_extensions_enable_height) },
        },
        validators: [{ pubKey: { ed25519: VALIDATOR.pubKey }, power: VALIDATOR.power }],
        // CometBFT sends the genesis file's app_state as it is
        appStateBytes: Buffer.from(JSON.stringify(genesis.app_state)),
        initialHeight: 1n,
      },
    });
    expectKind(init, 'initChain');
    expect(init.initChain!.appHash.length).toBe(32);

    await blockOnA();
    for (const s of signers.values()) {
      const q = (await a.query.call({ query: { path: `auth/account/${s.address}`, data: new Uint8Array(), height: 0n, prove: false } })).query!;
      expect(q.code).toBe(0);
      s.accountNumber = BigInt((JSON.parse(Buffer.from(q.value).toString()) as { account_number: string }).account_number);
    }
    await blockOnA([
      await tx('dev1', (o) => [depositMsg(o, 100_000_000_000n)]),
      await tx('dev2', (o) => [depositMsg(o, 100_000_000_000n)]),
      await tx('dev0', (o) => [sendMsg(o, addr('dev2'), 5_000_000n)]),
    ]);
    // resting orders on both sides: in the snapshot of height 3
    await blockOnA([
      await tx('dev1', (o) => [placeMsg(o, { clientId: 1, side: 'sell', price: usd(66_000), size: btc(0.02) })]),
      await tx('dev2', (o) => [placeMsg(o, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.02) })]),
    ]);
    // the snapshot of height 3 is cut a slice per event-loop turn, between requests: block 4 does not wait for it
    const fill = await blockOnA([await tx('dev2', (o) => [placeMsg(o, { clientId: 2, side: 'buy', tif: 'ioc', price: usd(66_000), size: btc(0.005) })])]);
    expect(eventsOf(fill.txResults[0]!, 'clob.fill').length).toBeGreaterThan(0);

    const list = await poll('the snapshot of height 3 to be listed', async () => {
      const l = await listSnapshots(a);
      return l.length > 0 ? l : undefined;
    });
    expect(list.map((s) => [s.height, s.format])).toEqual([[3n, 1]]);
    snapshot = list[0]!;
    trusted = answers.get(3n)!.appHash;
    expect(snapshot.chunks).toBeGreaterThanOrEqual(2);
    expect(hex(snapshot.hash)).toBe(createHash('sha256').update(snapshot.metadata).digest('hex'));
    for (let i = 0; i < snapshot.chunks; i++) chunks.push(await loadChunk(a, snapshot, i));
    expect((await loadChunk(a, snapshot, snapshot.chunks)).length).toBe(0); // no such chunk
    expect((await loadChunk(a, { ...snapshot, height: 2n }, 0)).length).toBe(0); // no such snapshot

    // on disk: <home>/data/snapshots/<height>-<format>/manifest.json and <index>.chunk
    const dir = join(homeA, 'data', 'snapshots');
    expect(readdirSync(dir)).toEqual(['3-1']);
    const manifest = JSON.parse(readFileSync(join(dir, '3-1', 'manifest.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toEqual({ height: '3', format: 1, chunks: snapshot.chunks, hash: hex(snapshot.hash), metadata: hex(snapshot.metadata) });
    expect(readdirSync(join(dir, '3-1')).sort()).toEqual(['manifest.json', ...chunks.map((_, i) => `${i}.chunk`)].sort());
    chunks.forEach((c, i) => expect(hex(readFileSync(join(dir, '3-1', `${i}.chunk`))), `chunk ${i}`).toBe(hex(c)));
    await a.proc.waitFor(/snapshot of height 3: [\d,]+ entries in \d+ chunks/);
  });

  it('the empty node refuses a snapshot whose group hashes do not add up to the trusted app hash, before any chunk, and stays empty', async () => {
    b = await bStarting;
    expect(await info(b)).toMatchObject({ height: 0n, hash: '' });
    const wrong = Buffer.from(trusted);
    wrong[7]! ^= 0x01;
    expect(await offer(b, snapshot, wrong)).toBe(OfferResult.REJECT);
    await b.proc.waitFor(/OfferSnapshot of height 3 \(format 1, \d+ chunks\): reject, the metadata's group hashes add up to [0-9A-F]{64}, the chain's app hash at height 3 is/);
    expect(await info(b)).toMatchObject({ height: 0n, hash: '' });
    // nothing is being restored
    expect((await applyChunk(b, 0, chunks[0]!, PEER_A)).result).toBe(ChunkResult.ABORT);
    expect(readdirSync(join(homeB, 'data', 'snapshots'))).toEqual([]); // its own store, empty
  });

  it('the empty node restores as CometBFT does: a bad peer\'s chunk is refetched and that peer rejected; Info then reports the snapshot height and app hash', async () => {
    expect(await offer(b, snapshot, trusted)).toBe(OfferResult.ACCEPT);
    const lastIndex = snapshot.chunks - 1;
    for (let i = 0; i < lastIndex; i++) expect((await applyChunk(b, i, chunks[i]!, PEER_A)).result).toBe(ChunkResult.ACCEPT);
    const bad = Buffer.from(chunks[lastIndex]!);
    bad[bad.length >> 1]! ^= 0x01;
    expect(await applyChunk(b, lastIndex, bad, PEER_EVIL)).toEqual({ result: ChunkResult.RETRY, refetchChunks: [lastIndex], rejectSenders: [PEER_EVIL] });
    expect(await info(b)).toMatchObject({ height: 0n, hash: '' });
    expect(await applyChunk(b, lastIndex, chunks[lastIndex]!, PEER_GOOD)).toEqual({ result: ChunkResult.ACCEPT, refetchChunks: [], rejectSenders: [] });
    await b.proc.waitFor(/state sync: restored \d+ entries at height 3/);
    // what CometBFT's verifyApp checks before it hands over to block sync
    expect(await info(b)).toEqual({ height: 3n, hash: hex(trusted), appVersion: 1n });
    // a node with state takes no more offers
    expect(await offer(b, snapshot, trusted)).toBe(OfferResult.ABORT);
    expect(await offer(a, snapshot, trusted)).toBe(OfferResult.ABORT);
  });

  it('the restored node follows the chain to the same app hashes and snapshots height 6 exactly as the serving node does', async () => {
    // block 4 (already on the serving node): a taker filled against the ask the restored node knows only from the snapshot
    await replayOnB(4n);
    const fill = await blockOnA([await tx('dev1', (o) => [placeMsg(o, { clientId: 2, side: 'sell', tif: 'ioc', price: usd(64_000), size: btc(0.004) })])]);
    expect(eventsOf(fill.txResults[0]!, 'clob.fill').length).toBeGreaterThan(0);
    await replayOnB(5n);
    await blockOnA([await tx('dev0', (o) => [sendMsg(o, addr('dev1'), 7_000_000n)])]);
    await replayOnB(6n);
    expect(await info(b)).toEqual(await info(a));

    const sixOf = (n: Node) =>
      poll('the snapshot of height 6', async () => {
        const l = await listSnapshots(n);
        return l[0]?.height === 6n ? l : undefined;
      });
    const [la, lb] = await Promise.all([sixOf(a), sixOf(b)]);
    expect(la.map((s) => s.height)).toEqual([6n]); // keep_recent 1: the one of height 3 is deleted
    expect(lb.map((s) => s.height)).toEqual([6n]);
    expect(hex(lb[0]!.hash)).toBe(hex(la[0]!.hash));
    expect(hex(lb[0]!.metadata)).toBe(hex(la[0]!.metadata));
    for (let i = 0; i < la[0]!.chunks; i++) expect(hex(await loadChunk(b, lb[0]!, i)), `chunk ${i} of height 6`).toBe(hex(await loadChunk(a, la[0]!, i)));
    expect(readdirSync(join(homeA, 'data', 'snapshots'))).toEqual(['6-1']);
    expect(readdirSync(join(homeB, 'data', 'snapshots'))).toEqual(['6-1']);
  });

  it('after kill -9 and a restart the restored node reports the same height and hash, and follows the next block', async () => {
    const before = await info(b);
    await stopNode(b);
    b = await startNode(homeB, 'b.sock');
    expect(await info(b)).toEqual(before);
    expect((await listSnapshots(b)).map((s) => s.height)).toEqual([6n]);
    // dev2 cancels what is left of its bid (an order from before the snapshot, through a restore and a restart)
    const cancel = await blockOnA([await tx('dev2', (o) => [cancelMsg(o, { clientId: 1 })])]);
    expect(eventsOf(cancel.txResults[0]!, 'clob.order_cancelled').length).toBe(1);
    await replayOnB(7n);
    expect(await info(b)).toEqual(await info(a));
    expect(resultsSeen.length).toBeGreaterThan(0);
    expect(resultsSeen.filter((r) => r === 0)).toEqual([]); // never UNKNOWN

    // both stop cleanly on SIGTERM (the snapshotter is stopped before the App closes), no partial snapshot left
    for (const n of [a, b]) {
      for (const c of [n.cons, n.snap, n.query]) c.destroy();
      expect((await n.proc.kill('SIGTERM')).code).toBe(0);
      procs.delete(n.proc);
      expect(n.proc.lines.filter((l) => /\b(WARN|ERROR)\b|snapshot of height \d+ (failed|not taken|skipped)|checkpoint failed/.test(l))).toEqual([]);
    }
    expect(readdirSync(join(homeA, 'data', 'snapshots'))).toEqual(['6-1']);
    expect(readdirSync(join(homeB, 'data', 'snapshots'))).toEqual(['6-1']);
  });
});
