import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { App, InvariantBrokenError } from '../app.js';
import { LAST_BLOCK_TIME_KEY } from '../block-time.js';
import { MempoolSubmitter, startApi, type ApiServer } from '../api/index.js';
import { VerifyPool } from '../crypto/verify-pool.js';
import { HomeLock } from '../store/lock.js';
import { Opened } from './close-on-failure.js';
import { Mempool } from './mempool.js';
import { consensusParamsOf, homePaths, MAX_BLOCK_BYTES, NodeConfigSchema, readConfig, readGenesis, rfc3339ToNs, type HomePaths, type NodeConfig } from './home.js';
import type { CommittedBlock } from '../types.js';
import { DevnetFeeder } from './feeder.js';
import { openNodeApp } from './open-app.js';
import { BackgroundMerger } from './merger.js';
import type { Snapshotter } from '../snapshot/index.js';
import { readDevAccounts } from './home.js';

export interface DevnetOptions {
  home: string;
  log?: (line: string) => void;
  /** Overrides of the home's node.json. */
  apiPort?: number;
  apiHost?: string;
  blockIntervalMs?: number;
  checkInvariants?: boolean;
  /** false: do not produce blocks on a timer (tests call produce()). */
  autoProduce?: boolean;
  /**
   * Called once when block production stops for good (a broken invariant, a failed database). The node only
   * logs and records it (`halted`); what the host process makes of it (the CLI's exit code) is the caller's
   * business: a library class running in someone else's process (a test runner, an embedding app) must not
   * set process-wide state such as process.exitCode.
   */
  onHalt?: (error: Error) => void;
}

/**
 * A single-validator devnet: the App on the home's sqlite store, a mempool, a
 * block producer on a fixed interval and the API server. The producer is a
 * driver: it only calls the App's ABCI-shaped methods.
 */
export class DevnetNode {
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private producing: Promise<void> | undefined;
  private lastTimeNs = 0n;
  private haltedBy: Error | undefined;
  private onHalt: ((error: Error) => void) | undefined;

  private constructor(
    readonly app: App,
    readonly mempool: Mempool,
    readonly api: ApiServer,
    readonly paths: HomePaths,
    readonly config: NodeConfig,
    private readonly lock: HomeLock,
    private readonly pool: VerifyPool,
    private readonly snapshotter: Snapshotter,
    private readonly log: (line: string) => void,
    readonly apiAddress: { host: string; port: number },
  ) {
    this.merger = new BackgroundMerger(app, log);
  }

  /** Merges each block's change set into the store's main table after Commit, in slices. */
  readonly merger: BackgroundMerger;

  static async start(o: DevnetOptions): Promise<DevnetNode> {
    const log = o.log ?? ((l: string) => console.log(l));
    const paths = homePaths(o.home);
    if (!existsSync(paths.genesis)) throw new Error(`no genesis at ${paths.genesis}; run \`perpchain init --home ${o.home}\` first`);
    const lock = HomeLock.acquire(paths.lock);
    // what a failed start must close again, last opened first (a retry in this process must find the port free)
    const opened = new Opened();
    try {
      const config = readConfig(paths);
      if (o.apiPort !== undefined) config.api.port = o.apiPort;
      if (o.apiHost !== undefined) config.api.host = o.apiHost;
      if (o.blockIntervalMs !== undefined) config.block_interval_ms = o.blockIntervalMs;
      if (o.checkInvariants !== undefined) config.check_invariants = o.checkInvariants;
      // the overrides pass the same checks as the file's values
      const checked = NodeConfigSchema.safeParse(config);
      if (!checked.success) throw new Error(`node options: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const genesis = readGenesis(paths);
      mkdirSync(dirname(paths.db), { recursive: true }); // (a home whose data directory was deleted to start over)
      const { app, pool, snapshotter } = openNodeApp(paths, config, opened, log);
      if (app.height === 0n) {
        app.initChain({
          chainId: genesis.chain_id,
          timeNs: rfc3339ToNs(genesis.genesis_time),
          initialHeight: BigInt(genesis.initial_height || '1'),
          appStateBytes: Buffer.from(JSON.stringify(genesis.app_state)),
          consensusParams: consensusParamsOf(genesis),
        });
        log(`initialised chain ${genesis.chain_id} from ${paths.genesis}`);
      } else {
        if (app.chainId !== genesis.chain_id) throw new Error(`home data is for chain ${app.chainId}, genesis says ${genesis.chain_id}`);
        log(`resuming chain ${app.chainId} at height ${app.height}, app hash ${hex(app.appHash)}`);
      }
      const mempool = new Mempool(app, { maxTxs: config.mempool.max_txs, maxBytes: config.mempool.max_bytes });
      const { server: api, address: addr } = await startApi({ app, submitter: new MempoolSubmitter(mempool), config: config.api, log });
      opened.add(() => api.close());
      const n = new DevnetNode(app, mempool, api, paths, config, lock, pool, snapshotter, log, addr);
      n.onHalt = o.onHalt;
      // Block times only move forward: from the last block's (after a restart on a clock that went back) or
      // from the genesis time (a genesis in the future: blocks then carry times just after it, 1 ms apart,
      // until the wall clock catches up; CometBFT would wait for it).
      const stored = app.state.get(LAST_BLOCK_TIME_KEY);
      n.lastTimeNs = app.height > 0n && stored ? BigInt(Buffer.from(stored).toString()) : rfc3339ToNs(genesis.genesis_time);
      const ahead = n.lastTimeNs - BigInt(Date.now()) * 1_000_000n;
      if (ahead > 5_000_000_000n) log(`warning: the last block time (or genesis_time) is ${ahead / 1_000_000_000n} s ahead of this machine's clock: blocks carry times 1 ms apart after it until the clock catches up`);
      app.onCommit((b) => n.afterCommit(b));
      const feederKey = readDevAccounts(paths).find((a) => a.name === 'feeder');
      if (config.feeder.enabled && feederKey) {
        const feeder = await DevnetFeeder.create({
          app,
          mempool,
          mnemonic: feederKey.mnemonic,
          markets: config.feeder.markets.map((m) => ({ marketId: m.market_id, dataset: m.dataset, exponent: m.price_exponent })),
          dataMsPerBlock: config.feeder.data_ms_per_block,
          log,
        });
        app.onCommit(() => feeder.onCommit());
        feeder.onCommit();
        log(`price feeder ${feeder.address}: replaying ${config.feeder.markets.map((m) => `${m.dataset} → market ${m.market_id}`).join(', ')}`);
      }
      log(`API listening on ws://${addr.host}:${addr.port} (market page: http://${addr.host}:${addr.port}/ ; HTTP: GET /status, GET /query/<path>, POST /tx); block interval ${config.block_interval_ms} ms`);
      if (o.autoProduce !== false) n.schedule();
      return n;
    } catch (e) {
      await opened.closeAll();
      lock.release();
      throw e;
    }
  }

  private schedule(): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.producing = this.produce()
        .then(() => undefined)
        .catch((e) => {
          // A broken invariant is a finding, not a crash: its report is the message; anything else gets its stack.
          const code = (e as { code?: unknown }).code;
          const detail =
            e instanceof InvariantBrokenError
              ? `${e.message}\n  nothing of height ${e.height} was committed; the node stays at ${e.height - 1n} (inspect it with \`perpchain verify --home … --check-invariants\`)`
              : typeof code === 'string' && code.startsWith('SQLITE_')
                ? `the database failed: ${(e as Error).message} (${code}); the last committed block is safe: fix the cause (e.g. free disk space) and start the node again`
                : ((e as Error).stack ?? String(e));
          this.log(`FATAL: block production stopped: ${detail}`);
          this.stopping = true;
          this.haltedBy = e instanceof Error ? e : new Error(String(e));
          try {
            this.onHalt?.(this.haltedBy);
          } catch (err) {
            this.log(`onHalt failed: ${(err as Error).message}`);
          }
        })
        .finally(() => {
          this.producing = undefined;
          this.schedule();
        });
    }, this.config.block_interval_ms);
  }

  /** Why block production stopped for good (see DevnetOptions.onHalt); undefined while it runs or after a plain stop(). */
  get halted(): Error | undefined {
    return this.haltedBy;
  }

  /** Make one block from the mempool (also used by tests to step the chain). */
  async produce(): Promise<CommittedBlock> {
    const app = this.app;
    const params = app.consensusParams();
    const height = app.nextHeight; // (a genesis may start at any initial_height)
    // Block time from the wall clock (a driver may read it), strictly increasing.
    const now = BigInt(Date.now()) * 1_000_000n;
    const timeNs = now > this.lastTimeNs ? now : this.lastTimeNs + 1_000_000n;
    this.lastTimeNs = timeNs;
    const maxBytes = params.block.maxBytes > 0n ? params.block.maxBytes : MAX_BLOCK_BYTES; // -1: CometBFT's largest block
    const candidates = this.mempool.reap(Number(maxBytes), params.block.maxGas);
    const proposal = app.prepareProposal({
      maxTxBytes: maxBytes,
      txs: candidates,
      localLastCommit: { round: 0, votes: [] },
      height,
      timeNs,
      proposerAddress: this.proposer(),
    });
    await app.finalizeBlockAsync({ txs: proposal.txs, height, timeNs, hash: new Uint8Array(32), proposerAddress: this.proposer() });
    let committed: CommittedBlock | undefined;
    const off = app.onCommit((b) => (committed = b));
    try {
      app.commit();
    } finally {
      off();
    }
    return committed!;
  }

  private proposer(): Uint8Array {
    return Buffer.from(this.config.validator_address ?? '00'.repeat(20), 'hex');
  }

  private afterCommit(b: CommittedBlock): void {
    // merge the block's change set into the store's main table between blocks, off the commit path,
    // a slice per event-loop turn so the API is served in between
    this.merger.kick();
    this.mempool.update(b.height, b.txHashes, b.txResults);
    const failed = b.txResults.filter((r) => r.code !== 0).length;
    this.log(`block ${b.height}  txs ${b.txs.length}${failed ? ` (${failed} failed)` : ''}  app_hash ${hex(b.appHash).slice(0, 16)}…`);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await this.producing;
    await this.api.close();
    await this.merger.stop();
    await this.snapshotter.stop();
    await this.pool.close();
    this.app.close();
    this.lock.release();
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').toUpperCase();
}
