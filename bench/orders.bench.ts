/**
 * Signed order transactions end to end, beside signed MsgSends measured the
 * same way in the same run.
 *
 * The flow is the matching bench's (bench/lib/order-flow.ts: ~70% limit
 * orders a few ticks around a slowly drifting mid, ~25% cancels of live
 * orders, ~5% market orders; seed 0x5eed) over `--traders` owners, sent as
 * real txs (bench/lib/order-txs.ts): MsgPlaceOrder limit GTC, MsgPlaceOrder
 * market (IOC with the module's oracle ± slippage worst-price bound) and
 * MsgCancelOrder by client id, one message per tx, signed with TestKeys, on
 * BTC-USD from the devnet genesis. The traders are funded in genesis and
 * deposit into subaccount 0 in an untimed setup block.
 *
 * Both variants run on a fresh sqlite-backed App from the same genesis and
 * setup block, with the same number of txs in the same block sizes, on the
 * path of the foundation bench's "pipelined" variant: the VerifyPool
 * verifies block N+1's signatures (prefetchSignatures) while the main thread
 * runs block N: CheckTx for every tx, FinalizeBlock, Commit and
 * app.checkpoint() (the node merges its sqlite change log between blocks).
 * The sends are the foundation bench's MsgSends (signSends) among the same
 * traders. Signing, setup and the result checks are outside the clock.
 *
 * Every tx must succeed: a cancel refused because its order is no longer
 * open (clob/7) would be counted and reported (the flow only cancels orders
 * its reference book still holds, so none are expected); any other failure
 * stops the bench. After the run the App's book must equal the flow's
 * reference book level by level, its fills the reference's fill count, and
 * the App's invariants must hold.
 *
 *   npm run bench -- orders [--txs=20000] [--block=2000] [--traders=500] [--reps=1]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from '../chain/app.js';
import { VerifyPool } from '../chain/crypto/verify-pool.js';
import type { ExecTxResult } from '../chain/types.js';
import { testKeys } from '../test/helpers/keys.js';
import type { BenchFigures } from './run.js';
import { CHAIN_ID, blockReq, chunks, median, newApp, now, signSends } from './lib/foundation-state.js';
import { CANCEL, LIMIT, MARKET, generateFlow } from './lib/order-flow.js';
import { accountNumbersOf, checkFlowResults, compareBook, ordersAppState, signDeposits, signFlow, type FlowCheck } from './lib/order-txs.js';

export const name = 'orders';
export const description = 'signed order txs (limit 70% / cancel 25% / market 5%) end to end on a sqlite App vs signed MsgSends the same way (CheckTx + FinalizeBlock + Commit + checkpoint)';

const SEED = 0x5eed;

function arg(args: string[], key: string, dflt: number): number {
  const a = args.find((x) => x.startsWith(`--${key}=`));
  return a ? Number(a.slice(key.length + 3)) : dflt;
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
const r2 = (x: number) => Math.round(x * 100) / 100;
const started = performance.now();
const progress = (what: string) => process.stderr.write(`  … ${what} done at ${((performance.now() - started) / 1000).toFixed(0)} s\n`);

interface BlockRun {
  txs: number;
  checkMs: number;
  finalizeMs: number;
  commitMs: number;
  results: ExecTxResult[];
}

interface Run {
  ms: number;
  blocks: BlockRun[];
  app: App;
}

export async function run(args: string[]): Promise<BenchFigures> {
  const TXS = arg(args, 'txs', 20_000);
  const BLOCK = arg(args, 'block', 2_000);
  const TRADERS = arg(args, 'traders', 500);
  const REPS = Math.max(1, arg(args, 'reps', 1));
  const tmp = mkdtempSync(join(tmpdir(), 'perpchain-bench-orders-'));
  const pool = new VerifyPool();
  const open: App[] = [];
  try {
    console.log(
      `  ${TXS.toLocaleString('en-US')} txs per variant in blocks of ${BLOCK.toLocaleString('en-US')}, ${TRADERS} traders; verify pool of ${pool.size} workers; load average at start ${loadavg().map((x) => x.toFixed(1)).join(' ')} (other processes on the machine skew every figure)`,
    );
    // ------------------------------------------------------------- untimed
    const t = now();
    const flow = generateFlow(TXS, SEED, TRADERS);
    console.log(
      `  flow: limit ${flow.counts[LIMIT]}, cancel ${flow.counts[CANCEL]}, market ${flow.counts[MARKET]}, seed 0x${SEED.toString(16)}; the reference book made ${sum(flow.fills)} fills and ends with ${flow.reference.size} resting orders (at most ${flow.maxLivePerOwner} per trader)`,
    );
    const keys = testKeys(TRADERS, 'bench-orders');
    const appState = ordersAppState();
    const setup = (label: string): App => {
      const app = newApp(join(tmp, `${label}.db`), keys, pool, appState);
      open.push(app);
      return app;
    };
    const probe = setup('probe');
    const accountNumbers = accountNumbersOf(probe, keys);
    const deposits = signDeposits(keys, accountNumbers, CHAIN_ID);
    /** A fresh App: genesis (markets, funded traders), block 1, and block 2 with every trader's deposit. */
    const fresh = async (label: string): Promise<App> => {
      const app = label === 'probe' ? probe : setup(label);
      await app.prefetchSignatures(deposits);
      for (const x of deposits) if (app.checkTx({ tx: x, type: 'new' }).code !== 0) throw new Error('setup CheckTx failed');
      const r = app.finalizeBlock(blockReq(app.height + 1n, deposits));
      const bad = r.txResults.find((x) => x.code !== 0);
      if (bad) throw new Error(`setup deposit failed: ${bad.codespace}/${bad.code} ${bad.log}`);
      app.commit();
      app.checkpoint();
      return app;
    };
    const orderTxs = signFlow(flow, 0, TXS, { keys, accountNumbers, sequences: keys.map(() => 1n), chainId: CHAIN_ID });
    const sendTxs = signSends({ keys, accountNumbers, startSeq: keys.map(() => 1n), rounds: Math.ceil(TXS / TRADERS), to: (k, r) => keys[(k * 7 + r + 1) % TRADERS]!.address }).slice(0, TXS);
    const orderBlocks = chunks(orderTxs, BLOCK);
    const sendBlocks = chunks(sendTxs, BLOCK);
    console.log(`  pre-signed ${orderTxs.length.toLocaleString('en-US')} order txs and ${sendTxs.length.toLocaleString('en-US')} MsgSends in ${((now() - t) / 1000).toFixed(1)} s (not measured)`);

    /** The timed path (foundation's "pipelined"): prefetch block N+1 while block N runs CheckTx, FinalizeBlock, Commit, checkpoint. */
    const e2e = async (app: App, blocks: Uint8Array[][]): Promise<Run> => {
      const out: BlockRun[] = [];
      const t0 = now();
      let next = app.prefetchSignatures(blocks[0]!);
      for (let i = 0; i < blocks.length; i++) {
        const b = blocks[i]!;
        await next;
        next = i + 1 < blocks.length ? app.prefetchSignatures(blocks[i + 1]!) : Promise.resolve();
        const tc = now();
        for (const x of b) {
          const r = app.checkTx({ tx: x, type: 'new' });
          if (r.code !== 0) throw new Error(`CheckTx failed: ${r.codespace}/${r.code} ${r.log}`);
        }
        const tf = now();
        const fin = app.finalizeBlock(blockReq(app.height + 1n, b));
        const tm = now();
        app.commit();
        app.checkpoint();
        const te = now();
        out.push({ txs: b.length, checkMs: tf - tc, finalizeMs: tm - tf, commitMs: te - tm, results: fin.txResults });
      }
      return { ms: now() - t0, blocks: out, app };
    };

    // Warm-up (untimed, throwaway Apps): the first two blocks of each, so neither variant pays the JIT alone.
    const warm = Math.min(2, orderBlocks.length);
    await e2e(await fresh('probe'), orderBlocks.slice(0, warm));
    await e2e(await fresh('warm-sends'), sendBlocks.slice(0, warm));
    progress('setup and warm-up');

    // ------------------------------------------------------------- timed
    const orderRuns: Run[] = [];
    const sendRuns: Run[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      // alternate which variant goes first, so neither always gets the warmer (or quieter) machine
      const variants: Array<[Run[], Uint8Array[][], string]> = [
        [orderRuns, orderBlocks, 'orders'],
        [sendRuns, sendBlocks, 'sends'],
      ];
      if (rep % 2 === 1) variants.reverse();
      for (const [runs, blocks, label] of variants) {
        const app = await fresh(`${label}-${rep}`);
        runs.push(await e2e(app, blocks));
        progress(`${label}, repetition ${rep + 1}`);
      }
    }

    // ------------------------------------------------------------- checks (untimed)
    let check: FlowCheck | undefined;
    for (const r of orderRuns) {
      let at = 0;
      const c: FlowCheck = { fills: 0, referenceFills: 0, cancelsFailed: 0, maxGasUsed: 0n };
      for (const b of r.blocks) {
        checkFlowResults(flow, at, b.results, c);
        at += b.txs;
      }
      if (check && (check.fills !== c.fills || check.cancelsFailed !== c.cancelsFailed)) throw new Error('order runs disagree');
      check = c;
      const diff = compareBook(r.app, flow);
      if (diff) throw new Error(`the App's book differs from the flow's reference book: ${diff}`);
      const broken = r.app.runInvariants();
      if (broken.length) throw new Error(`invariants broken after the order flow: ${broken.slice(0, 3).join('; ')}`);
    }
    for (const r of sendRuns) {
      for (const b of r.blocks) {
        const bad = b.results.find((x) => x.code !== 0);
        if (bad) throw new Error(`a MsgSend failed: ${bad.codespace}/${bad.code} ${bad.log}`);
      }
    }
    const hashes = new Set(orderRuns.map((r) => Buffer.from(r.app.appHash).toString('hex')));
    if (hashes.size !== 1) throw new Error('order runs ended with different app hashes');
    const c = check!;
    if (c.cancelsFailed === 0 && c.fills !== c.referenceFills) throw new Error(`the App made ${c.fills} fills, the reference book ${c.referenceFills}`);

    // ------------------------------------------------------------- report
    const fillsOf = (b: BlockRun) => b.results.reduce((s, r) => s + r.events.filter((e) => e.type === 'clob.fill').length, 0);
    const o = orderRuns[orderRuns.length - 1]!;
    const s = sendRuns[sendRuns.length - 1]!;
    console.log('  per block (last repetition)           orders                                          |  sends');
    console.log('  block   txs    CheckTx ms  FinalizeBlock ms  Commit+checkpoint ms  fills          |  CheckTx ms  FinalizeBlock ms  Commit+checkpoint ms');
    o.blocks.forEach((b, i) => {
      const sb = s.blocks[i]!;
      console.log(
        `  ${String(i + 1).padStart(5)} ${String(b.txs).padStart(6)} ${b.checkMs.toFixed(1).padStart(12)} ${b.finalizeMs.toFixed(1).padStart(17)} ${b.commitMs.toFixed(1).padStart(21)} ${String(fillsOf(b)).padStart(6)}          |${sb.checkMs.toFixed(1).padStart(11)} ${sb.finalizeMs.toFixed(1).padStart(17)} ${sb.commitMs.toFixed(1).padStart(21)}`,
      );
    });
    const orderTps = orderRuns.map((r) => rate(TXS, r.ms));
    const sendTps = sendRuns.map((r) => rate(TXS, r.ms));
    const orderMed = Math.round(median(orderTps));
    const sendMed = Math.round(median(sendTps));
    const allBlocks = (runs: Run[]) => runs.flatMap((r) => r.blocks);
    const perTxUs = (bs: BlockRun[], f: (b: BlockRun) => number) => median(bs.map((b) => (f(b) * 1000) / b.txs));
    const out: BenchFigures = {
      txs: TXS,
      block_txs: BLOCK,
      traders: TRADERS,
      order_e2e_tx_per_s: orderMed,
      send_e2e_tx_per_s: sendMed,
      orders_vs_sends_ratio: r2(orderMed / sendMed),
      order_finalize_block_ms: r2(median(allBlocks(orderRuns).map((b) => b.finalizeMs))),
      send_finalize_block_ms: r2(median(allBlocks(sendRuns).map((b) => b.finalizeMs))),
      order_finalize_tx_per_s: rate(TXS * orderRuns.length, sum(allBlocks(orderRuns).map((b) => b.finalizeMs))),
      send_finalize_tx_per_s: rate(TXS * sendRuns.length, sum(allBlocks(sendRuns).map((b) => b.finalizeMs))),
      order_checktx_us: r2(perTxUs(allBlocks(orderRuns), (b) => b.checkMs)),
      send_checktx_us: r2(perTxUs(allBlocks(sendRuns), (b) => b.checkMs)),
      order_commit_checkpoint_ms: r2(median(allBlocks(orderRuns).map((b) => b.commitMs))),
      send_commit_checkpoint_ms: r2(median(allBlocks(sendRuns).map((b) => b.commitMs))),
      fills: c.fills,
      fills_per_block: r2(c.fills / o.blocks.length),
      cancels_failed: c.cancelsFailed,
      order_max_gas_used: Number(c.maxGasUsed),
    };
    console.log(
      `  checks: every tx code 0${c.cancelsFailed ? ` except ${c.cancelsFailed} cancels of orders no longer open (clob/7)` : ''}; ${c.fills} fills (reference book ${c.referenceFills}); final book = reference book (${flow.reference.size} orders); invariants hold; most gas used by a tx ${c.maxGasUsed}`,
    );
    console.log(`  signed txs end to end (pool pipelined: CheckTx + FinalizeBlock + Commit + checkpoint, sqlite), ${TXS.toLocaleString('en-US')} txs in blocks of ${BLOCK.toLocaleString('en-US')}:`);
    console.log(`    orders (limit/cancel/market)   ${orderMed.toLocaleString('en-US').padStart(8)} tx/s${REPS > 1 ? `  (median of [${orderTps.join(', ')}])` : ''}`);
    console.log(`    MsgSend (foundation's tx)      ${sendMed.toLocaleString('en-US').padStart(8)} tx/s${REPS > 1 ? `  (median of [${sendTps.join(', ')}])` : ''}`);
    console.log(`    orders / sends                 ×${(orderMed / sendMed).toFixed(2)}`);
    console.log(`  load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    return out;
  } finally {
    for (const a of open) a.close();
    await pool.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function sum(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s;
}
