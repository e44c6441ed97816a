/**
 * Risk simulator throughput: simulated blocks per second with 10,000 trading
 * accounts, through the real App (every price a feeder-signed tx, every order
 * a signed tx through the full ante handler, FinalizeBlock + Commit per block).
 *
 * Two flows, each on a fresh in-memory chain after an untimed warm-up in which
 * every account deposits and the leveraged traders open their positions:
 *   calm   BTC 2022-05-12 04:00 (minute candles, 1 s blocks): a normal hour
 *   crash  BTC 2021-05-19 13:07 (minute candles, 1 s blocks): the fall to
 *          $28.7k — makers pull their quotes, liquidations find no bids and go
 *          to ADL, then fill through the book again
 * plus `empty`: the same 10k-account chain with no txs at all (the App's
 * fixed cost per block, the ceiling for any driver).
 *
 * Figures: blocks/s by wall clock and by this process's CPU time (the
 * machine is shared; CPU time is the steadier figure), txs and messages per
 * block, and where a block's time goes (agents deciding, signing,
 * FinalizeBlock, Commit, reading results, measuring).
 *
 *   node --import tsx bench/run.ts sim [--accounts=10000] [--blocks=600] [--crash-blocks=120]
 *   node --cpu-prof --import tsx bench/run.ts sim      # profile (see sim/README.md)
 */
import { buildConfig, type SimConfig } from '../sim/config.js';
import { Simulation } from '../sim/runner.js';
import type { BenchFigures } from './run.js';

export const name = 'sim';
export const description = 'risk simulator: simulated blocks/s with 10,000 trading accounts (calm and crash flows, plus empty blocks), with a per-stage breakdown';

function arg(args: string[], key: string, dflt: string): string {
  const a = args.find((x) => x.startsWith(`--${key}=`));
  return a ? a.slice(key.length + 3) : dflt;
}

function config(flow: 'calm' | 'crash' | 'empty', accounts: number, blocks: number): SimConfig {
  const market =
    flow === 'crash'
      ? { id: 0, dataset: 'btc-2021-05-19', from: '2021-05-19T13:07:00Z', mode: 'linear-path', weight: 1 }
      : { id: 0, dataset: 'btc-2022-05-12', from: '2022-05-12T04:00:00Z', mode: 'linear-path', weight: 1 };
  return buildConfig({
    name: `bench-${flow}`,
    seed: 7,
    blockMs: 1000,
    warmupBlocks: 200,
    blocks,
    markets: [market],
    agents: {
      traders: accounts,
      // every leveraged trader enters during the warm-up (untimed), so the timed blocks trade on 10k open accounts
      leveraged: { warmupShare: 1 },
    },
    checkInvariants: 'never',
    report: { marginSamples: 20 },
  });
}

interface Stage {
  slowest: { ms: number; sblock: number; adl: number; liquidations: number };
  blocksPerSec: number;
  cpuBlocksPerSec: number;
  txsPerBlock: number;
  msgsPerBlock: number;
  ms: Record<string, number>;
  accountsWithPositions: number;
  liquidations: number;
}

function measure(sim: Simulation, blocks: number, emptyBlocks = false): Stage {
  const t0 = { ...sim.timing };
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  if (emptyBlocks) {
    // FinalizeBlock with no txs at all on the same state: the App's fixed cost per block
    const app = sim.chain;
    let h = app.height;
    const c = sim.metrics.cols;
    let time = BigInt(c.timeMs[c.timeMs.length - 1]!) * 1_000_000n; // continue at the run's cadence
    for (let i = 0; i < blocks; i++) {
      h += 1n;
      time += 1_000_000_000n;
      app.finalizeBlock({ txs: [], height: h, timeNs: time, hash: new Uint8Array(32), proposerAddress: new Uint8Array(20) });
      app.commit();
    }
  }
  const slowest = { ms: 0, sblock: 0, adl: 0, liquidations: 0 };
  if (!emptyBlocks) {
    for (let i = 0; i < blocks; i++) {
      const b0 = performance.now();
      sim.step();
      const ms = performance.now() - b0;
      if (ms > slowest.ms) {
        const c = sim.metrics.cols;
        const k = c.height.length - 1;
        Object.assign(slowest, { ms, sblock: c.sblock[k]!, adl: c.adlFills[k]!, liquidations: c.liquidations[k]! });
      }
    }
  }
  const wall = performance.now() - w0;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const t = sim.timing;
  const d = (k: keyof typeof t) => t[k] - t0[k];
  const n = emptyBlocks ? blocks : d('blocks');
  return {
    slowest,
    blocksPerSec: (n / wall) * 1000,
    cpuBlocksPerSec: (n / cpuMs) * 1000,
    txsPerBlock: emptyBlocks ? 0 : d('txs') / n,
    msgsPerBlock: emptyBlocks ? 0 : d('msgs') / n,
    ms: emptyBlocks ? {} : { agents: d('agents') / n, sign: d('sign') / n, finalize: d('finalize') / n, commit: d('commit') / n, results: d('results') / n, measure: d('measure') / n },
    accountsWithPositions: sim.agents.filter((a) => a.position !== 0n).length,
    liquidations: sim.metrics.scenario.liqCount,
  };
}

export async function run(args: string[]): Promise<BenchFigures> {
  const accounts = Number(arg(args, 'accounts', '10000'));
  const calmBlocks = Number(arg(args, 'blocks', '600'));
  const crashBlocks = Number(arg(args, 'crash-blocks', '120'));
  const out: BenchFigures = {};
  for (const flow of ['calm', 'crash'] as const) {
    const blocks = flow === 'calm' ? calmBlocks : crashBlocks;
    const t = performance.now();
    const sim = new Simulation(config(flow, accounts, blocks));
    sim.run(sim.warmup);
    const setup = performance.now() - t;
    const s = measure(sim, blocks);
    console.log(
      `  ${flow}: ${accounts.toLocaleString()} traders + ${sim.agents.length - accounts} makers, ${s.accountsWithPositions.toLocaleString()} with positions; warm-up ${(setup / 1000).toFixed(1)} s (untimed); ` +
        `${blocks} blocks: ${s.txsPerBlock.toFixed(1)} txs / ${s.msgsPerBlock.toFixed(1)} msgs per block, ${sim.metrics.scenario.liqCount} liquidation steps, ${sim.metrics.scenario.adlFills} ADL fills`,
    );
    console.log(`    per block (ms): ${Object.entries(s.ms).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(' · ')}`);
    console.log(`    slowest block: ${s.slowest.ms.toFixed(0)} ms (scenario block ${s.slowest.sblock}: ${s.slowest.liquidations} liquidation steps, ${s.slowest.adl} ADL fills)`);
    console.log(`    ==> ${s.blocksPerSec.toFixed(0)} simulated blocks/s (wall), ${s.cpuBlocksPerSec.toFixed(0)} per CPU-second (target 2,000)`);
    out[`${flow}_blocks_per_sec`] = Math.round(s.blocksPerSec);
    out[`${flow}_blocks_per_cpu_sec`] = Math.round(s.cpuBlocksPerSec);
    out[`${flow}_txs_per_block`] = Math.round(s.txsPerBlock * 10) / 10;
    out[`${flow}_finalize_ms`] = Math.round(s.ms.finalize! * 1000) / 1000;
    out[`${flow}_driver_ms`] = Math.round((s.ms.agents! + s.ms.sign! + s.ms.results! + s.ms.measure!) * 1000) / 1000;
    out[`${flow}_slowest_block_ms`] = Math.round(s.slowest.ms);
    if (flow === 'calm') {
      const e = measure(sim, 2000, true);
      console.log(`  empty: FinalizeBlock + Commit with no txs on the same ${accounts.toLocaleString()}-account state`);
      console.log(`    ==> ${e.blocksPerSec.toFixed(0)} blocks/s (wall), ${e.cpuBlocksPerSec.toFixed(0)} per CPU-second: the App's fixed cost per block`);
      out.empty_blocks_per_sec = Math.round(e.blocksPerSec);
      out.empty_blocks_per_cpu_sec = Math.round(e.cpuBlocksPerSec);
    }
    sim.close();
  }
  return out;
}
