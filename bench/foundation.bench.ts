/**
 * Foundation: signed-tx throughput, FinalizeBlock with cached signatures,
 * Commit on large states, restart time.
 *
 * 1. Signature verification alone, on the same pre-signed txs: native
 *    libsecp256k1 on the main thread, the VerifyPool (worker threads), and a
 *    pure-JS verifier (@noble/curves) on the main thread.
 * 2. End to end (CheckTx every tx + FinalizeBlock + Commit to sqlite) of
 *    signed MsgSends, each variant on a fresh App from the same genesis with
 *    the same txs:
 *      native      CheckTx verifies on the main thread (FinalizeBlock hits the cache)
 *      pool        as the devnet node does: Mempool.addBatch (pool prefetch, then
 *                  CheckTx), PrepareProposal, finalizeBlockAsync, Commit, Mempool.update
 *      pipelined   the pool verifies block N+1 while the main thread runs block N
 *      noble       the same path, but verification done by @noble/curves on the main
 *                  thread: the App's signature cache is warmed (untimed) by the pool
 *                  first, then the timed part verifies every tx with noble (decode,
 *                  sign bytes, sha256, verify) and runs CheckTx + FinalizeBlock +
 *                  Commit (which then skip verification). So it measures exactly
 *                  "the App's path with noble as its verifier".
 * 3. FinalizeBlock alone with signatures already cached (CheckTx untimed).
 * 4. Commit on states of 10k, 100k, 1M accounts (2 keys each): a block of
 *    3,334 sends (sender account + balance, recipient balance: ≈10,000
 *    changed keys). The app hash is computed inside FinalizeBlock (Merkle
 *    update) and written by Commit (sqlite transaction); both are reported,
 *    with a store-level breakdown (MerkleIndex.update + root, SqliteStore.commit).
 * 5. Restart: App.open on those states until it serves a query.
 *    4 and 5 run in a fresh process (bench/lib/restart-child.ts), as a restarted
 *    node would, not in this process's crowded heap.
 *
 *   node --import tsx bench/run.ts foundation [--txs=20000] [--block=5000] [--sizes=10000,100000,1000000]
 */
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { hash } from 'node:crypto';
import { secp256k1 as noble } from '@noble/curves/secp256k1';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { AuthInfo } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { PubKey } from 'cosmjs-types/cosmos/crypto/secp256k1/keys';
import { App } from '../chain/app.js';
import { VerifyPool, type VerifyItem } from '../chain/crypto/verify-pool.js';
import { verifySecp256k1 } from '../chain/crypto/secp256k1.js';
import { Mempool } from '../chain/devnet/mempool.js';
import { MempoolSubmitter, type MempoolLike } from '../chain/api/submitter.js';
import { SqliteStore } from '../chain/store/sqlite.js';
import { signBytes } from '../chain/tx/decode.js';
import { testKeys } from '../test/helpers/keys.js';
import { Rng } from '../test/helpers/rng.js';
import type { BenchFigures } from './run.js';
import { CHAIN_ID, PARAMS, SyntheticState, blockReq, chunks, median, newApp, now, signSends, syntheticAddress } from './lib/foundation-state.js';

export const name = 'foundation';
export const description = 'signed MsgSend throughput (native / VerifyPool / pure-JS noble), cached FinalizeBlock, Commit and restart at 10k–1M accounts';

function arg(args: string[], key: string, dflt: string): string {
  const a = args.find((x) => x.startsWith(`--${key}=`));
  return a ? a.slice(key.length + 3) : dflt;
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
const started = performance.now();
/** A progress line on stderr (the figures themselves are printed at the end). */
const progress = (what: string) => process.stderr.write(`  … ${what} done at ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
const r2 = (x: number) => Math.round(x * 100) / 100;

interface Digested {
  item: VerifyItem;
}

/** What the ante handler verifies for a tx: sig, sha256(SignDoc), the pubkey carried in the tx. */
function digestOf(tx: Uint8Array, accountNumber: bigint): Digested {
  const raw = TxRaw.decode(tx);
  const pk = AuthInfo.decode(raw.authInfoBytes).signerInfos[0]!.publicKey!;
  return { item: { sig: raw.signatures[0]!, digest: hash('sha256', signBytes(raw, CHAIN_ID, accountNumber), 'buffer'), pubKey: PubKey.decode(pk.value).key } };
}

export async function run(args: string[]): Promise<BenchFigures> {
  const TXS = Number(arg(args, 'txs', '20000'));
  const BLOCK = Number(arg(args, 'block', '5000'));
  const SIZES = arg(args, 'sizes', '10000,100000,1000000').split(',').map(Number);
  const out: BenchFigures = {};
  const tmp = mkdtempSync(join(tmpdir(), 'perpchain-bench-foundation-'));
  const pool = new VerifyPool();
  console.log(`  verify pool: ${pool.size} worker threads; ${TXS.toLocaleString()} txs per variant in blocks of ${BLOCK.toLocaleString()}; load average at start ${loadavg().map((x) => x.toFixed(1)).join(' ')} (other processes on the machine skew every figure)`);
  try {
    // ------------------------------------------------------------ pre-signing
    const S = Math.min(BLOCK, TXS);
    const keys = testKeys(S, 'bench');
    const accountNumbers = keys.map((_, i) => BigInt(i));
    let t = now();
    const txs = signSends({ keys, accountNumbers, rounds: Math.ceil(TXS / S), to: (k, r) => keys[(k * 7 + r + 1) % S]!.address }).slice(0, TXS);
    console.log(`  pre-signed ${txs.length.toLocaleString()} MsgSends from ${S.toLocaleString()} accounts in ${(now() - t).toFixed(0)} ms (not measured)`);
    const blocks = chunks(txs, BLOCK);

    // A fixed CPU workload, so runs on a busy or a quiet machine can be put side by side.
    t = now();
    const calib = Buffer.alloc(100);
    for (let i = 0; i < 200_000; i++) hash('sha256', calib, 'buffer');
    out.calibration_sha256_100b_per_s = rate(200_000, now() - t);

    // ------------------------------------------------- 1. verification alone
    const sample = txs.slice(0, Math.min(4000, txs.length)).map((x, i) => digestOf(x, accountNumbers[i % S]!).item);
    t = now();
    for (const it of sample) if (verifySecp256k1(it.sig, it.digest, it.pubKey) !== 'ok') throw new Error('native verify failed');
    out.verify_native_1thread_per_s = rate(sample.length, now() - t);
    await pool.verify(sample.slice(0, 200)); // warm the workers
    t = now();
    const ok = await pool.verify(sample);
    out.verify_pool_per_s = rate(sample.length, now() - t);
    if (ok.some((x) => !x)) throw new Error('pool verify failed');
    const nobleSample = sample.slice(0, 600);
    noble.verify(nobleSample[0]!.sig, nobleSample[0]!.digest, nobleSample[0]!.pubKey); // precompute tables
    t = now();
    for (const it of nobleSample) if (!noble.verify(it.sig, it.digest, it.pubKey)) throw new Error('noble verify failed');
    out.verify_noble_1thread_per_s = rate(nobleSample.length, now() - t);

    // ---------------------------------------------------- 2. end to end
    const fresh = (label: string, withPool = false) => newApp(join(tmp, `${label}.db`), keys, withPool ? pool : undefined);
    const hashes: Record<string, string> = {};
    const e2e = async (label: string, body: (app: App) => Promise<void>, withPool = false) => {
      const app = fresh(label, withPool);
      const t0 = now();
      await body(app);
      const ms = now() - t0;
      hashes[label] = Buffer.from(app.appHash).toString('hex');
      app.close();
      return rate(txs.length, ms);
    };
    const expectAllOk = (rs: Array<{ code: number; log: string }>) => {
      const bad = rs.find((r) => r.code !== 0);
      if (bad) throw new Error(`a bench tx failed: ${bad.log}`);
    };

    progress('verification alone');
    out.e2e_native_tx_per_s = await e2e('native', async (app) => {
      for (const b of blocks) {
        for (const x of b) if (app.checkTx({ tx: x, type: 'new' }).code !== 0) throw new Error('CheckTx failed');
        expectAllOk(app.finalizeBlock(blockReq(app.height + 1n, b)).txResults);
        app.commit();
        app.checkpoint(); // as the node does between blocks
      }
    });

    progress('end to end, native');
    out.e2e_pool_node_path_tx_per_s = await e2e(
      'pool',
      async (app) => {
        const mempool = new Mempool(app, { maxTxs: 1_000_000, maxBytes: 1 << 30 });
        for (const b of blocks) {
          const added = await mempool.addBatch(b);
          if (added.some((r) => r.code !== 0)) throw new Error('mempool refused a tx');
          const h = app.height + 1n;
          const reaped = mempool.reap(Number(PARAMS.block.maxBytes), PARAMS.block.maxGas);
          const proposal = app.prepareProposal({ maxTxBytes: PARAMS.block.maxBytes, txs: reaped, localLastCommit: { round: 0, votes: [] }, height: h, timeNs: blockReq(h, []).timeNs, proposerAddress: new Uint8Array(20) });
          const r = await app.finalizeBlockAsync(blockReq(h, proposal.txs));
          expectAllOk(r.txResults);
          app.commit();
          app.checkpoint();
          mempool.update(h, proposal.txs.map((x) => hash('sha256', x, 'hex').toUpperCase()), r.txResults);
        }
        if (mempool.size !== 0) throw new Error('mempool not drained');
      },
      true,
    );

    progress('end to end, pool (node path)');
    out.e2e_pool_pipelined_tx_per_s = await e2e(
      'pipelined',
      async (app) => {
        let next = app.prefetchSignatures(blocks[0]!);
        for (let i = 0; i < blocks.length; i++) {
          await next;
          next = i + 1 < blocks.length ? app.prefetchSignatures(blocks[i + 1]!) : Promise.resolve();
          for (const x of blocks[i]!) if (app.checkTx({ tx: x, type: 'new' }).code !== 0) throw new Error('CheckTx failed');
          expectAllOk(app.finalizeBlock(blockReq(app.height + 1n, blocks[i]!)).txResults);
          app.commit();
          app.checkpoint();
        }
      },
      true,
    );

    progress('end to end, pool (pipelined)');
    // API intake (devnet): every tx handed to the node's MempoolSubmitter in bursts of 200 per event-loop
    // turn (many clients' messages read in one poll phase), CheckTx only. Batched (signatures verified on
    // the pool while the main thread is free) against the same submitter on a mempool without addBatch
    // (one CheckTx, with its signature verified on the main thread, per message as it arrives). The
    // longest gap between two runs of a 1 ms timer shows how long the event loop was blocked.
    const intake = async (label: string, batched: boolean) => {
      const app = fresh(label, true);
      const mempool = new Mempool(app, { maxTxs: 1_000_000, maxBytes: 1 << 30 });
      const like: MempoolLike = batched ? mempool : { get size() { return mempool.size; }, add: (t) => mempool.add(t), onInclusion: (h, l) => mempool.onInclusion(h, l) };
      const submitter = new MempoolSubmitter(like);
      let last = now();
      let stall = 0;
      const timer = setInterval(() => {
        const t = now();
        stall = Math.max(stall, t - last);
        last = t;
      }, 1);
      const t0 = now();
      const answers: Array<Promise<{ code: number; log: string }>> = [];
      for (let i = 0; i < txs.length; i += 200) {
        for (const x of txs.slice(i, i + 200)) answers.push(submitter.submit(x));
        await new Promise((r) => setImmediate(r));
      }
      expectAllOk(await Promise.all(answers));
      const ms = now() - t0;
      clearInterval(timer);
      app.close();
      return { rate: rate(txs.length, ms), stall: Math.round(stall) };
    };
    const ib = await intake('intake-batched', true);
    const i1 = await intake('intake-one-by-one', false);
    out.api_intake_batched_tx_per_s = ib.rate;
    out.api_intake_one_by_one_tx_per_s = i1.rate;
    out.api_intake_batched_max_stall_ms = ib.stall;
    out.api_intake_one_by_one_max_stall_ms = i1.stall;
    progress('API intake');
    // noble: a smaller run (pure JS verifies a few hundred per second), same per-tx path.
    const nobleTxs = txs.slice(0, Math.min(txs.length, 1_200));
    {
      const app = fresh('noble', true);
      await app.prefetchSignatures(nobleTxs); // untimed: warm the App's cache so it does not verify natively
      const accountOf = new Map(keys.map((k, i) => [Buffer.from(k.pub).toString('hex'), BigInt(i)]));
      const t0 = now();
      for (const b of chunks(nobleTxs, 600)) {
        for (let i = 0; i < b.length; i++) {
          const raw = TxRaw.decode(b[i]!);
          const pk = PubKey.decode(AuthInfo.decode(raw.authInfoBytes).signerInfos[0]!.publicKey!.value).key;
          const acc = accountOf.get(Buffer.from(pk).toString('hex'))!; // the ante's account lookup
          const digest = hash('sha256', signBytes(raw, CHAIN_ID, acc), 'buffer');
          if (!noble.verify(raw.signatures[0]!, digest, pk)) throw new Error('noble: bad signature');
        }
        for (const x of b) if (app.checkTx({ tx: x, type: 'new' }).code !== 0) throw new Error('CheckTx failed');
        expectAllOk(app.finalizeBlock(blockReq(app.height + 1n, b)).txResults);
        app.commit();
        app.checkpoint(); // as the node does between blocks
      }
      out.e2e_noble_tx_per_s = rate(nobleTxs.length, now() - t0);
      app.close();
    }
    if (new Set([hashes.native, hashes.pool, hashes.pipelined]).size !== 1) throw new Error(`variants disagree on the app hash: ${JSON.stringify(hashes)}`);

    progress('end to end, noble');
    // --------------------------------------- 3. FinalizeBlock, signatures cached
    {
      const app = fresh('cached', true);
      let fin = 0;
      let com = 0;
      let cp = 0;
      for (const b of blocks) {
        await app.prefetchSignatures(b);
        for (const x of b) app.checkTx({ tx: x, type: 'new' });
        const t0 = now();
        const r = app.finalizeBlock(blockReq(app.height + 1n, b));
        fin += now() - t0;
        expectAllOk(r.txResults);
        const t1 = now();
        app.commit();
        com += now() - t1;
        const t2 = now();
        app.checkpoint();
        cp += now() - t2;
      }
      out.finalize_cached_tx_per_s = rate(txs.length, fin);
      out.commit_of_those_blocks_ms = r2(com / blocks.length);
      out.checkpoint_of_those_blocks_ms = r2(cp / blocks.length);
      app.close();
    }

    progress('FinalizeBlock, cached signatures');
    // ------------------------------------- 4 + 5. Commit and restart vs state size
    const K = 3_334; // senders: 3 changed keys each ≈ 10,000 keys per block
    const senders = testKeys(K, 'big');
    const dbPath = join(tmp, 'big.db');
    const copyPath = join(tmp, 'big-copy.db');
    newApp(dbPath, senders).close();
    const synthetic = new SyntheticState(dbPath);
    const rng = new Rng(1);
    for (const size of SIZES) {
      const tag = size >= 1_000_000 ? `${size / 1_000_000}m` : `${size / 1000}k`;
      t = now();
      synthetic.grow(Math.max(1, size - K));
      const buildMs = now() - t;

      // store level: the Merkle update + root (FinalizeBlock's part of the app hash) and the sqlite
      // transaction (Commit's part) of a 10,000-key change set, on the file itself
      // (median of 3 on one open store)
      const store = new SqliteStore(dbPath);
      const touches = [0, 1, 2].map(() => synthetic.touch(10_000, rng, store));
      store.close();
      out[`merkle_update_10k_${tag}_accounts_ms`] = r2(median(touches.map((x) => x[0])));
      out[`sqlite_commit_10k_${tag}_accounts_ms`] = r2(median(touches.map((x) => x[1])));

      // the App works on a copy, so the synthetic state (and its index) stay in step with the file
      copyFileSync(dbPath, copyPath);
      const fileMb = statSync(copyPath).size / 2 ** 20;

      // the App's own path, in a fresh process (as a restarted node): App.open + a query (the restart
      // time), then blocks of K sends to random existing accounts (≈10k changed keys each)
      const REPS = 3; // blocks merged whole (the checkpoint figure), then one more merged in slices
      const round = signSends({
        keys: senders,
        accountNumbers: senders.map((_, i) => BigInt(i)),
        startSeq: senders.map(() => 0n), // every size starts from the synthetic file, where the senders have not sent yet
        rounds: REPS + 1,
        to: () => syntheticAddress(rng.int(synthetic.count)),
      });
      const txsFile = join(tmp, 'txs.bin');
      writeFileSync(txsFile, Buffer.concat(round.flatMap((x) => [u32(x.length), x])));
      t = now();
      const child = inChild(copyPath, syntheticAddress(0), txsFile, K);
      out[`restart_${tag}_accounts_ms`] = Math.round(child.ms);
      out[`commit_10k_keys_${tag}_accounts_ms`] = r2(median(child.commit));
      out[`checkpoint_10k_keys_${tag}_accounts_ms`] = r2(median(child.checkpoint));
      out[`merge_longest_slice_${tag}_accounts_ms`] = r2(child.slices.longest);
      out[`merge_slices_total_${tag}_accounts_ms`] = r2(child.slices.total);
      out[`finalize_3334tx_${tag}_accounts_ms`] = r2(median(child.finalize));
      console.log(
        `  state of ${size.toLocaleString()} accounts: built in ${(buildMs / 1000).toFixed(1)} s (not measured), sqlite ${fileMb.toFixed(0)} MiB; ` +
          `fresh process: App.open + query ${(child.ms / 1000).toFixed(1)} s, heap ${child.heapMb.toFixed(0)} MiB, rss ${child.rssMb.toFixed(0)} MiB; whole child ${((now() - t) / 1000).toFixed(0)} s`,
      );
      progress(`${tag} accounts`);
      rmSync(copyPath, { force: true });
    }

    console.log(`  load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    printSummary(out);
    return out;
  } finally {
    await pool.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

interface ChildFigures {
  ms: number;
  heapMb: number;
  rssMb: number;
  finalize: number[];
  commit: number[];
  checkpoint: number[];
  slices: { count: number; longest: number; total: number };
}

function inChild(dbPath: string, address: string, txsFile: string, perBlock: number): ChildFigures {
  const here = dirname(fileURLToPath(import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'lib', 'restart-child.ts'), dbPath, address, txsFile, String(perBlock)], {
    encoding: 'utf8',
    cwd: join(here, '..'),
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`bench child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildFigures;
}

function printSummary(o: BenchFigures): void {
  const f = (x: number | undefined) => (x === undefined ? '—' : x.toLocaleString('en-US'));
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log(`\n  calibration: sha256 of 100 bytes ${f(o.calibration_sha256_100b_per_s)} /s (a fixed CPU workload: compare runs by it, lower = busier machine)`);
  console.log('  signature verification alone (same txs):');
  console.log(`    native libsecp256k1, main thread   ${f(o.verify_native_1thread_per_s).padStart(10)} /s`);
  console.log(`    VerifyPool (worker threads)        ${f(o.verify_pool_per_s).padStart(10)} /s`);
  console.log(`    @noble/curves (pure JS), main      ${f(o.verify_noble_1thread_per_s).padStart(10)} /s   (native is ×${((o.verify_native_1thread_per_s ?? 0) / (o.verify_noble_1thread_per_s ?? 1)).toFixed(0)})`);
  console.log('  signed MsgSend end to end (CheckTx + FinalizeBlock + Commit + checkpoint to sqlite):');
  console.log(`    native verify on the main thread   ${f(o.e2e_native_tx_per_s).padStart(10)} tx/s`);
  console.log(`    VerifyPool, devnet node path       ${f(o.e2e_pool_node_path_tx_per_s).padStart(10)} tx/s`);
  console.log(`    VerifyPool, pipelined              ${f(o.e2e_pool_pipelined_tx_per_s).padStart(10)} tx/s`);
  console.log(`    @noble/curves verifier             ${f(o.e2e_noble_tx_per_s).padStart(10)} tx/s`);
  const best = Math.max(o.e2e_native_tx_per_s ?? 0, o.e2e_pool_node_path_tx_per_s ?? 0, o.e2e_pool_pipelined_tx_per_s ?? 0);
  console.log(`    target ≥ 15,000 tx/s: ${mark(best >= 15_000)} (best ${f(best)})`);
  console.log('  devnet API intake (MempoolSubmitter, bursts of 200 per event-loop turn, CheckTx only):');
  console.log(`    batched (pool verifies)            ${f(o.api_intake_batched_tx_per_s).padStart(10)} tx/s   event loop blocked ≤ ${f(o.api_intake_batched_max_stall_ms)} ms`);
  console.log(`    one by one (main thread verifies)  ${f(o.api_intake_one_by_one_tx_per_s).padStart(10)} tx/s   event loop blocked ≤ ${f(o.api_intake_one_by_one_max_stall_ms)} ms`);
  console.log(`  FinalizeBlock, signatures cached     ${f(o.finalize_cached_tx_per_s).padStart(10)} tx/s   target ≥ 50,000: ${mark((o.finalize_cached_tx_per_s ?? 0) >= 50_000)}`);
  for (const tag of ['10k', '100k', '1m']) {
    const c = o[`commit_10k_keys_${tag}_accounts_ms`];
    if (c === undefined) continue;
    const m = o[`merkle_update_10k_${tag}_accounts_ms`]!;
    console.log(
      `  ${tag.padStart(4)} accounts: Commit ${f(c)} ms + Merkle update (in FinalizeBlock) ${f(m)} ms = ${f(r2(c + m))} ms` +
        `${tag === '1m' ? ` (target ≤ 50: ${mark(c + m <= 50)})` : ''}; checkpoint after Commit (between blocks) ${f(o[`checkpoint_10k_keys_${tag}_accounts_ms`])} ms whole, or ${f(o[`merge_slices_total_${tag}_accounts_ms`])} ms in 2,000-row slices (longest ${f(o[`merge_longest_slice_${tag}_accounts_ms`])} ms); sqlite alone ${f(o[`sqlite_commit_10k_${tag}_accounts_ms`])} ms; restart ${f(o[`restart_${tag}_accounts_ms`])} ms`,
    );
  }
}
