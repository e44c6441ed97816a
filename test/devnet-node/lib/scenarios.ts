/**
 * The devnet node's life-cycle scenarios, run in a child process, never in a vitest worker:
 *
 *   node --import tsx test/devnet-node/lib/scenarios.ts <work dir> [scenario …]   (default: all, in order)
 *
 * Each scenario runs DevnetNode in-process (10 ms blocks, WAL and signature worker threads, the API server) and
 * prints what it saw as one line `RESULT <scenario> <json>` (bigints as strings; `{ error }` if it threw);
 * lifecycle.test.ts makes the assertions.
 * Run apart from the vitest worker, a node that crashes the process, sets process-wide state or leaves
 * something running after stop() fails one test with its output instead of taking the test worker down.
 *
 * After each scenario every node has been stopped: the script then reports process.exitCode and the
 * resources still holding the event loop open, and at the end it must exit by itself (it never calls
 * process.exit), so a timer, socket or thread that outlives stop() shows as a child that does not end.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, InvariantBrokenError } from '../../../chain/app.js';
import { homePaths, initHome, readDevAccounts } from '../../../chain/devnet/home.js';
import { DevnetNode, type DevnetOptions } from '../../../chain/devnet/node.js';
import { PerpchainClient, Trader } from '../../../client/index.js';
import { corruptBalance } from '../../reliability/lib/home.js';
import { testKeys } from '../../helpers/keys.js';
import { waitFor } from '../../e2e/node.js';

const CHAIN = 'perpchain-node-life-1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A devnet home with the price feeder off (blocks hold only what a scenario puts in them). */
async function home(tmp: string, name: string, balances: Array<{ address: string; amount: string }> = []): Promise<string> {
  const dir = join(tmp, name);
  await initHome({ home: dir, chainId: CHAIN, accounts: 1, ...(balances.length ? { appState: { bank: { balances } } } : {}) });
  const paths = homePaths(dir);
  const cfg = JSON.parse(readFileSync(paths.config, 'utf8')) as Record<string, unknown>;
  cfg.feeder = { ...((cfg.feeder as object | undefined) ?? {}), enabled: false };
  writeFileSync(paths.config, JSON.stringify(cfg));
  return dir;
}

function start(dir: string, o: Partial<DevnetOptions> = {}, logs: string[] = []): Promise<DevnetNode> {
  return DevnetNode.start({ home: dir, apiPort: 0, autoProduce: false, log: (l) => logs.push(l), ...o });
}

/** A home at height 2 whose dev0 balance was changed on disk: the bank supply invariant no longer holds. */
async function brokenHome(tmp: string, name: string): Promise<string> {
  const dir = await home(tmp, name);
  const n = await start(dir);
  await n.produce();
  await n.produce();
  await n.stop();
  const dev0 = readDevAccounts(homePaths(dir)).find((a) => a.name === 'dev0')!;
  corruptBalance(homePaths(dir).db, dev0.address, 7n);
  return dir;
}

/** Date.now() fixed at `ms` until the returned function is called. */
function fixClock(ms: number): () => void {
  const real = Date.now;
  Date.now = () => ms;
  return () => {
    Date.now = real;
  };
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

type Scenario = (tmp: string) => Promise<Record<string, unknown>>;

const scenarios: Record<string, Scenario> = {
  /** An override node.json would refuse is refused; the refused start leaves the home usable. */
  async overrides(tmp) {
    const dir = await home(tmp, 'overrides');
    const refused = await start(dir, { blockIntervalMs: 5 }).then(
      () => 'started',
      (e: unknown) => message(e),
    );
    // the refused start released the home lock (the file itself is checked: this process would take over its own lock)
    const lockAfterRefusal = existsSync(homePaths(dir).lock);
    const n = await start(dir, { blockIntervalMs: 10 });
    const interval = n.config.block_interval_ms;
    await n.stop();
    return { refused, lockAfterRefusal, interval };
  },

  /** A home whose data is of another chain than its genesis is refused. */
  async otherChain(tmp) {
    const dir = await home(tmp, 'other-chain');
    const n = await start(dir);
    await n.produce();
    await n.stop();
    const paths = homePaths(dir);
    const g = JSON.parse(readFileSync(paths.genesis, 'utf8')) as Record<string, unknown>;
    writeFileSync(paths.genesis, JSON.stringify({ ...g, chain_id: 'perpchain-other-9' }));
    const refused = await start(dir).then(
      async (m) => (await m.stop(), 'started'),
      (e: unknown) => message(e),
    );
    return { refused, lockAfterRefusal: existsSync(paths.lock) };
  },

  /** stop() while a block is being made: the block commits, the shutdown waits for it, nothing runs after it. */
  async stop(tmp) {
    const dir = await home(tmp, 'stop');
    const logs: string[] = [];
    const n = await start(dir, { autoProduce: true, blockIntervalMs: 10 }, logs);
    await waitFor(() => n.app.height >= 2n, 20_000, 'two blocks');
    // hold the next block in the making until released, so stop() arrives while it is being made
    const finalize = n.app.finalizeBlockAsync.bind(n.app);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let making = false;
    let released = false;
    n.app.finalizeBlockAsync = async (req) => {
      making = true;
      await gate;
      return finalize(req);
    };
    // nothing of the shutdown (closing the API, then the App) may start before that block is committed
    let shutDownWhileMaking = false;
    const closeApi = n.api.close.bind(n.api);
    n.api.close = () => {
      shutDownWhileMaking ||= making && !released;
      return closeApi();
    };
    const closeApp = n.app.close.bind(n.app);
    n.app.close = () => {
      shutDownWhileMaking ||= making && !released;
      closeApp();
    };
    await waitFor(() => making, 20_000, 'a block in the making');
    const height = n.app.height + 1n;
    const stopped = n.stop();
    await sleep(30);
    released = true;
    release();
    await stopped;
    const logsAtStop = logs.length;
    await sleep(60); // several block intervals
    const app = App.open({ dbPath: homePaths(dir).db });
    const stored = app.height;
    app.close();
    return {
      height,
      stored,
      shutDownWhileMaking,
      fatal: logs.filter((l) => l.includes('FATAL')),
      last: logs.at(-1),
      logsAfterStop: logs.slice(logsAtStop),
      halted: n.halted ? message(n.halted) : null,
    };
  },

  /** The checkInvariants override applies: the block on a broken state is refused and nothing is committed. */
  async invOverride(tmp) {
    const dir = await brokenHome(tmp, 'inv-override');
    const n = await start(dir, { checkInvariants: true });
    try {
      const produced = await n.produce().then(
        () => 'committed',
        (e: unknown) => (e instanceof InvariantBrokenError ? 'InvariantBrokenError' : `other: ${message(e)}`),
      );
      return { produced, height: n.app.height };
    } finally {
      await n.stop();
    }
  },

  /** A broken invariant halts production once; the node reports it (halted, onHalt) and leaves the process alone. */
  async invHalt(tmp) {
    const dir = await brokenHome(tmp, 'inv-halt');
    const logs: string[] = [];
    const halts: Error[] = [];
    const n = await start(dir, { checkInvariants: true, autoProduce: true, blockIntervalMs: 10, onHalt: (e) => halts.push(e) }, logs);
    try {
      await waitFor(() => logs.some((l) => l.includes('FATAL')), 20_000, 'the halt');
      await sleep(80); // eight more block intervals: no further attempt
      return {
        fatal: logs.filter((l) => l.includes('FATAL')),
        height: n.app.height,
        halted: n.halted instanceof InvariantBrokenError ? { height: n.halted.height, message: n.halted.message } : n.halted ? `other: ${message(n.halted)}` : null,
        onHalt: halts.map((e) => (e === n.halted ? 'the halt' : message(e))),
      };
    } finally {
      await n.stop();
    }
  },

  /** Block times strictly increase, 1 ms apart when the clock has not moved. */
  async sameMs(tmp) {
    const dir = await home(tmp, 'same-ms');
    const n = await start(dir);
    const now = Date.now() + 60_000; // after the genesis time
    const restore = fixClock(now);
    try {
      const a = await n.produce();
      const b = await n.produce();
      return { now, a: a.timeNs, b: b.timeNs };
    } finally {
      restore();
      await n.stop();
    }
  },

  /** After a restart on a clock that went back, blocks carry times after the last block's. */
  async clockBack(tmp) {
    const dir = await home(tmp, 'clock-back');
    const restore = fixClock(Date.now() + 3_600_000);
    let n: DevnetNode;
    let last;
    try {
      n = await start(dir);
      last = await n.produce();
      await n.stop();
    } finally {
      restore(); // the clock is an hour behind that block now
    }
    n = await start(dir);
    try {
      const next = await n.produce();
      return { last: last.timeNs, next: next.timeNs };
    } finally {
      await n.stop();
    }
  },

  /** Blocks take from the mempool only what fits the chain's max gas; the rest waits for the next block. */
  async maxGas(tmp) {
    const [key] = testKeys(1, 'node-life');
    const dir = await home(tmp, 'max-gas', [{ address: key!.address, amount: '1000000000000' }]);
    const n = await start(dir);
    const c = await PerpchainClient.connect({ url: `ws://127.0.0.1:${n.apiAddress.port}` });
    try {
      await n.produce();
      const params = n.app.consensusParams();
      // two deposits' gas (200,000 each)
      n.app.consensusParams = () => ({ ...params, block: { ...params.block, maxGas: 450_000n } });
      const tr = await Trader.create({ client: c, signer: key! });
      const deposits = Promise.all([tr.deposit('1'), tr.deposit('2'), tr.deposit('3')]);
      await waitFor(() => n.mempool.size === 3, 20_000, 'three txs in the mempool');
      const first = (await n.produce()).txs.length;
      const second = (await n.produce()).txs.length;
      await deposits;
      return { first, second };
    } finally {
      c.close();
      await n.stop();
    }
  },
};

function json(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

async function main(): Promise<void> {
  const [tmp, ...names] = process.argv.slice(2);
  const unknown = names.filter((n) => !(n in scenarios));
  if (!tmp || unknown.length) throw new Error(`usage: scenarios.ts <work dir> [${Object.keys(scenarios).join(' ')}] (unknown: ${unknown.join(', ')})`);
  for (const name of names.length ? names : Object.keys(scenarios)) {
    let line: string;
    try {
      const result = await scenarios[name]!(join(tmp, name));
      // every node of the scenario is stopped: what still holds this process open (the parent also sees it
      // as a child that does not end)
      const active = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
      line = json({ ...result, exitCode: process.exitCode ?? null, active });
    } catch (e) {
      line = json({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
    console.log(`RESULT ${name} ${line}`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1; // (this script's own process)
});
