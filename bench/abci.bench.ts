/**
 * ABCI socket overhead: a block of 5,000 signed order txs run the way
 * CometBFT runs it (a pipelined CheckTx burst + Flush, then PrepareProposal,
 * ProcessProposal, FinalizeBlock, Commit, each followed by a Flush) through
 * the socket server, timed beside the same block on an App called
 * in-process with the same calls. Both Apps are sqlite-backed, use a verify
 * pool and process the same blocks in lockstep (their app hashes are checked
 * equal after every block).
 *
 * The blocks are consecutive cuts of the order flow of bench/orders.bench.ts
 * and bench/matching.bench.ts (bench/lib/order-flow.ts, order-txs.ts): ~70%
 * limit orders a few ticks around a drifting mid (resting, or crossing and
 * filling), ~25% cancels of resting orders, ~5% market orders, one message
 * per tx, signed by `--traders` accounts funded in genesis that deposit into
 * their subaccounts in an untimed block 2 (on both Apps). Every tx must
 * succeed (code 0) on both paths; afterwards the in-process App's fills must
 * equal the flow's reference book's and its book the reference book.
 * `--sends` runs the former workload instead: blocks of signed MsgSends.
 *
 * The client side plays CometBFT: its requests are encoded (with
 * cosmjs-types) before the clock starts and its responses are only split
 * into frames while timed (decoded and checked afterwards), so what is
 * measured is the server's work plus the loopback transport.
 *
 *   npm run bench -- abci [--txs=5000] [--runs=7] [--traders=1000] [--sends]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Request, Response, CheckTxType, ResponseProcessProposal_ProposalStatus as Status } from 'cosmjs-types/tendermint/abci/types';
import type { DeepPartial } from 'cosmjs-types/helpers';
import { App } from '../chain/app.js';
import { VerifyPool } from '../chain/crypto/verify-pool.js';
import { startAbciServer, type AbciApp } from '../chain/abci/index.js';
import type { CheckTxResult, ConsensusParams, FinalizeBlockResult } from '../chain/types.js';
import { signTx, feeFor } from '../client/signing.js';
import { genesisFor } from '../test/helpers/chain.js';
import { testKeys, type TestKey } from '../test/helpers/keys.js';
import type { BenchFigures } from './run.js';
import { generateFlow, CANCEL, LIMIT, MARKET } from './lib/order-flow.js';
import { accountNumbersOf, checkFlowResults, compareBook, ordersAppState, signDeposits, signFlow, type FlowCheck } from './lib/order-txs.js';

export const name = 'abci';
export const description = 'a 5,000-tx block of signed orders (CheckTx each, Prepare, Process, FinalizeBlock, Commit) over the ABCI socket vs the same calls in-process';

const CHAIN_ID = 'perpchain-bench-abci';
const GENESIS_NS = 1_767_225_600_000_000_000n;
const PARAMS: ConsensusParams = { block: { maxBytes: 22_020_096n, maxGas: -1n }, abci: { voteExtensionsEnableHeight: 0n } };
const MAX_TX_BYTES = 22_000_000n;
const PROPOSER = Buffer.alloc(20, 0xab);

function arg(args: string[], key: string, dflt: number): number {
  const a = args.find((x) => x.startsWith(`--${key}=`));
  return a ? Number(a.split('=')[1]) : dflt;
}

function frame(req: DeepPartial<Request>): Buffer {
  const body = Request.encode(Request.fromPartial(req)).finish();
  const head: number[] = [];
  for (let v = body.length; ; v = Math.floor(v / 128)) {
    if (v < 0x80) {
      head.push(v);
      break;
    }
    head.push((v % 128) | 0x80);
  }
  return Buffer.concat([Buffer.from(head), body]);
}

const FLUSH = frame({ flush: {} });
const ts = (ns: bigint) => ({ seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) });

/** The CometBFT end of a connection: writes pre-encoded frames, splits responses into frames (decoded later). */
class RawClient {
  /** Unparsed bytes; while a large frame is incomplete, its chunks wait in `parts` (joined once, like Go's reader). */
  private tail: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];
  private partBytes = 0;
  private need = 0;
  private frames: Buffer[] = [];
  private want = 0;
  private done: (() => void) | undefined;

  constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.need > 0) {
        this.parts.push(chunk);
        this.partBytes += chunk.length;
        if (this.partBytes < this.need) return;
        chunk = Buffer.concat(this.parts, this.partBytes);
        this.parts = [];
        this.partBytes = 0;
        this.need = 0;
      }
      let buf: Buffer = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
      for (;;) {
        let len = 0;
        let mul = 1;
        let i = 0;
        let ok = false;
        for (; i < buf.length && i < 10; i++) {
          len += (buf[i]! & 0x7f) * mul;
          mul *= 128;
          if (buf[i]! < 0x80) {
            ok = true;
            break;
          }
        }
        if (ok && buf.length < i + 1 + len) {
          this.parts = [buf];
          this.partBytes = buf.length;
          this.need = i + 1 + len;
          buf = Buffer.alloc(0);
          break;
        }
        if (!ok) break;
        this.frames.push(buf.subarray(i + 1, i + 1 + len));
        buf = buf.subarray(i + 1 + len);
      }
      this.tail = buf;
      if (this.done && this.frames.length >= this.want) {
        const d = this.done;
        this.done = undefined;
        d();
      }
    });
  }

  static open(addr: string): Promise<RawClient> {
    const port = Number(addr.split(':').pop());
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** Write `bytes`, resolve once `n` more response frames have arrived; returns them (raw). */
  exchange(bytes: Buffer, n: number): Promise<Buffer[]> {
    const start = this.frames.length;
    this.want = start + n;
    const p = new Promise<void>((resolve) => {
      if (this.frames.length >= this.want) resolve();
      else this.done = resolve;
    });
    this.socket.write(bytes);
    return p.then(() => this.frames.splice(start, n));
  }
}

interface Block {
  height: bigint;
  timeNs: bigint;
  txs: Uint8Array[];
}

async function signBlocks(keys: TestKey[], accountNumbers: bigint[], blocks: number, perAccount: number, firstHeight: bigint): Promise<Block[]> {
  const out: Block[] = [];
  for (let b = 0; b < blocks; b++) {
    const txs: Uint8Array[] = [];
    for (let j = 0; j < perAccount; j++) {
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k]!;
        txs.push(
          await signTx({
            signer: key,
            signerAddress: key.address,
            messages: [{ typeUrl: '/perpchain.bank.v1.MsgSend', value: { fromAddress: key.address, toAddress: keys[(k + 1) % keys.length]!.address, amount: String(1 + j) } }],
            fee: feeFor(200_000n, 1000n),
            chainId: CHAIN_ID,
            accountNumber: accountNumbers[k]!,
            sequence: BigInt(b * perAccount + j),
          }),
        );
      }
    }
    const height = firstHeight + BigInt(b);
    out.push({ height, timeNs: GENESIS_NS + height * 1_000_000_000n, txs });
  }
  return out;
}

interface InProcessRun {
  checkMs: number;
  blockMs: number;
  appHash: string;
  checks: CheckTxResult[];
  fin: FinalizeBlockResult;
}

async function inProcessBlock(app: App, blk: Block): Promise<InProcessRun> {
  const checks: CheckTxResult[] = [];
  const t0 = performance.now();
  await app.prefetchSignatures(blk.txs); // the same accelerator the server applies to a CheckTx burst
  for (const tx of blk.txs) {
    const r = app.checkTx({ tx, type: 'new' });
    if (r.code !== 0) throw new Error(`in-process CheckTx failed: ${r.log}`);
    checks.push(r);
  }
  const t1 = performance.now();
  const prep = app.prepareProposal({ maxTxBytes: MAX_TX_BYTES, txs: blk.txs, localLastCommit: { round: 0, votes: [] }, height: blk.height, timeNs: blk.timeNs, proposerAddress: PROPOSER });
  if (prep.txs.length !== blk.txs.length) throw new Error('PrepareProposal dropped txs');
  const hash = Buffer.alloc(32, Number(blk.height % 256n));
  if (app.processProposal({ txs: prep.txs, proposedLastCommit: { round: 0, votes: [] }, hash, height: blk.height, timeNs: blk.timeNs, proposerAddress: PROPOSER }) !== 'accept') throw new Error('ProcessProposal rejected');
  const fin = await app.finalizeBlockAsync({ txs: prep.txs, decidedLastCommit: { round: 0, votes: [] }, hash, height: blk.height, timeNs: blk.timeNs, proposerAddress: PROPOSER });
  const bad = fin.txResults.find((r) => r.code !== 0);
  if (bad) throw new Error(`in-process block has failed txs: ${bad.codespace}/${bad.code} ${bad.log}`);
  app.commit();
  const t2 = performance.now();
  return { checkMs: t1 - t0, blockMs: t2 - t1, appHash: Buffer.from(fin.appHash).toString('hex'), checks, fin };
}

interface EncodedBlock {
  checkBurst: Buffer;
  prepare: Buffer;
  process: Buffer;
  finalize: Buffer;
  commit: Buffer;
}

/** CometBFT's side of the work, done before any clock starts (cosmjs-types' encoder makes a lot of garbage). */
function encodeBlock(blk: Block): EncodedBlock {
  const hash = Buffer.alloc(32, Number(blk.height % 256n));
  return {
    checkBurst: Buffer.concat([...blk.txs.map((tx) => frame({ checkTx: { tx, type: CheckTxType.NEW } })), FLUSH]),
    prepare: Buffer.concat([frame({ prepareProposal: { maxTxBytes: MAX_TX_BYTES, txs: blk.txs, localLastCommit: { round: 0, votes: [] }, height: blk.height, time: ts(blk.timeNs), proposerAddress: PROPOSER } }), FLUSH]),
    process: Buffer.concat([frame({ processProposal: { txs: blk.txs, proposedLastCommit: { round: 0, votes: [] }, hash, height: blk.height, time: ts(blk.timeNs), proposerAddress: PROPOSER } }), FLUSH]),
    finalize: Buffer.concat([frame({ finalizeBlock: { txs: blk.txs, decidedLastCommit: { round: 0, votes: [] }, hash, height: blk.height, time: ts(blk.timeNs), proposerAddress: PROPOSER } }), FLUSH]),
    commit: Buffer.concat([frame({ commit: {} }), FLUSH]),
  };
}

async function socketBlock(mem: RawClient, cons: RawClient, blk: Block, enc: EncodedBlock): Promise<{ checkMs: number; blockMs: number; appHash: string }> {
  const { checkBurst, prepare, process, finalize, commit } = enc;
  const t0 = performance.now();
  const checks = await mem.exchange(checkBurst, blk.txs.length + 1);
  const t1 = performance.now();
  const [prep] = await cons.exchange(prepare, 2);
  const [proc] = await cons.exchange(process, 2);
  const [fin] = await cons.exchange(finalize, 2);
  const [com] = await cons.exchange(commit, 2);
  const t2 = performance.now();

  // Check everything after the clock stopped.
  checks.slice(0, -1).forEach((f, i) => {
    const r = Response.decode(f);
    if (r.checkTx?.code !== 0) throw new Error(`socket CheckTx ${i} failed: ${r.exception?.error ?? r.checkTx?.log}`);
  });
  const p = Response.decode(prep!).prepareProposal!;
  if (p.txs.length !== blk.txs.length || p.txs.some((tx, i) => !Buffer.from(tx).equals(blk.txs[i]!))) throw new Error('PrepareProposal changed the block');
  if (Response.decode(proc!).processProposal?.status !== Status.ACCEPT) throw new Error('ProcessProposal rejected');
  const f = Response.decode(fin!).finalizeBlock!;
  const bad = f.txResults.find((r) => r.code !== 0);
  if (f.txResults.length !== blk.txs.length || bad) throw new Error(`socket block has failed txs: ${bad?.codespace}/${bad?.code} ${bad?.log}`);
  if (!Response.decode(com!).commit) throw new Error('Commit failed');
  return { checkMs: t1 - t0, blockMs: t2 - t1, appHash: Buffer.from(f.appHash).toString('hex') };
}

/** A full GC before each timed run, so neither path pays for the other's garbage. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The driver alone: the same CheckTx burst and FinalizeBlock through a
 * server whose "App" returns canned results (the in-process App's real
 * results for that block, so responses have the real size and events), so
 * what is left is framing, decoding, encoding, the loopback and the worker.
 * Much less noisy than the difference of two full runs.
 */
async function driverOnly(blk: Block, enc: EncodedBlock, runs: number, real: InProcessRun): Promise<{ checkUs: number; finalizeMs: number }> {
  let next = 0;
  const stub = {
    checkTx: () => real.checks[next++ % real.checks.length]!,
    prefetchSignatures: async () => undefined,
    finalizeBlockAsync: async () => real.fin,
  } as unknown as AbciApp;
  const server = await startAbciServer({ app: stub, addr: 'tcp://127.0.0.1:0', log: () => undefined });
  const c = await RawClient.open(server.address);
  const check: number[] = [];
  const fin: number[] = [];
  try {
    for (let i = 0; i < runs + 1; i++) {
      collectGarbage();
      let t = performance.now();
      await c.exchange(enc.checkBurst, blk.txs.length + 1);
      const tc = performance.now() - t;
      t = performance.now();
      await c.exchange(enc.finalize, 2);
      const tf = performance.now() - t;
      if (i > 0) {
        check.push((tc * 1000) / blk.txs.length);
        fin.push(tf);
      }
    }
  } finally {
    c.socket.destroy();
    await server.close();
  }
  return { checkUs: median(check), finalizeMs: median(fin) };
}

export async function run(args: string[]): Promise<BenchFigures> {
  const nTxs = arg(args, 'txs', 5000);
  const runs = arg(args, 'runs', 7);
  const sends = args.includes('--sends');
  const warmup = 1;
  const accounts = sends ? Math.min(1000, nTxs) : arg(args, 'traders', 1000);
  const perAccount = Math.ceil(nTxs / accounts);
  const keys = testKeys(accounts, 'bench-abci');
  const appState = Buffer.from(JSON.stringify(genesisFor(keys, 10n ** 12n, sends ? {} : ordersAppState())));
  const dir = mkdtempSync(join(tmpdir(), 'perpchain-bench-abci-'));
  const poolA = new VerifyPool();
  const poolB = new VerifyPool();
  const local = App.open({ dbPath: join(dir, 'inproc.db'), verifyPool: poolA });
  const served = App.open({ dbPath: join(dir, 'served.db'), verifyPool: poolB });
  const server = await startAbciServer({ app: served, addr: 'tcp://127.0.0.1:0', log: () => undefined });
  try {
    const mem = await RawClient.open(server.address);
    const cons = await RawClient.open(server.address);

    // Genesis and an empty block 1 on both.
    local.initChain({ chainId: CHAIN_ID, timeNs: GENESIS_NS, initialHeight: 1n, appStateBytes: appState, consensusParams: PARAMS });
    const [init] = await cons.exchange(
      Buffer.concat([
        frame({
          initChain: {
            time: ts(GENESIS_NS),
            chainId: CHAIN_ID,
            initialHeight: 1n,
            appStateBytes: appState,
            consensusParams: { block: { maxBytes: PARAMS.block.maxBytes, maxGas: PARAMS.block.maxGas }, abci: { voteExtensionsEnableHeight: 0n } },
          },
        }),
        FLUSH,
      ]),
      2,
    );
    if (!Response.decode(init!).initChain) throw new Error('InitChain failed');
    const empty: Block = { height: 1n, timeNs: GENESIS_NS + 1_000_000_000n, txs: [] };
    const h1a = await inProcessBlock(local, empty);
    const h1b = await socketBlock(mem, cons, empty, encodeBlock(empty));
    if (h1a.appHash !== h1b.appHash) throw new Error('app hashes differ after block 1');

    const accountNumbers = accountNumbersOf(local, keys);
    const tSign = performance.now();
    let blocks: Block[];
    const flow = sends ? undefined : generateFlow(nTxs * (warmup + runs), 0x5eed, accounts);
    if (!flow) {
      blocks = await signBlocks(keys, accountNumbers, warmup + runs, perAccount, 2n);
      for (const b of blocks) b.txs = b.txs.slice(0, nTxs);
    } else {
      // Untimed block 2 on both: every trader deposits into subaccount 0.
      const deposits: Block = { height: 2n, timeNs: GENESIS_NS + 2_000_000_000n, txs: signDeposits(keys, accountNumbers, CHAIN_ID) };
      const h2a = await inProcessBlock(local, deposits);
      const h2b = await socketBlock(mem, cons, deposits, encodeBlock(deposits));
      if (h2a.appHash !== h2b.appHash) throw new Error('app hashes differ after the deposit block');
      const sequences = keys.map(() => 1n);
      blocks = [];
      for (let b = 0; b < warmup + runs; b++) {
        const height = 3n + BigInt(b);
        blocks.push({ height, timeNs: GENESIS_NS + height * 1_000_000_000n, txs: signFlow(flow, b * nTxs, (b + 1) * nTxs, { keys, accountNumbers, sequences, chainId: CHAIN_ID }) });
      }
      console.log(
        `  flow: ${flow.n} ops (limit ${flow.counts[LIMIT]}, cancel ${flow.counts[CANCEL]}, market ${flow.counts[MARKET]}) over ${accounts} traders, seed 0x5eed, cut into ${blocks.length} blocks of ${nTxs} order txs`,
      );
    }
    const encoded = blocks.map(encodeBlock);
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the encoders' garbage go before timing
    console.log(`  (signed ${blocks.length} × ${nTxs} txs in ${((performance.now() - tSign) / 1000).toFixed(1)} s; ${poolA.size} verify workers per App)`);

    const inproc: InProcessRun[] = [];
    const socket: Array<{ checkMs: number; blockMs: number }> = [];
    let first: InProcessRun | undefined;
    const check: FlowCheck = { fills: 0, referenceFills: 0, cancelsFailed: 0, maxGasUsed: 0n };
    for (let i = 0; i < blocks.length; i++) {
      const blk = blocks[i]!;
      // Alternate which path runs first, so neither always gets the warmer machine.
      collectGarbage();
      const a = i % 2 === 0 ? await inProcessBlock(local, blk) : undefined;
      collectGarbage();
      const s = await socketBlock(mem, cons, blk, encoded[i]!);
      if (!a) collectGarbage();
      const a2 = a ?? (await inProcessBlock(local, blk));
      if (a2.appHash !== s.appHash) throw new Error(`app hashes differ at height ${blk.height}`);
      if (flow) checkFlowResults(flow, i * nTxs, a2.fin.txResults, check); // (every code is 0 already: both paths checked)
      first ??= a2;
      if (i >= warmup) {
        inproc.push(a2);
        socket.push(s);
      }
    }
    mem.socket.destroy();
    cons.socket.destroy();
    const driver = await driverOnly(blocks[0]!, encoded[0]!, runs, first!);
    if (flow) {
      if (check.fills !== check.referenceFills) throw new Error(`the App made ${check.fills} fills, the flow's reference book ${check.referenceFills}`);
      const diff = compareBook(local, flow);
      if (diff) throw new Error(`the App's book differs from the flow's reference book: ${diff}`);
      console.log(`  every tx code 0 on both paths; ${check.fills} fills (${(check.fills / blocks.length).toFixed(0)} per block, = the reference book's); final book = reference book (${flow.reference.size} orders)`);
    }

    const total = (r: { checkMs: number; blockMs: number }) => r.checkMs + r.blockMs;
    const inprocMs = median(inproc.map(total));
    const socketMs = median(socket.map(total));
    // Each block ran both ways back to back: the median of the paired overheads is less
    // sensitive to a machine whose load drifts during the run than the ratio of medians.
    const overheadPct = median(socket.map((s, i) => ((total(s) - total(inproc[i]!)) / total(inproc[i]!)) * 100));
    console.log(`  in-process ${inprocMs.toFixed(1)} ms, socket ${socketMs.toFixed(1)} ms per ${nTxs}-tx block (medians of ${runs}); overhead ${overheadPct.toFixed(1)} % (median of the ${runs} paired runs; target ≤ 10 %)`);
    const driverMs = (driver.checkUs * nTxs) / 1000 + driver.finalizeMs;
    console.log(`  driver alone (canned App): ${driver.checkUs.toFixed(2)} µs per CheckTx round trip, ${driver.finalizeMs.toFixed(1)} ms per ${nTxs}-tx FinalizeBlock round trip ≈ ${((driverMs / inprocMs) * 100).toFixed(1)} % of the in-process block`);
    return {
      txs: nTxs,
      ...(flow ? { fills_per_block: Math.round(check.fills / blocks.length) } : {}),
      inproc_block_ms: round(inprocMs),
      socket_block_ms: round(socketMs),
      socket_overhead_ms: round(socketMs - inprocMs),
      overhead_pct: round(overheadPct),
      inproc_checktx_ms: round(median(inproc.map((r) => r.checkMs))),
      socket_checktx_ms: round(median(socket.map((r) => r.checkMs))),
      inproc_prepare_to_commit_ms: round(median(inproc.map((r) => r.blockMs))),
      socket_prepare_to_commit_ms: round(median(socket.map((r) => r.blockMs))),
      socket_tx_per_s: Math.round((nTxs / socketMs) * 1000),
      inproc_tx_per_s: Math.round((nTxs / inprocMs) * 1000),
      driver_checktx_roundtrip_us: round(driver.checkUs),
      driver_finalize_roundtrip_ms: round(driver.finalizeMs),
      driver_share_pct: round((driverMs / inprocMs) * 100),
    };
  } finally {
    await server.close();
    local.close();
    served.close();
    await poolA.close();
    await poolB.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
