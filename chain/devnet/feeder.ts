import Long from 'long';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { loadDataset, resample, type PriceTick } from '../../sim/data/index.js';
import { signTx, feeFor } from '../../client/signing.js';
import type { App } from '../app.js';
import type { Mempool } from './mempool.js';

export interface FeederMarket {
  marketId: number;
  /** A dataset id of sim/data (e.g. btc-2022-11-08). */
  dataset: string;
  /** The market's price exponent (BTC-USD −5, ETH-USD −6). */
  exponent: number;
}

export interface FeederOptions {
  app: App;
  mempool: Mempool;
  mnemonic: string;
  markets: FeederMarket[];
  /** Milliseconds of historic data per block (1,000: one second of the crash per block). */
  dataMsPerBlock: number;
  log: (line: string) => void;
}

/**
 * The devnet's price feeder: a driver that, after every block, signs a
 * MsgUpdatePrices with the registered feeder key and puts it in the mempool,
 * so prices reach the chain through the same message path as everyone's.
 * Prices replay real historic minute data (sim/data), resampled to the block
 * cadence and scaled so the replay starts at the chain's current price; at
 * the end of a dataset it starts over from where the price then stands.
 */
export class DevnetFeeder {
  private seq: bigint | undefined;
  private accountNumber = 0n;
  private step = 0;
  private readonly series: Array<{ marketId: number; ticks: PriceTick[]; anchor: bigint | undefined; ref: bigint }>;
  private pending: Promise<void> = Promise.resolve();
  private failures = 0;

  private constructor(
    private readonly o: FeederOptions,
    private readonly wallet: DirectSecp256k1HdWallet,
    readonly address: string,
  ) {
    this.series = o.markets.map((m) => {
      const ticks = resample(loadDataset(m.dataset).points, { blockMs: o.dataMsPerBlock, mode: 'linear-path', exponent: m.exponent, rounding: 'half-even' });
      // the anchor (the chain's price when the replay starts) is read at the first report, from committed state
      return { marketId: m.marketId, ticks, anchor: undefined, ref: ticks[0]!.price };
    });
  }

  static async create(o: FeederOptions): Promise<DevnetFeeder> {
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(o.mnemonic, { prefix: 'perp' });
    const [acc] = await wallet.getAccounts();
    return new DevnetFeeder(o, wallet, acc!.address);
  }

  /** Queue the next price report (called after every commit). */
  onCommit(): void {
    this.pending = this.pending.then(() => this.report()).catch((e: Error) => {
      if (this.failures++ < 3) this.o.log(`feeder: ${e.message}`);
    });
  }

  private nextPrices(): Array<{ marketId: number; price: bigint }> {
    const out = [];
    for (const s of this.series) {
      s.anchor ??= this.o.app.keepers.prices.getPrice(this.o.app.state, s.marketId)?.price ?? s.ref;
      let i = this.step % s.ticks.length;
      if (i === 0 && this.step > 0) {
        // wrap: continue from where the replay left the price
        s.anchor = (s.anchor * s.ticks[s.ticks.length - 1]!.price) / s.ref;
        i = 0;
      }
      const price = (s.anchor * s.ticks[i]!.price) / s.ref;
      out.push({ marketId: s.marketId, price: price > 0n ? price : 1n });
    }
    this.step++;
    return out;
  }

  private async report(): Promise<void> {
    const app = this.o.app;
    const feeders = app.keepers.prices.getParams(app.state).feeders;
    if (!feeders.includes(this.address)) return; // not (or no longer) a registered feeder
    if (this.seq === undefined) {
      const acc = app.keepers.auth.getAccount(app.state, this.address);
      if (!acc) return;
      this.accountNumber = acc.accountNumber;
      this.seq = acc.sequence;
    }
    const prices = this.nextPrices();
    const tx = await signTx({
      signer: this.wallet,
      signerAddress: this.address,
      messages: [{ typeUrl: '/perpchain.prices.v1.MsgUpdatePrices', value: { feeder: this.address, prices: prices.map((p) => ({ marketId: p.marketId, price: Long.fromString(p.price.toString(), true) })) } }],
      fee: feeFor(100_000n, app.keepers.auth.getParams(app.state).minGasPriceMicro),
      chainId: app.chainId,
      accountNumber: this.accountNumber,
      sequence: this.seq,
    });
    const r = this.o.mempool.add(tx);
    if (r.code === 0) this.seq += 1n;
    else this.seq = undefined; // resync the sequence from the chain next time
  }
}
